"""Reason codes in plain words for the voter whose vote is under review.

Voters see why in general terms, never the figures or thresholds: those are for moderators, and telling a vote
farm exactly which number tripped would help it stay under the next time.
"""

from __future__ import annotations

PLAIN_WORDS: dict[str, str] = {
    "ip_velocity": "many votes came from the same internet address in a short time",
    "ip_prefix_velocity": "many votes came from the same network in a short time",
    "device_fingerprint_velocity": "many votes came from the same device in a short time",
    "device_cookie_velocity": "many votes came from the same browser in a short time",
    "account_velocity": "your account voted unusually fast",
    "accounts_per_network": "many new accounts voted from the same network",
    "network_lockstep": "accounts on your network voted in lockstep",
    "shared_device_accounts": "several accounts voted from the same device",
    "new_account": "the account is very new",
    "unverified_email": "the email address is not verified",
    "disposable_email": "the email address is from a disposable-mail service",
    "sequential_email": "the account looks like one of a numbered series",
    "hosting_asn": "the vote came through a data centre or VPN network",
    "datacenter_burst": "a burst of votes came through data centre networks",
    "ipv6_range_rotation": "votes for one song came from many networks of one internet provider range",
    "ineligible_country": "the vote came from outside the contest's countries",
    "geo_mismatch": "your location, time zone and language do not agree",
    "scripted_user_agent": "the vote came from an automated browser or script",
    "fingerprint_missing": "your browser did not identify itself",
    "device_cookie_missing": "your browser did not keep our cookie",
    "robotic_timing": "the votes came at machine-like regular intervals",
    "vote_after_signup": "the vote came seconds after the account was created",
    "song_burst": "the song received a sudden burst of votes",
    "fresh_account_surge": "the song received unusually many votes from brand-new accounts",
    "dormant_account_switch": "old accounts came back from new networks and devices to vote for one song",
    "coordinated_group": "a group of accounts voted for the same songs at the same times",
    "signup_cohort": "the account was created together with others that all vote for the same song",
}


def plain_words(code: str) -> str:
    return PLAIN_WORDS.get(code, "an unusual voting pattern")
