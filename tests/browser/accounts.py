"""Account steps in the browser, for any journey that needs a new account: sign up on the page, open the
confirmation link from the embedded mode's outbox (as a mail client would, in a tab of its own), log in.

    account = sign_up_and_verify(page, platform, contestant=True)  # from the login or sign-up page
"""

from __future__ import annotations

import email
import re
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from typing import Any

from tests.browser.conftest import RunningPlatform

PASSWORD = "browser-test-password-7"
MAIL_WAIT_SECONDS = 90  # the worker may be busy with a song's media checks first
LINK = re.compile(r"https?://\S+#token=[A-Za-z0-9_-]+")
CONFIRM_SUBJECT = "Confirm your email address for Ovation"
RESET_SUBJECT = "Reset your Ovation password"


@dataclass(frozen=True)
class WebAccount:
    username: str
    email: str
    password: str


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def mailed_link(platform: RunningPlatform, to: str, subject: str, *, seen: set[str] | None = None) -> str:
    """The link in the newest message with this subject to this address in the outbox folder (waits for the
    worker to write it); ``seen``: links already used, to wait for a newer message."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    folder = platform.data_dir / "outbox"
    while True:
        for path in sorted(folder.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=default)
            assert isinstance(message, EmailMessage)
            if message["To"] != to or message["Subject"] != subject:
                continue
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            found = LINK.search(str(body.get_content()))
            assert found, f"no link in {path}"
            if not seen or found.group(0) not in seen:
                return found.group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no “{subject}” mail to {to} in {folder}")
        time.sleep(0.3)


def sign_up(page: Any, *, contestant: bool = False) -> WebAccount:
    """Fill in the sign-up form (following “Create an account” from the login page, keeping its ?next=)."""
    expect = _expect()
    if "/signup" not in page.url:
        link = page.locator("#signup-link")  # the login page's own link keeps its ?next=...
        if "next=" in page.url:  # ...once login.js has set it: a click before that would drop it
            expect(link).to_have_attribute("href", re.compile(r"^/signup\?next="))
        link.click()
    expect(page.locator("#signup-form")).to_be_visible()
    username = f"web-{uuid.uuid4().hex[:10]}"
    account = WebAccount(username, f"{username}@example.com", PASSWORD)
    page.get_by_label("Email", exact=True).fill(account.email)
    page.get_by_label("Username", exact=True).fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)
    if contestant:
        page.get_by_label("I also want to submit songs (contestant account)").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#check-inbox")).to_be_visible()
    expect(page.locator("#inbox-text")).to_contain_text(account.email)
    return account


def confirm_address(page: Any, platform: RunningPlatform, account: WebAccount) -> str:
    """Open the confirmation link in a new tab of the same browser; returns the link."""
    expect = _expect()
    link = mailed_link(platform, account.email, CONFIRM_SUBJECT)
    tab = page.context.new_page()
    try:
        tab.goto(link)
        expect(tab.locator("#status")).to_have_text(
            f"Your address {account.email} is confirmed. Thank you, {account.username}."
        )
        expect(tab.locator("#next-step").get_by_role("link")).to_be_visible()
    finally:
        tab.close()
    return link


def log_in(page: Any, account: WebAccount, password: str | None = None) -> None:
    """On the login page: log in and wait for the site header to show the account."""
    expect = _expect()
    page.get_by_label("Email or username").fill(account.username)
    page.get_by_label("Password", exact=True).fill(password or account.password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator("#whoami")).to_have_text(f"Logged in as {account.username}")


def sign_up_and_verify(page: Any, platform: RunningPlatform, *, contestant: bool = False) -> WebAccount:
    """A new account with a confirmed address, logged in, back on the page the login page was asked for."""
    account = sign_up(page, contestant=contestant)
    confirm_address(page, platform, account)
    inbox_login = page.locator("#check-inbox").get_by_role("link", name="log in")
    if "next=" in page.url:
        _expect()(inbox_login).to_have_attribute("href", re.compile(r"^/login\?next="))
    inbox_login.click()
    log_in(page, account)
    return account
