"""The web pages in a real Chromium against the real platform: a voter, a contestant and a moderator.

Every check waits for an element or a text (Playwright's expect); none measures time.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.demo import tone_wav
from tests.browser.accounts import sign_up_and_verify
from tests.browser.conftest import RunningPlatform

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI=true) and says why
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser


def test_voter_listens_votes_and_sees_the_vote(page: Any, platform: RunningPlatform) -> None:
    page.goto("/")
    page.locator("#open-contests").get_by_role("link", name="Spring Song Contest").click()
    expect(page).to_have_url(re.compile(r"/contests/spring-song-contest-\d+$"))
    expect(page.locator("#contest-title")).to_have_text("Spring Song Contest")

    # The first song's player loads its file from the API and plays.
    player = page.locator(".song audio").first
    expect(player).to_have_attribute("src", re.compile(r"^/api/songs/\d+/audio$"))
    page.wait_for_function("() => document.querySelector('.song audio').readyState >= 1")
    assert player.evaluate("audio => audio.duration") > 0
    player.evaluate("audio => audio.play()")
    page.wait_for_function("() => document.querySelector('.song audio').currentTime > 0")
    player.evaluate("audio => audio.pause()")

    # Anonymous: the page asks to log in; the link comes back here after signing up and logging in.
    expect(page.locator("#remaining")).to_have_text("Log in to vote.")
    page.locator("#remaining").get_by_role("link", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    sign_up_and_verify(page, platform)
    expect(page).to_have_url(re.compile(r"/contests/spring-song-contest-\d+$"))

    left = page.locator("#votes-left")
    expect(left).to_have_text(re.compile(r"^\d+$"))
    before = int(left.inner_text())
    title = page.locator(".song h3").first.inner_text()
    vote_button = page.get_by_role("button", name=f"Vote for {title}", exact=True)

    vote_button.click()
    message = page.locator("#vote-message")
    expect(message).to_contain_text(f"Your vote for “{title}” is recorded.")
    expect(left).to_have_text(str(before - 1))
    expect(page.locator(".song .actions .hint").first).to_have_text("You voted for this song today.")

    # The same song again today: refused, in plain words.
    vote_button.click()
    expect(message).to_have_text(
        "You have already voted for this song today. You can vote for it again tomorrow."
    )
    expect(message).to_have_attribute("data-kind", "error")
    expect(left).to_have_text(str(before - 1))

    # Another song still can be voted for (this vote is kept: the moderator test may find it flagged,
    # since a headless browser's user agent is one of the fraud signals).
    second = page.locator(".song h3").nth(1).inner_text()
    page.get_by_role("button", name=f"Vote for {second}", exact=True).click()
    expect(message).to_contain_text(f"Your vote for “{second}” is recorded.")
    expect(left).to_have_text(str(before - 2))

    # My votes: the vote with its status and the API's explanation; then take it back.
    page.get_by_role("navigation").get_by_role("link", name="My votes").click()
    expect(page).to_have_url(re.compile(r"/me/votes$"))
    rows = page.locator("#votes tbody tr")
    expect(rows).to_have_count(2)
    row = rows.filter(has=page.get_by_role("cell", name=title, exact=True))
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", re.compile(r"^(pending|valid|suspicious|cleared)$"))
    expect(row.locator(".explanation")).to_contain_text("Your vote")

    row.get_by_role("button", name=f"Take back my vote for {title}").click()
    expect(page.locator("#status")).to_have_text(f"Your vote for “{title}” was taken back.")
    row = rows.filter(has=page.get_by_role("cell", name=title, exact=True))
    expect(row).to_have_attribute("data-status", "retracted")
    expect(row.locator(".explanation")).to_have_text("You took this vote back; it does not count.")


@pytest.fixture
def upcoming_vote_contest(platform: RunningPlatform) -> str:
    """A contest taking submissions whose voting opens tomorrow (songs can still be withdrawn); its title."""
    title = f"Autumn Contest {uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    with httpx.Client(base_url=platform.base_url, timeout=10) as client:
        token = client.get("/api/auth/csrf").json()["csrf_token"]
        headers = {"x-csrftoken": token}
        login = {"login": platform.admin_login, "password": platform.admin_password}
        client.post("/api/auth/login", json=login, headers=headers).raise_for_status()
        headers = {"x-csrftoken": client.cookies["csrftoken"]}  # renewed with the session at login
        created = client.post(
            "/api/contests/",
            headers=headers,
            json={
                "slug": title.lower().replace(" ", "-"),
                "title": title,
                "submission_opens_at": (now - timedelta(hours=1)).isoformat(),
                "submission_closes_at": (now + timedelta(days=2)).isoformat(),
                "voting_opens_at": (now + timedelta(days=1)).isoformat(),
                "voting_closes_at": (now + timedelta(days=3)).isoformat(),
            },
        )
        created.raise_for_status()
        client.post(f"/api/contests/{created.json()['id']}/open", headers=headers).raise_for_status()
    return title


def test_contestant_uploads_and_withdraws_a_song(
    page: Any, platform: RunningPlatform, tmp_path: Path, upcoming_vote_contest: str
) -> None:
    audio = tmp_path / "my-first-song.wav"
    audio.write_bytes(tone_wav(330.0, seconds=31.0))

    page.goto("/login?next=/me/songs")
    sign_up_and_verify(page, platform, contestant=True)
    expect(page).to_have_url(re.compile(r"/me/songs$"))
    expect(page.locator("#upload-form")).to_be_visible()
    page.get_by_label("Contest").select_option(label=f"{upcoming_vote_contest} (submission)")
    page.get_by_label("Audio file").set_input_files(str(audio))
    page.get_by_label("Title").fill("Browser Song")
    page.get_by_label("Artist name").fill("The Testers")
    page.get_by_role("button", name="Upload").click()

    expect(page.locator("#upload-message")).to_contain_text("Uploaded “Browser Song”")
    row = page.locator("#submissions tbody tr").first
    expect(row).to_contain_text("Browser Song")
    expect(row).to_contain_text(upcoming_vote_contest)
    expect(row).to_contain_text("my-first-song.wav")
    expect(row).to_have_attribute(
        "data-status", re.compile(r"^(uploaded|processing|approved|pending_review|rejected|duplicate)$")
    )

    # Voting has not opened yet: the song can be withdrawn (after a confirmation).
    withdraw = row.get_by_role("button", name="Withdraw Browser Song")
    if withdraw.count():  # absent only if the media checks have meanwhile refused the file
        page.once("dialog", lambda dialog: dialog.accept())
        withdraw.click()
        expect(page.locator("#status")).to_have_text("“Browser Song” was withdrawn.")
        expect(row).to_have_attribute("data-status", "withdrawn")


def test_moderator_sees_the_cases(page: Any, platform: RunningPlatform) -> None:
    page.goto("/moderation")
    expect(page.locator("#status")).to_contain_text("Log in with a moderator account.")
    page.locator("#status").get_by_role("link", name="Log in").click()
    page.get_by_label("Email or username").fill(platform.admin_login)
    page.get_by_label("Password", exact=True).first.fill(platform.admin_password)
    page.get_by_role("button", name="Log in", exact=True).click()

    expect(page).to_have_url(re.compile(r"/moderation\?contest=[a-z0-9-]+$"))
    expect(page.locator("#cases-section")).to_be_visible()
    page.get_by_label("Contest").select_option(label="Spring Song Contest (submission and voting)")
    page.get_by_role("button", name="Show cases").click()
    expect(page).to_have_url(re.compile(r"/moderation\?contest=spring-song-contest-\d+$"))
    # Empty or not depends on what the fraud worker flagged so far; either way the list rendered.
    expect(page.locator("#status")).to_have_text(
        re.compile(r"^(\d+ case\(s\) shown|No open cases) (for|in) Spring Song Contest\.$")
    )
    cases = page.locator("#cases > li")
    if cases.count():
        first = cases.first
        expect(first.get_by_role("heading", name="Reasons")).to_be_visible()
        first.get_by_role("button", name="Show the votes").click()
        expect(first.locator("table.evidence tbody tr").first).to_be_visible()
        expect(first.get_by_role("button", name="Clear: count these votes")).to_be_enabled()


def test_unknown_contest_says_so(page: Any) -> None:
    page.goto("/contests/no-such-contest")
    expect(page.locator("#contest-title")).to_have_text("Contest not found")
    expect(page.locator("#status")).to_contain_text("There is no such contest.")
    expect(page.locator("#status").get_by_role("link", name="See all contests")).to_be_visible()
