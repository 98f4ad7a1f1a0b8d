"""Accounts from the owner's side: signing up with a verified address, logging in under a throttle, recovering
a forgotten password, changing the password or address, becoming a contestant.

Every mailed link is single-use, expiring and unforgeable (``tokens``); every answer that names an address
reads the same whether or not the address has an account (the mail to that address tells the difference).
"""
