"""The texts of account mail: plain text, each with the one link it is for. Links are built from the
configured public address only (OVATION_PUBLIC_URL), never from a request's Host header."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.mail.outbox import queue_mail
from core.settings import MailSettings


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    subject: str
    body: str


SIGNATURE = "\n\n-- \nOvation\n"


async def post(session: AsyncSession, to: str, message: Message) -> None:
    """Queue the message in the caller's transaction (sent once it commits)."""
    await queue_mail(session, to=to, subject=message.subject, body=message.body, kind=message.kind)


def _page(mail: MailSettings, path: str) -> str:
    return f"{mail.public_url}{path}"


def verify_link(mail: MailSettings, token: str) -> str:
    # In the fragment: browsers do not send it to any server, so it stays out of access logs and Referer.
    return _page(mail, f"/verify-email#token={token}")


def reset_link(mail: MailSettings, token: str) -> str:
    return _page(mail, f"/reset-password#token={token}")


def verify_email(mail: MailSettings, *, username: str, email: str, token: str) -> Message:
    body = (
        f"Hello {username},\n\n"
        f"open this link to confirm that {email} is your address on Ovation:\n\n"
        f"{verify_link(mail, token)}\n\n"
        f"The link works once, within {mail.verify_link_hours} hours. If you did not ask for this, ignore "
        "this message: nothing changes."
    )
    return Message("verify_email", "Confirm your email address for Ovation", body + SIGNATURE)


def account_exists(mail: MailSettings, *, username: str, verify_token: str | None) -> Message:
    """To an address someone tried to sign up with, which already has an account."""
    body = (
        f"Hello {username},\n\n"
        "someone (perhaps you) tried to create an Ovation account with this address. It already has one, "
        f"with the username {username}, so no new account was made.\n\n"
        f"To log in: {_page(mail, '/login')}\n"
        f"Forgot your password? {_page(mail, '/forgot-password')}\n"
    )
    if verify_token is not None:
        body += f"\nThis address is not confirmed yet; to confirm it: {verify_link(mail, verify_token)}\n"
    body += "\nIf it was not you, ignore this message."
    return Message("account_exists", "Someone tried to sign up with your address", body + SIGNATURE)


def reset_password(mail: MailSettings, *, username: str, token: str) -> Message:
    body = (
        f"Hello {username},\n\n"
        f"to choose a new password for your Ovation account, open this link:\n\n{reset_link(mail, token)}\n\n"
        f"The link works once, within {mail.reset_link_minutes} minutes. Setting a new password signs out "
        "every browser logged in to the account. If you did not ask for this, ignore this message: your "
        "password stays as it is."
    )
    return Message("reset_password", "Reset your Ovation password", body + SIGNATURE)


def password_changed(mail: MailSettings, *, username: str) -> Message:
    body = (
        f"Hello {username},\n\n"
        "the password of your Ovation account was just changed, and the other browsers logged in to it were "
        f"signed out. If this was not you, choose a new one now: {_page(mail, '/forgot-password')}"
    )
    return Message("password_changed", "Your Ovation password was changed", body + SIGNATURE)


def address_taken(mail: MailSettings) -> Message:
    """To an address someone asked to move their account to, which already has an account."""
    body = (
        "Hello,\n\n"
        "someone asked to move an Ovation account to this address. It already belongs to an account, so "
        "nothing changed. If that account is yours and you forgot its password: "
        f"{_page(mail, '/forgot-password')}"
    )
    return Message("address_taken", "An Ovation account change was refused", body + SIGNATURE)


def address_changed(mail: MailSettings, *, username: str, new_email: str) -> Message:
    """To the old address once the new one is confirmed."""
    body = (
        f"Hello {username},\n\n"
        f"the address of your Ovation account is now {new_email}; mail about it no longer comes here. If "
        "this was not you, someone who knows your password made the change: tell the contest's organisers."
    )
    return Message("address_changed", "Your Ovation address was changed", body + SIGNATURE)
