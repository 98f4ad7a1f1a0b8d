"""Outgoing mail: written to the database in the transaction that asks for it (``outbox``), sent after the
commit by the mail task through SMTP or into a folder (``delivery``)."""
