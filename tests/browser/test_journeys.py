"""Each group's whole job in a real Chromium against the real platform (embedded mode, real worker):

an admin creates and opens a contest; a contestant uploads a song with a progress bar and sees it approved; a
second contestant uploads a near-duplicate and a moderator rejects it from the review page; voters vote and
the board moves without a reload; a burst of scripted votes is flagged and a moderator confirms the case.
Every page is also screenshotted at desktop and phone width (into $OVATION_SCREENSHOT_DIR when set, e.g.
docs/screenshots; a temporary folder otherwise).

The tests run in file order and share one contest (a journey needs the one before it). Every check waits for
an element or a text; none measures time.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import RunningPlatform
from tests.support.audio import melody_wav

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI=true) and says why
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

PASSWORD = "journey-password-2026"
# Votes from an ordinary desktop browser: a headless user agent is itself a fraud signal.
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
SCRIPT_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("OVATION_SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def shoot(page: Any, shots: Path, name: str) -> None:
    """The page as it is now, at desktop and at phone width (the page re-lays itself out; no reload)."""
    size = page.viewport_size
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # one layout pass; what is shown was already waited for
        page.screenshot(path=str(shots / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)


def account(platform: RunningPlatform, *roles: str) -> str:
    name = f"j-{uuid.uuid4().hex[:10]}"
    args = ["users", "create", "--email", f"{name}@example.com", "--username", name]
    for role in roles:
        args += ["--role", role]
    platform.ovation(*args, OVATION_NEW_USER_PASSWORD=PASSWORD)
    return name


@pytest.fixture
def person(browser: Any, platform: RunningPlatform) -> Iterator[Any]:
    """Opens pages for one person: a context of their own, logged in through the login page."""
    contexts = []

    def open_as(username: str | None, *, user_agent: str = DESKTOP_UA) -> Any:
        context = browser.new_context(
            base_url=platform.base_url, viewport={"width": 1280, "height": 900}, user_agent=user_agent
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors
        if username:
            page.goto("/login")
            page.get_by_label("Email or username").fill(username)
            page.locator("#login-password").fill(PASSWORD)
            page.get_by_role("button", name="Log in", exact=True).click()
            expect(page.locator("#whoami")).to_have_text(f"Logged in as {username}")
        return page

    expect.set_options(timeout=30_000)
    yield open_as
    for context in contexts:
        for page in context.pages:
            assert not page.errors, f"uncaught errors in the page: {page.errors}"
        context.close()


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M")  # the browser runs in this machine's zone


def test_an_admin_creates_and_opens_a_contest(person: Any, platform: RunningPlatform, shots: Path) -> None:
    admin = person(platform.admin_login and account(platform, "admin"))
    admin.goto("/admin")
    expect(admin.locator("#contests tbody tr").first).to_be_visible()
    shoot(admin, shots, "admin-contests")
    admin.get_by_role("link", name="New contest").click()
    expect(admin).to_have_url(re.compile(r"/admin/contests/new$"))

    title = f"Journey Contest {uuid.uuid4().hex[:6]}"
    slug = title.lower().replace(" ", "-")
    now = datetime.now(UTC)
    admin.get_by_label("Address (slug)").fill(slug)
    admin.get_by_label("Title").fill(title)
    # Bad input first: voting that closes before it opens, and an unknown country.
    admin.get_by_label("Submissions open").fill(_local(now - timedelta(hours=1)))
    admin.get_by_label("Submissions close").fill(_local(now + timedelta(days=2)))
    admin.get_by_label("Voting opens").fill(_local(now - timedelta(minutes=30)))
    admin.get_by_label("Voting closes").fill(_local(now - timedelta(hours=2)))
    admin.get_by_label("Shortest song (seconds)").fill("5")
    admin.get_by_label("Longest song (seconds)").fill("120")
    admin.get_by_label("Votes per voter per day").fill("-2")
    save = admin.get_by_role("button", name="Save")
    save.click()
    message = admin.locator("#form-message")
    expect(message).to_contain_text("Voting must close after it opens.")
    expect(message).to_contain_text("Votes per voter per day: a whole number from 1")
    admin.get_by_label("Voting closes").fill(_local(now + timedelta(days=3)))
    admin.get_by_label("Votes per voter per day").fill("5")
    admin.locator("#f-eligible_countries").fill("SE, XX")
    save.click()
    expect(message).to_contain_text("unknown: XX")  # the server's own check, in words
    expect(message).to_have_attribute("data-kind", "error")
    admin.locator("#f-eligible_countries").fill("")
    shoot(admin, shots, "admin-contest-new")
    save.dblclick()  # a double click creates one contest

    expect(admin).to_have_url(re.compile(r"/admin/contests/\d+\?created=1$"))
    created = re.search(r"/admin/contests/(\d+)", admin.url)
    assert created is not None
    contest_id = int(created.group(1))
    expect(admin.locator("#status")).to_contain_text("created as a draft")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="Open the contest").click()
    expect(admin.locator("#action-message")).to_have_text("The contest is open.")
    expect(admin.locator("#contest-state")).to_contain_text("open")
    shoot(admin, shots, "admin-contest")

    with httpx.Client(base_url=platform.base_url, timeout=10) as client:
        listed = client.get("/api/contests/", params={"status": "open", "limit": 100}).json()["items"]
    assert [c["slug"] for c in listed].count(slug) == 1  # the double click made one contest
    STATE.update(contest_id=contest_id, title=title, slug=slug, admin=admin)

    admin.goto(f"/admin/audit?contest_id={contest_id}")
    expect(admin.locator("#entries tbody tr")).to_have_count(2)
    expect(admin.locator("#entries tbody tr").first).to_have_attribute("data-action", "contest.open")
    shoot(admin, shots, "admin-audit")
    admin.goto("/admin/users")
    expect(admin.locator("#users > li").first).to_be_visible()
    shoot(admin, shots, "admin-users")


def test_an_admin_finds_a_voter_changes_roles_bans_and_unbans(person: Any, platform: RunningPlatform) -> None:
    voter = account(platform)
    admin = person(account(platform, "admin"))
    admin.goto("/admin/users")
    admin.get_by_label("Name, email or id").fill(voter)
    admin.get_by_role("button", name="Search").click()
    item = admin.locator("#users > li")
    expect(item).to_have_count(1)
    expect(item).to_have_attribute("data-status", "active")
    item.get_by_label("contestant").check()
    item.get_by_role("button", name="Save roles").dblclick()
    expect(item.locator(".user-message")).to_have_text(f"Roles of {voter}: contestant, voter.")

    item.get_by_text(f"Ban {voter}…").click()
    ban = item.get_by_role("button", name=f"Ban {voter}", exact=True)
    ban.click()
    expect(item.locator(".user-message")).to_have_text("Write why before banning.")
    item.get_by_label("Reason for a ban (kept in the audit log)").fill("Sold votes on a forum.")
    admin.once("dialog", lambda dialog: dialog.accept())
    ban.click()
    item = admin.locator("#users > li")
    expect(item).to_have_attribute("data-status", "banned")
    expect(item).to_contain_text("Banned: Sold votes on a forum.")

    item.get_by_text(f"Unban {voter}…").click()
    item.get_by_label("Reason to unban (kept in the audit log)").fill("The forum post was not theirs.")
    item.get_by_role("button", name=f"Unban {voter}").dblclick()
    item = admin.locator("#users > li")
    expect(item).to_have_attribute("data-status", "active")
    admin.goto("/admin/audit?action=user.")
    expect(admin.locator("#entries tbody tr").first).to_have_attribute("data-action", "user.unban")


def _upload(page: Any, path: Path, title: str) -> None:
    page.goto("/me/songs")
    page.get_by_label("Contest").select_option(label=f"{STATE['title']} (submission and voting)")
    page.get_by_label("Audio file").set_input_files(str(path))
    page.get_by_label("Title").fill(title)
    page.get_by_label("Artist name").fill("The Journeys")
    page.get_by_role("button", name="Upload").click()


def test_a_contestant_uploads_with_progress_and_sees_the_song_approved(
    person: Any, platform: RunningPlatform, shots: Path, tmp_path: Path
) -> None:
    contestant = person(account(platform, "contestant"))
    song = melody_wav(tmp_path / "first-song.wav", seed=401, seconds=20.0)
    # A slow link, so that the bar can be seen moving and the upload cancelled midway.
    cdp = contestant.context.new_cdp_session(contestant)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 150_000},
    )
    _upload(contestant, song, "First Light")
    figures = contestant.locator("#upload-figures")
    expect(figures).to_have_text(
        re.compile(r"^[\d.]+ (kB|MB|bytes) of [\d.]+ kB sent \((?:[1-9]|[1-9]\d)%\)$")
    )
    shoot(contestant, shots, "my-songs-uploading")
    contestant.get_by_role("button", name="Cancel upload").click()
    expect(contestant.locator("#upload-message")).to_have_text(
        "Upload of first-song.wav cancelled: nothing was submitted."
    )
    expect(contestant.locator("#submissions tbody tr")).to_have_text(["No submissions yet."])

    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    contestant.get_by_label("Title").fill("First Light")
    contestant.get_by_label("Artist name").fill("The Journeys")
    contestant.get_by_label("Audio file").set_input_files(str(song))
    contestant.get_by_role("button", name="Upload").click()
    expect(contestant.locator("#upload-bar")).to_have_attribute("value", "100")
    expect(contestant.locator("#upload-message")).to_contain_text("Uploaded “First Light”")
    row = contestant.locator("#submissions tbody tr").first
    expect(row).to_have_attribute("data-status", "approved", timeout=90_000)  # the media worker's verdict
    shoot(contestant, shots, "my-songs")
    STATE["original"] = song


def test_a_near_duplicate_is_rejected_from_the_review_page(
    person: Any, platform: RunningPlatform, shots: Path, tmp_path: Path
) -> None:
    copycat_name = account(platform, "contestant")
    copycat = person(copycat_name)
    copy = tmp_path / "not-a-copy.mp3"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(STATE["original"]),
            "-c:a",
            "libmp3lame",
            "-b:a",
            "64k",
            str(copy),
        ],
        check=True,
        timeout=60,
    )
    _upload(copycat, copy, "<b>Totally</b> Original")  # markup in a title stays text
    row = copycat.locator("#submissions tbody tr").first
    expect(row).to_have_attribute("data-status", "pending_review", timeout=90_000)
    expect(row).to_contain_text("<b>Totally</b> Original")

    moderator = person(account(platform, "moderator"))
    moderator.goto("/moderation/songs")
    queued = moderator.locator("#queue tbody tr", has_text="<b>Totally</b> Original")
    expect(queued).to_have_count(1)
    shoot(moderator, shots, "moderation-songs")
    queued.get_by_role("link", name="Review <b>Totally</b> Original").click()
    expect(moderator).to_have_url(re.compile(r"/moderation/songs/\d+$"))
    match = moderator.locator("#matches .match").first
    expect(match).to_contain_text("Sounds like: “First Light”")
    expect(match).to_contain_text("Similarity")
    expect(match.locator("audio")).to_have_attribute("src", re.compile(r"^/api/songs/\d+/audio$"))
    expect(moderator.locator("#this-song audio")).to_be_visible()
    expect(moderator.locator("#checks")).to_contain_text("Container and codec")
    shoot(moderator, shots, "song-review")

    reject = moderator.get_by_role("button", name="Reject the song")
    reject.click()
    expect(moderator.locator("#decision-message")).to_have_text(
        "Write the reason the contestant will read before rejecting."
    )
    moderator.get_by_label("Reason").fill("It is the same recording as an earlier entry.")
    reject.dblclick()  # decided once: the second click finds the buttons disabled
    expect(moderator.locator("#decision-message")).to_contain_text("is rejected; the contestant reads")
    expect(reject).to_be_hidden()

    copycat.reload()
    row = copycat.locator("#submissions tbody tr").first
    expect(row).to_have_attribute("data-status", "rejected")
    expect(row).to_contain_text("It is the same recording as an earlier entry.")

    # A song of a contest this moderator cannot see (a draft) is not reviewable, and says so.
    with httpx.Client(base_url=platform.base_url, timeout=10) as client:
        assert client.get("/api/songs/987654").status_code == 404
    moderator.goto("/moderation/songs/987654")
    expect(moderator.locator("#status")).to_have_text(
        re.compile("no such song, or it belongs to a contest you cannot see")
    )
    expect(moderator.locator("#decision-form")).to_be_hidden()


def _vote(page: Any, title: str) -> None:
    page.get_by_role("button", name=f"Vote for {title}", exact=True).click()
    feedback = page.locator(
        ".song", has=page.get_by_role("button", name=f"Vote for {title}", exact=True)
    ).locator("#vote-message")
    expect(feedback).to_contain_text(f"Your vote for “{title}” is recorded.")  # next to the pressed button


def test_voters_vote_and_the_board_moves_without_a_reload(
    person: Any, platform: RunningPlatform, shots: Path
) -> None:
    watcher = person(None)
    watcher.goto(f"/contests/{STATE['slug']}")
    expect(watcher.locator("#live-state")).to_have_text("Live: the board updates by itself.")
    board_votes = watcher.locator("#leaderboard tr", has_text="First Light").locator("td.votes")
    expect(board_votes).to_have_text("0")
    for _ in range(2):
        voter = person(account(platform))
        voter.goto(f"/contests/{STATE['slug']}")
        _vote(voter, "First Light")
    expect(board_votes).to_have_text("2", timeout=60_000)  # scored, counted, recomputed, pushed
    expect(watcher.locator("#bar-chart svg rect")).to_have_count(1)
    expect(watcher.locator("#history-chart svg path")).to_have_count(1)  # one line: the one song
    shoot(watcher, shots, "contest")
    watcher.locator("#leaderboard").get_by_role("link", name="First Light").click()
    expect(watcher.locator("#song-title")).to_have_text("First Light")
    expect(watcher.locator("#share-url")).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/songs/\d+$"))
    expect(watcher.locator("#standing")).to_contain_text("#1 of 1 with 2 vote(s)")
    shoot(watcher, shots, "song")
    STATE["watcher_url"] = f"/contests/{STATE['slug']}"


def test_a_burst_of_scripted_votes_is_flagged_and_confirmed(
    person: Any, platform: RunningPlatform, shots: Path
) -> None:
    contest_id = STATE["contest_id"]
    with httpx.Client(base_url=platform.base_url, timeout=10) as anonymous:
        song_id = next(
            s["id"]
            for s in anonymous.get(f"/api/contests/{contest_id}/songs").json()["items"]
            if s["title"] == "First Light"
        )
    burst = []
    for _ in range(8):  # fresh accounts, one headless browser, no device signals: a script
        name = account(platform)
        with httpx.Client(base_url=platform.base_url, timeout=10, headers={"user-agent": SCRIPT_UA}) as bot:
            token = bot.get("/api/auth/csrf").json()["csrf_token"]
            bot.post(
                "/api/auth/login", json={"login": name, "password": PASSWORD}, headers={"x-csrftoken": token}
            ).raise_for_status()
            token = bot.cookies["csrftoken"]  # the login hands out the new session's token
            cast = bot.post(
                f"/api/contests/{contest_id}/votes", json={"song_id": song_id}, headers={"x-csrftoken": token}
            )
            assert cast.status_code == 201, cast.text
            burst.append(cast.json()["id"])

    watcher = person(None)
    watcher.goto(STATE["watcher_url"])
    board_votes = watcher.locator("#leaderboard tr", has_text="First Light").locator("td.votes")
    moderator = person(account(platform, "moderator"))
    moderator.goto(f"/moderation?contest={STATE['slug']}")
    case = moderator.locator("#cases > li").first
    for _ in range(30):  # scoring runs in the background: look again until the case is there
        if case.count():
            break
        moderator.wait_for_timeout(1000)
        moderator.reload()
    expect(case).to_be_visible()
    expect(case).to_contain_text("scripted_user_agent")
    expect(case).to_contain_text(f"{len(burst)} vote(s) from {len(burst)} account(s)")
    expect(board_votes).to_have_text("2")  # held for review: the burst never counted
    case.get_by_role("button", name="Show the votes").click()
    table = case.locator("table.evidence")
    expect(table.locator("tbody tr")).to_have_count(len(burst))
    shoot(moderator, shots, "moderation-cases")
    # The evidence fits a 1280 px window: nothing wider than the case itself.
    assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth + 1")

    case.locator("input.select-case").check()
    expect(moderator.locator("#selected-count")).to_have_text("1")
    moderator.get_by_label("Note for the selected cases (why; kept in the audit log)").fill(
        "One script, eight accounts."
    )
    confirm = moderator.get_by_role("button", name="Confirm selected: reject their votes")
    assert confirm.evaluate("b => getComputedStyle(b).backgroundColor") != moderator.get_by_role(
        "button", name="Clear selected: count their votes"
    ).evaluate("b => getComputedStyle(b).backgroundColor")
    confirm.dblclick()
    expect(moderator.locator("#decision-message")).to_have_text(f"1 case(s), {len(burst)} vote(s) rejected.")
    expect(moderator.locator("#status")).to_have_text(f"No open cases in {STATE['title']}.")
    expect(moderator.locator("#cases > li")).to_have_count(0)

    with httpx.Client(base_url=platform.base_url, timeout=10) as anonymous:
        board = anonymous.get(f"/api/contests/{contest_id}/leaderboard/").json()
    assert [(e["title"], e["votes"]) for e in board["items"]] == [("First Light", 2)]
    expect(board_votes).to_have_text("2")
    downloads = moderator.locator("#exports a")
    expect(downloads).to_have_count(4)
    with moderator.expect_download() as download:
        moderator.get_by_role("link", name="Flagged votes with evidence (CSV)").click()
    rows = Path(download.value.path()).read_text().splitlines()
    rejected = [row for row in rows[1:] if ",rejected," in row]
    assert len(rejected) == len(burst)
    assert all(",suspicious," not in row for row in rows[1:])  # nothing of this contest is held any more


def test_every_other_page_is_screenshotted(person: Any, platform: RunningPlatform, shots: Path) -> None:
    visitor = person(None)
    for name, path, ready in [
        ("home", "/", "#open-contests li"),
        ("login", "/login", "#login-form"),
        ("not-found", "/no/such/page", "h1"),
        ("schema", "/schema", ".swagger-ui .info"),
    ]:
        visitor.goto(path)
        expect(visitor.locator(ready).first).to_be_visible()
        shoot(visitor, shots, name)
    voter = person(account(platform))
    voter.goto(f"/contests/{STATE['slug']}")
    _vote(voter, "First Light")
    voter.goto("/me/votes")
    expect(voter.locator("#votes tbody tr")).to_have_count(1)
    shoot(voter, shots, "my-votes")
