"""The authorization matrix of docs/security.md, checked call by call against a real ``ovation api`` process.

Every operation of the OpenAPI document must have a row in the matrix and a request here; a new operation
without both fails the test. Each cell says what a role gets: ``yes`` (a 2xx), ``401``, ``403`` or ``404``
(another account's object, hidden), or ``own: X, others': Y`` for operations on an object with an owner,
called once on the role's own object and once on another account's. Each call gets fresh objects, so that
one role's call does not change what the next one finds. A failure lists every cell that does not hold.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import tokens
from core.models import Contest, ContestStatus, Song, SongStatus, User, Vote
from core.models.account import TokenPurpose
from core.settings import get_settings
from core.storage import open_storage
from tests.support.api import PASSWORD, create_account, unique_name
from tests.support.environment import BACKENDS, TEST_ENV
from tests.support.processes import Platform
from tests.support.voting import open_contest

ROLES = ("anonymous", "voter", "contestant", "moderator", "admin")
MATRIX_FILE = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def read_matrix() -> dict[str, dict[str, str]]:
    """The table under "## Authorization matrix" in docs/security.md: operation id -> role -> cell."""
    text = MATRIX_FILE.read_text()
    section = text.split("## Authorization matrix", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != len(ROLES) + 1 or not cells[0].startswith("`"):
            continue
        operation_id = cells[0].split("`")[1]  # "`getSong` (not yet approved)": a note may follow the id
        rows[operation_id] = dict(zip(ROLES, cells[1:], strict=True))
    return rows


def expectations(cell: str) -> dict[str, str]:
    """``yes`` -> {"any": "yes"}; ``own: yes, others': 404`` -> {"own": "yes", "others": "404"}."""
    if ":" not in cell:
        return {"any": cell}
    found = dict(re.findall(r"(own|others)'?:\s*(yes|401|403|404)", cell))
    assert set(found) == {"own", "others"}, f"unreadable matrix cell {cell!r}"
    return found


def holds(expected: str, status: int) -> bool:
    return 200 <= status < 300 if expected == "yes" else status == int(expected)


@dataclass
class Caller:
    role: str
    client: httpx.AsyncClient
    user_id: int | None = None

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if method not in {"GET", "HEAD", "OPTIONS"}:
            token = self.client.cookies.get("csrftoken")
            if token is None:
                await self.client.get("/api/auth/csrf")
                token = self.client.cookies.get("csrftoken")
            kwargs.setdefault("headers", {})["x-csrftoken"] = token
        return await self.client.request(method, path, **kwargs)


@dataclass
class World:
    db: AsyncSession
    base_url: str
    callers: dict[str, Caller] = field(default_factory=dict)

    async def account(self, *roles: str, banned: bool = False) -> int:
        _, user_id = await create_account(self.db, *roles)
        if banned:
            user = await self.db.get(User, user_id)
            assert user is not None
            user.status, user.ban_reason = "banned", "matrix test"
            await self.db.commit()
        return user_id

    async def contest(self, *, phase: str = "voting") -> Any:
        contest = await open_contest(self.db)
        if phase != "voting":
            row = await self.db.get(Contest, contest.id)
            assert row is not None
            now = datetime.now(UTC)
            if phase == "submission":
                row.submission_opens_at, row.submission_closes_at = (
                    now - timedelta(days=1),
                    now + timedelta(days=1),
                )
                row.voting_opens_at, row.voting_closes_at = now + timedelta(days=2), now + timedelta(days=3)
            else:  # draft
                row.status = ContestStatus.DRAFT
            await self.db.commit()
        return contest

    async def song(self, contest_id: int, owner_id: int, status: str, *, with_file: bool = False) -> int:
        key = sha = None
        if with_file:
            storage = open_storage(get_settings())
            data = os.urandom(2048)
            sha = hashlib.sha256(data).hexdigest()
            temp = storage.new_temp_path()
            temp.write_bytes(data)
            key = storage.put_from_temp(temp, sha)
        song = Song(
            contest_id=contest_id,
            contestant_id=owner_id,
            title="Matrix song",
            artist_name="Tester",
            status=status,
            storage_key=key,
            sha256=sha,
            mime_type="audio/mpeg" if with_file else None,
            size_bytes=2048 if with_file else 0,
        )
        self.db.add(song)
        await self.db.commit()
        return song.id

    async def vote(
        self, contest: Any, voter_id: int, *, status: str = "valid", case_key: str | None = None
    ) -> int:
        now = datetime.now(UTC)
        vote = Vote(
            contest_id=contest.id,
            song_id=contest.song_ids[0],
            voter_id=voter_id,
            cast_at=now,
            vote_day=now.date(),
            ip="203.0.113.7",
            network_prefix="203.0.113.0/24",
            status=status,
            fraud_score=5,
            reasons=[],
            scored_at=now,
            case_key=case_key,
        )
        self.db.add(vote)
        await self.db.commit()
        return vote.id


Call = tuple[str, str, dict[str, Any]]  # method, path, httpx keyword arguments
Build = Callable[[World, Caller, str], Awaitable[Call]]  # world, caller, "own" | "others" | "any"


async def _owner(world: World, caller: Caller, whose: str) -> int:
    """The account that owns the object of the call: the caller's own, or a fresh one of the same role."""
    if whose == "own":
        assert caller.user_id is not None
        return caller.user_id
    return await world.account(*([] if caller.role in ("anonymous", "voter") else [caller.role]))


def _contest_body() -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "slug": unique_name("matrix-"),
        "title": "Matrix",
        "submission_opens_at": (now + timedelta(days=1)).isoformat(),
        "submission_closes_at": (now + timedelta(days=2)).isoformat(),
        "voting_opens_at": (now + timedelta(days=3)).isoformat(),
        "voting_closes_at": (now + timedelta(days=4)).isoformat(),
    }


async def _case(world: World, caller: Caller, whose: str) -> tuple[int, str]:
    contest = await world.contest()
    key = f"device:{uuid.uuid4().hex[:12]}"
    await world.vote(contest, await world.account(), status="suspicious", case_key=key)
    return contest.id, key


async def _fixed(call: Call) -> Call:
    return call


REQUESTS: dict[str, Build] = {
    "health": lambda w, c, o: _fixed(("GET", "/health", {})),
    "ready": lambda w, c, o: _fixed(("GET", "/ready", {})),
    "getCsrfToken": lambda w, c, o: _fixed(("GET", "/api/auth/csrf", {})),
    "getCurrentUser": lambda w, c, o: _fixed(("GET", "/api/auth/me", {})),
    "listContests": lambda w, c, o: _fixed(("GET", "/api/contests", {})),
    "listMyVotes": lambda w, c, o: _fixed(("GET", "/api/me/votes", {})),
    "listMySongs": lambda w, c, o: _fixed(("GET", "/api/me/songs", {})),
    "listSongsForReview": lambda w, c, o: _fixed(("GET", "/api/moderation/songs", {})),
    "createContest": lambda w, c, o: _fixed(("POST", "/api/contests", {"json": _contest_body()})),
    "searchUsers": lambda w, c, o: _fixed(("GET", "/api/admin/users", {})),
    "listAuditEntries": lambda w, c, o: _fixed(("GET", "/api/admin/audit", {})),
}


def request(operation_id: str) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        REQUESTS[operation_id] = build
        return build

    return register


@request("logout")
async def _logout(world: World, caller: Caller, whose: str) -> Call:
    return "POST", "/api/auth/logout", {}


@request("login")
async def _login(world: World, caller: Caller, whose: str) -> Call:
    name, _ = await create_account(world.db)  # a login as another account (the caller signs back in after)
    return "POST", "/api/auth/login", {"json": {"login": name, "password": PASSWORD}}


@request("register")
async def _register(world: World, caller: Caller, whose: str) -> Call:
    name = unique_name()
    body = {"email": f"{name}@example.com", "username": name, "password": PASSWORD}
    return "POST", "/api/auth/register", {"json": body}


@request("getContest")
async def _get_contest(world: World, caller: Caller, whose: str) -> Call:
    return "GET", f"/api/contests/{(await world.contest()).id}", {}


@request("getContestBySlug")
async def _get_contest_by_slug(world: World, caller: Caller, whose: str) -> Call:
    contest = await world.db.get(Contest, (await world.contest()).id)
    assert contest is not None
    return "GET", f"/api/contests/by-slug/{contest.slug}", {}


@request("updateContest")
async def _update_contest(world: World, caller: Caller, whose: str) -> Call:
    return "PATCH", f"/api/contests/{(await world.contest()).id}", {"json": {"title": "Renamed"}}


@request("openContest")
async def _open_contest(world: World, caller: Caller, whose: str) -> Call:
    return "POST", f"/api/contests/{(await world.contest(phase='draft')).id}/open", {}


@request("closeContest")
async def _close_contest(world: World, caller: Caller, whose: str) -> Call:
    return "POST", f"/api/contests/{(await world.contest()).id}/close", {}


@request("getLeaderboard")
async def _leaderboard(world: World, caller: Caller, whose: str) -> Call:
    return "GET", f"/api/contests/{(await world.contest()).id}/leaderboard", {}


@request("getLeaderboardHistory")
async def _history(world: World, caller: Caller, whose: str) -> Call:
    return "GET", f"/api/contests/{(await world.contest()).id}/leaderboard/history", {}


@request("getLeaderboardStanding")
async def _standing(world: World, caller: Caller, whose: str) -> Call:
    contest = await world.contest()
    return "GET", f"/api/contests/{contest.id}/leaderboard/songs/{contest.song_ids[0]}", {}


@request("leaderboardFeed")
async def _feed(world: World, caller: Caller, whose: str) -> Call:
    return "GET", f"/api/contests/{(await world.contest()).id}/leaderboard/feed", {"stream": True}


@request("listLeaderboardCountries")
async def _countries(world: World, caller: Caller, whose: str) -> Call:
    return "GET", f"/api/contests/{(await world.contest()).id}/leaderboard/countries", {}


@request("exportFlaggedVotes")
async def _flagged(world: World, caller: Caller, whose: str) -> Call:
    contest_id, _ = await _case(world, caller, whose)
    return "GET", f"/api/moderation/contests/{contest_id}/votes/export", {}


@request("exportLeaderboardResults")
async def _results(world: World, caller: Caller, whose: str) -> Call:
    return "GET", f"/api/contests/{(await world.contest()).id}/leaderboard/results", {}


@request("recomputeLeaderboard")
async def _recompute(world: World, caller: Caller, whose: str) -> Call:
    return "POST", f"/api/contests/{(await world.contest()).id}/leaderboard/recompute", {}


@request("setUserRoles")
async def _set_roles(world: World, caller: Caller, whose: str) -> Call:
    return "PUT", f"/api/admin/users/{await world.account()}/roles", {"json": {"roles": ["contestant"]}}


@request("unbanUser")
async def _unban(world: World, caller: Caller, whose: str) -> Call:
    target = await world.account(banned=True)
    return "POST", f"/api/admin/users/{target}/unban", {"json": {"reason": "appeal upheld"}}


@request("voidAccount")
async def _void(world: World, caller: Caller, whose: str) -> Call:
    return (
        "POST",
        f"/api/moderation/users/{await world.account()}/void",
        {"json": {"note": "spam", "ban": True}},
    )


@request("decideVote")
async def _decide_vote(world: World, caller: Caller, whose: str) -> Call:
    vote_id = await world.vote(await world.contest(), await world.account(), status="suspicious")
    return "POST", f"/api/moderation/votes/{vote_id}/decision", {"json": {"decision": "clear", "note": "ok"}}


@request("decideCase")
async def _decide_case(world: World, caller: Caller, whose: str) -> Call:
    contest_id, key = await _case(world, caller, whose)
    body = {"key": key, "decision": "confirm", "note": "one device"}
    return "POST", f"/api/moderation/contests/{contest_id}/case/decision", {"json": body}


@request("getCase")
async def _get_case(world: World, caller: Caller, whose: str) -> Call:
    contest_id, key = await _case(world, caller, whose)
    return "GET", f"/api/moderation/contests/{contest_id}/case", {"params": {"key": key}}


@request("listCases")
async def _list_cases(world: World, caller: Caller, whose: str) -> Call:
    contest_id, _ = await _case(world, caller, whose)
    return "GET", f"/api/moderation/contests/{contest_id}/cases", {}


@request("castVote")
async def _cast(world: World, caller: Caller, whose: str) -> Call:
    contest = await world.contest()
    return "POST", f"/api/contests/{contest.id}/votes", {"json": {"song_id": contest.song_ids[0]}}


@request("getRemainingVotes")
async def _remaining(world: World, caller: Caller, whose: str) -> Call:
    return "GET", f"/api/contests/{(await world.contest()).id}/votes/remaining", {}


@request("retractVote")
async def _retract(world: World, caller: Caller, whose: str) -> Call:
    vote_id = await world.vote(await world.contest(), await _owner(world, caller, whose))
    return "POST", f"/api/votes/{vote_id}/retract", {}


@request("listContestSongs")
async def _contest_songs(world: World, caller: Caller, whose: str) -> Call:
    return "GET", f"/api/contests/{(await world.contest()).id}/songs", {}


@request("getSong")
async def _get_song(world: World, caller: Caller, whose: str) -> Call:
    """A song not yet approved: its owner and staff see it, nobody else."""
    contest = await world.contest(phase="submission")
    song_id = await world.song(contest.id, await _owner(world, caller, whose), SongStatus.PENDING_REVIEW)
    return "GET", f"/api/songs/{song_id}", {}


@request("getSongAudio")
async def _get_audio(world: World, caller: Caller, whose: str) -> Call:
    contest = await world.contest(phase="submission")
    owner = await _owner(world, caller, whose)
    song_id = await world.song(contest.id, owner, SongStatus.PENDING_REVIEW, with_file=True)
    return "GET", f"/api/songs/{song_id}/audio", {}


@request("submitSong")
async def _submit(world: World, caller: Caller, whose: str) -> Call:
    contest = await world.contest(phase="submission")
    headers = {
        "content-type": "audio/mpeg",
        "x-song-metadata": '{"title": "Matrix", "artist_name": "Tester"}',
        "x-filename": "matrix.mp3",
    }
    return "POST", f"/api/contests/{contest.id}/songs", {"content": os.urandom(4096), "headers": headers}


@request("withdrawSong")
async def _withdraw(world: World, caller: Caller, whose: str) -> Call:
    contest = await world.contest(phase="submission")
    song_id = await world.song(contest.id, await _owner(world, caller, whose), SongStatus.PENDING_REVIEW)
    return "POST", f"/api/songs/{song_id}/withdraw", {}


@request("approveSong")
async def _approve(world: World, caller: Caller, whose: str) -> Call:
    contest = await world.contest(phase="submission")
    owner = await world.account("contestant")
    song_id = await world.song(contest.id, owner, SongStatus.PENDING_REVIEW, with_file=True)
    return "POST", f"/api/moderation/songs/{song_id}/approve", {"json": {}}


@request("rejectSong")
async def _reject(world: World, caller: Caller, whose: str) -> Call:
    contest = await world.contest(phase="submission")
    song_id = await world.song(contest.id, await world.account("contestant"), SongStatus.PENDING_REVIEW)
    return "POST", f"/api/moderation/songs/{song_id}/reject", {"json": {"reason": "not a song"}}


# --- accounts and appeals -------------------------------------------------------------------------------

# Calls that change the calling account itself (its password, address or roles) run as a stand-in: a fresh
# account of the caller's role in a client of its own, so the caller keeps its role for the other rows.
STAND_IN = "stand_in"


async def _link_token(world: World, purpose: TokenPurpose) -> str:
    """A mailed link's token for a fresh account, issued by the service the mail flows use."""
    user_id = await world.account()
    user = await world.db.get(User, user_id)
    assert user is not None
    token = await tokens.issue(
        world.db,
        user_id=user_id,
        purpose=purpose,
        email=user.email,
        lifetime=timedelta(hours=1),
        now=datetime.now(UTC),
        secret=get_settings().secret_key,
    )
    await world.db.commit()
    return token


@request("verifyEmail")
async def _verify_email(world: World, caller: Caller, whose: str) -> Call:
    token = await _link_token(world, TokenPurpose.VERIFY_EMAIL)
    return "POST", "/api/auth/verify-email", {"json": {"token": token}}


@request("resendVerification")
async def _resend(world: World, caller: Caller, whose: str) -> Call:
    return "POST", "/api/auth/verify-email/resend", {"json": {"email": f"{unique_name()}@example.com"}}


@request("requestPasswordReset")
async def _request_reset(world: World, caller: Caller, whose: str) -> Call:
    return "POST", "/api/auth/password-reset", {"json": {"email": f"{unique_name()}@example.com"}}


@request("resetPassword")
async def _reset(world: World, caller: Caller, whose: str) -> Call:
    token = await _link_token(world, TokenPurpose.RESET_PASSWORD)
    body = {"token": token, "password": PASSWORD + "-renewed"}
    return "POST", "/api/auth/password-reset/confirm", {"json": body}


@request("changePassword")
async def _change_password(world: World, caller: Caller, whose: str) -> Call:
    body = {"current_password": PASSWORD, "new_password": PASSWORD + "-renewed"}
    return "POST", "/api/account/password", {"json": body, STAND_IN: True}


@request("changeEmail")
async def _change_email(world: World, caller: Caller, whose: str) -> Call:
    body = {"password": PASSWORD, "new_email": f"{unique_name()}@example.com"}
    return "POST", "/api/account/email", {"json": body, STAND_IN: True}


@request("becomeContestant")
async def _become_contestant(world: World, caller: Caller, whose: str) -> Call:
    return "POST", "/api/account/contestant", {STAND_IN: True}


@request("appealVote")
async def _appeal(world: World, caller: Caller, whose: str) -> Call:
    """A vote held for review: its voter may appeal it, nobody else sees it."""
    vote_id = await world.vote(await world.contest(), await _owner(world, caller, whose), status="suspicious")
    return "POST", f"/api/votes/{vote_id}/appeal", {"json": {"note": "I voted myself, honestly"}}


@request("listMyAppeals")
async def _my_appeals(world: World, caller: Caller, whose: str) -> Call:
    return "GET", "/api/me/appeals", {}


async def _stand_in(world: World, caller: Caller) -> Caller:
    if caller.role == "anonymous":
        return Caller("anonymous", httpx.AsyncClient(base_url=world.base_url, timeout=30))
    name, user_id = await create_account(world.db, *([] if caller.role == "voter" else [caller.role]))
    stand_in = Caller(caller.role, httpx.AsyncClient(base_url=world.base_url, timeout=30), user_id)
    login = await stand_in.send("POST", "/api/auth/login", json={"login": name, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return stand_in


@pytest.fixture(scope="module")
def api_server(settings) -> Iterator[str]:
    logs = Path(BACKENDS.data_dir) / "matrix"
    logs.mkdir(exist_ok=True)
    platform = Platform({**os.environ, **TEST_ENV}, logs)
    platform.start(beat=False)
    try:
        yield platform.base_url
    finally:
        platform.stop()


@pytest.fixture
async def world(api_server: str, db: AsyncSession) -> AsyncIterator[World]:
    world = World(db, api_server)
    for role in ROLES:
        client = httpx.AsyncClient(base_url=api_server, timeout=30)
        caller = Caller(role, client)
        if role != "anonymous":
            name, caller.user_id = await create_account(db, *([] if role == "voter" else [role]))
            login = await caller.send("POST", "/api/auth/login", json={"login": name, "password": PASSWORD})
            assert login.status_code == 200, login.text
        world.callers[role] = caller
    yield world
    for caller in world.callers.values():
        await caller.client.aclose()


async def _sign_in_again(world: World, caller: Caller) -> None:
    """After a call that signed the caller out or in as someone else, back to its own account."""
    if caller.role == "anonymous":
        caller.client.cookies.clear()
        return
    user = await world.db.get(User, caller.user_id)
    assert user is not None
    caller.client.cookies.clear()
    response = await caller.send(
        "POST", "/api/auth/login", json={"login": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text


async def _call(world: World, caller: Caller, operation_id: str, whose: str) -> tuple[int, str]:
    method, path, kwargs = await REQUESTS[operation_id](world, caller, whose)
    if kwargs.pop("stream", False):  # the live feed never ends: its first answer is all there is to see
        async with caller.client.stream(method, path, **kwargs) as response:
            return response.status_code, response.headers.get("content-type", "")
    if kwargs.pop(STAND_IN, False):
        stand_in = await _stand_in(world, caller)
        try:
            response = await stand_in.send(method, path, **kwargs)
        finally:
            await stand_in.client.aclose()
        return response.status_code, response.text[:200]
    response = await caller.send(method, path, **kwargs)
    if operation_id in ("logout", "login", "register"):
        await _sign_in_again(world, caller)
    return response.status_code, response.text[:200]


async def test_every_operation_answers_each_role_as_the_matrix_says(world: World) -> None:
    document = (await world.callers["anonymous"].client.get("/schema/openapi.json")).json()
    operations = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    matrix = read_matrix()
    assert operations - set(matrix) == set(), "operations without a row in docs/security.md's matrix"
    assert set(matrix) - operations == set(), "matrix rows for operations the API does not have"
    assert operations - set(REQUESTS) == set(), "operations without a request in this test"

    wrong = []
    for operation_id in sorted(operations):
        for role in ROLES:
            for whose, expected in expectations(matrix[operation_id][role]).items():
                status, body = await _call(world, world.callers[role], operation_id, whose)
                if not holds(expected, status):
                    wrong.append(
                        f"{operation_id} as {role} ({whose}): matrix says {expected}, got {status} {body}"
                    )
    assert not wrong, "the API does not answer as docs/security.md's matrix says:\n" + "\n".join(wrong)
