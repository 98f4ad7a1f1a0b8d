"""Account journeys in a real Chromium: sign up and confirm from the embedded outbox, reset a forgotten
password, and every bad link (reused, forged, missing) ending in a clear message with nothing changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.accounts import (
    CONFIRM_SUBJECT,
    RESET_SUBJECT,
    confirm_address,
    log_in,
    mailed_link,
    sign_up,
    sign_up_and_verify,
)
from tests.browser.conftest import RunningPlatform
from tests.browser.screens import screenshot_folder, shoot

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI=true) and says why
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-new-browser-passphrase-5"
RESET_ANSWER = "If this address belongs to an account, we sent it a link to choose a new password."


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_folder(tmp_path_factory.mktemp("screenshots"))


def test_a_new_account_confirms_its_address_and_logs_in(
    page: Any, platform: RunningPlatform, shots: Path
) -> None:
    page.goto("/login?next=/account")
    shoot(page, shots, "login")
    account = sign_up_and_verify(page, platform)
    page.wait_for_url("**/account")
    expect(page.locator("#account-email")).to_have_text(account.email)
    expect(page.locator("#account-verified")).to_have_text("confirmed")
    shoot(page, shots, "account")

    # The same link a second time: said plainly, and a new one can be asked for.
    link = mailed_link(platform, account.email, CONFIRM_SUBJECT)
    page.goto(link)
    expect(page.locator("#status")).to_have_text(
        "This link was already used, or a newer one was sent since. Ask for a new one."
    )
    expect(page.locator("#resend-form")).to_be_visible()
    shoot(page, shots, "verify-email-used-link")


def test_forged_or_missing_confirmation_links_confirm_nothing(
    page: Any, platform: RunningPlatform, shots: Path
) -> None:
    page.goto("/signup")
    shoot(page, shots, "signup")
    account = sign_up(page)
    shoot(page, shots, "signup-check-inbox")
    link = mailed_link(platform, account.email, CONFIRM_SUBJECT)
    page.goto(link[:-3] + "xyz")  # altered
    expect(page.locator("#status")).to_have_text(
        "This link is not valid. Open the newest link we mailed you, as a whole."
    )
    page.goto("/verify-email")
    expect(page.locator("#status")).to_contain_text("needs the whole link from the confirmation mail")
    page.get_by_label("Your email address").fill(account.email)
    page.get_by_role("button", name="Send a new link").click()
    expect(page.locator("#status")).to_have_text(
        "If this address belongs to an account that is not confirmed yet, we sent it a new link."
    )
    # Nothing was confirmed by the bad links: the real one still works.
    confirm_address(page, platform, account)


def test_a_user_resets_a_forgotten_password(page: Any, platform: RunningPlatform, shots: Path) -> None:
    page.goto("/login?next=/account")
    account = sign_up_and_verify(page, platform)
    page.wait_for_url("**/account")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()

    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(f"nobody-{account.username}@example.com")  # an unknown address...
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#status")).to_have_text(RESET_ANSWER)
    page.get_by_label("Email").fill(account.email)  # ...answers like a known one
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#status")).to_have_text(RESET_ANSWER)
    shoot(page, shots, "forgot-password")

    link = mailed_link(platform, account.email, RESET_SUBJECT)
    page.goto(link)
    form = page.locator("#reset-form")
    page.get_by_label("New password").fill("short")
    page.get_by_label("The same again").fill("short")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#status")).to_have_text("Password must be at least 10 characters.")
    expect(form).to_be_visible()  # the link still works for the next try
    shoot(page, shots, "reset-password-weak")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("The same again").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#status")).to_have_text("The two passwords are not the same.")
    page.get_by_label("The same again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#status")).to_contain_text("Your password is changed")
    expect(form).to_be_hidden()
    shoot(page, shots, "reset-password-done")

    page.locator("#status").get_by_role("link", name="Log in with the new password").click()
    page.get_by_label("Email or username").fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)  # the old one no longer works
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator("#status")).to_have_text("Wrong email/username or password.")
    log_in(page, account, NEW_PASSWORD)

    # The link is spent: opening it again says so, and points to a new one.
    page.goto(link)
    page.get_by_label("New password").fill("yet-another-passphrase-9")
    page.get_by_label("The same again").fill("yet-another-passphrase-9")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#status")).to_contain_text("This link was already used")
    expect(page.locator("#status").get_by_role("link", name="Ask for a new link")).to_be_visible()
    expect(form).to_be_hidden()


def test_a_forged_or_missing_reset_link_changes_nothing(page: Any) -> None:
    page.goto("/reset-password")
    expect(page.locator("#status")).to_contain_text("needs the whole link from the reset mail")
    expect(page.locator("#reset-form")).to_be_hidden()
    page.goto("/")  # a link opened from a mail loads the page afresh (not a jump within it)
    page.goto("/reset-password#token=" + "A" * 43)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("The same again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#status")).to_contain_text("This link is not valid.")
    assert "token" not in page.url  # the token left the address bar (and the history)


def test_a_voter_becomes_a_contestant_without_a_second_account(page: Any, platform: RunningPlatform) -> None:
    page.goto("/login?next=/me/songs")
    sign_up_and_verify(page, platform)
    page.wait_for_url("**/me/songs")
    expect(page.locator("#status")).to_contain_text("make your account a contestant account first")
    page.locator("#status").get_by_role("link", name="Become a contestant").click()
    page.get_by_role("button", name="Become a contestant").click()
    expect(page.locator("#status")).to_have_text("You are a contestant now. Submit a song")
    expect(page.locator("#account-roles")).to_have_text("contestant, voter")
    page.locator("#status").get_by_role("link", name="Submit a song").click()
    expect(page.locator("#upload-form")).to_be_visible()
