"""A voter appeals a held vote from "My votes", the moderator sees the appeal in the case, and the voter then
reads the decision and its reason, in a real Chromium."""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.accounts import sign_up_and_verify
from tests.browser.conftest import RunningPlatform
from tests.browser.screens import screenshot_folder, shoot

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI=true) and says why
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

CASE = "device:browser-appeal-test"
NOTE = "I voted once, from my own phone at home."
REASON = "One honest vote from a shared device; counted."


def _hold_my_vote(platform: RunningPlatform, username: str) -> int:
    """Once the worker has scored the account's vote, hold it for review as scoring would for a suspicious
    one (the test's stand-in for a fraud signal: what matters here is what the voter can do about it)."""
    database = platform.data_dir / "ovation.sqlite3"
    deadline = time.monotonic() + 90
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        while True:
            row = connection.execute(
                "SELECT votes.id FROM votes JOIN users ON users.id = votes.voter_id "
                "WHERE users.username = ? AND votes.scored_at IS NOT NULL",
                (username,),
            ).fetchone()
            if row is not None:
                break
            assert time.monotonic() < deadline, "the worker did not score the vote"
            time.sleep(0.3)
        with connection:
            connection.execute(
                "UPDATE votes SET status = 'suspicious', case_key = ? WHERE id = ?", (CASE, row[0])
            )
    return int(row[0])


def _decide_as_admin(platform: RunningPlatform, contest_id: int) -> None:
    with httpx.Client(base_url=platform.base_url, timeout=10) as client:
        token = client.get("/api/auth/csrf").json()["csrf_token"]
        login = {"login": platform.admin_login, "password": platform.admin_password}
        client.post("/api/auth/login", json=login, headers={"x-csrftoken": token}).raise_for_status()
        decided = client.post(
            f"/api/moderation/contests/{contest_id}/case/decision",
            json={"key": CASE, "decision": "clear", "note": REASON},
            headers={"x-csrftoken": client.cookies["csrftoken"]},
        )
        decided.raise_for_status()


def test_a_voter_appeals_a_held_vote_and_reads_the_decision(
    page: Any, browser: Any, platform: RunningPlatform, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots: Path = screenshot_folder(tmp_path_factory.mktemp("screenshots"))
    page.goto("/")
    page.locator("#open-contests").get_by_role("link", name="Spring Song Contest").click()
    page.locator("#remaining").get_by_role("link", name="Log in").click()
    account = sign_up_and_verify(page, platform)
    expect(page).to_have_url(re.compile(r"/contests/spring-song-contest-\d+$"))
    slug = page.url.rsplit("/", 1)[1]
    title = page.locator(".song h3").first.inner_text()
    page.get_by_role("button", name=f"Vote for {title}", exact=True).click()
    expect(page.locator("#vote-message")).to_contain_text(f"Your vote for “{title}” is recorded.")
    vote_id = _hold_my_vote(platform, account.username)

    page.goto("/me/votes")
    row = page.locator(f"#votes tbody tr[data-vote-id='{vote_id}']")
    expect(row).to_have_attribute("data-status", "suspicious")
    row.get_by_role("button", name=f"Appeal the hold on my vote for {title}").click()
    row.get_by_label("Why is this vote honest? (once, short)").fill(NOTE)
    row.get_by_role("button", name="Send the appeal").click()
    expect(page.locator("#status")).to_have_text(f"Your appeal for the vote for “{title}” was sent.")
    row = page.locator(f"#votes tbody tr[data-vote-id='{vote_id}']")
    expect(row.locator(".appeal")).to_contain_text(f"“{NOTE}”")
    expect(row.locator(".appeal")).to_contain_text("A moderator will look at it.")
    expect(row.get_by_role("button", name=re.compile("^Appeal"))).to_have_count(0)  # once
    shoot(page, shots, "my-votes-appealed")

    # The moderator's case shows the appeal, with its note.
    moderator = browser.new_context(base_url=platform.base_url, viewport={"width": 1280, "height": 900})
    try:
        desk = moderator.new_page()
        desk.goto("/login?next=/moderation")
        desk.get_by_label("Email or username").fill(platform.admin_login)
        desk.get_by_label("Password", exact=True).fill(platform.admin_password)
        desk.get_by_role("button", name="Log in", exact=True).click()
        expect(desk.locator("#cases-section")).to_be_visible()
        desk.goto(f"/moderation?contest={slug}")  # the contest's cases, loaded once (no list redrawn later)
        expect(desk.locator("#status")).to_contain_text("case(s) shown for Spring Song Contest")
        case = desk.locator(f"#cases > li[data-key='{CASE}']")
        expect(case.locator(".appeal-count")).to_contain_text("1 appeal(s)")
        case.get_by_role("button", name="Show the votes").click()
        expect(case.locator("section.appeals")).to_contain_text(f"“{NOTE}”")
    finally:
        moderator.close()

    _decide_as_admin(platform, platform.contest_id)
    page.reload()
    row = page.locator(f"#votes tbody tr[data-vote-id='{vote_id}']")
    expect(row).to_have_attribute("data-status", "cleared")
    expect(row.locator(".appeal")).to_contain_text("Decision: your vote counts.")
    expect(row.locator(".appeal")).to_contain_text(f"The moderator's reason: “{REASON}”")
    shoot(page, shots, "my-votes-appeal-decided")
