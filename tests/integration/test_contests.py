from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import Api, unique_name


def contest_body(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "slug": unique_name("c-"),
        "title": "Summer Contest",
        "description": "Songs about summer",
        "submission_opens_at": (now - timedelta(days=1)).isoformat(),
        "submission_closes_at": (now + timedelta(days=5)).isoformat(),
        "voting_opens_at": (now + timedelta(days=1)).isoformat(),
        "voting_closes_at": (now + timedelta(days=10)).isoformat(),
        "votes_per_voter_per_day": 5,
        "votes_per_song_per_day": 1,
        "eligible_countries": ["SE", "NO"],
        "allowed_formats": ["mp3", "flac"],
    }
    body.update(overrides)
    return body


async def test_admin_creates_edits_opens_and_closes_a_contest(admin_api: Api, api: Api) -> None:
    created = await admin_api.post("/api/contests", json=contest_body())
    assert created.status_code == 201, created.text
    contest = created.json()
    assert contest["status"] == "draft"
    assert contest["eligible_countries"] == ["SE", "NO"]
    assert contest["max_entries_per_contestant"] == 3  # a default rule

    # Drafts are invisible to the public, visible to admins.
    assert (await api.get(f"/api/contests/{contest['id']}")).status_code == 404
    assert (await admin_api.get(f"/api/contests/{contest['id']}")).status_code == 200

    edited = await admin_api.patch(
        f"/api/contests/{contest['id']}", json={"title": "Summer 2026", "min_account_age_hours": 24}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Summer 2026"
    assert edited.json()["min_account_age_hours"] == 24

    opened = await admin_api.post(f"/api/contests/{contest['id']}/open")
    assert opened.status_code == 200
    assert opened.json()["status"] == "open"
    assert opened.json()["phase"] == "submission"
    public = await api.get(f"/api/contests/by-slug/{contest['slug']}")
    assert public.status_code == 200
    assert public.json()["id"] == contest["id"]
    listed = await api.get("/api/contests", params={"status": "open", "limit": 100})
    assert contest["id"] in [item["id"] for item in listed.json()["items"]]

    again = await admin_api.post(f"/api/contests/{contest['id']}/open")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"

    closed = await admin_api.post(f"/api/contests/{contest['id']}/close")
    assert closed.status_code == 200
    assert closed.json()["phase"] == "closed"


async def test_contest_changes_are_audited(admin_api: Api, db) -> None:
    from sqlalchemy import select

    from core.models import AuditEntry

    contest = (await admin_api.post("/api/contests", json=contest_body())).json()
    await admin_api.post(f"/api/contests/{contest['id']}/open")
    actions = (
        await db.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_type == "contest", AuditEntry.target_id == str(contest["id"])
            )
        )
    ).all()
    assert actions == ["contest.create", "contest.open"]


async def test_only_admins_manage_contests(api: Api) -> None:
    unauthenticated = await api.post("/api/contests", json=contest_body())
    assert unauthenticated.status_code == 401
    await api.register(roles=["contestant"])
    forbidden = await api.post("/api/contests", json=contest_body())
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "missing_role"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"slug": "Bad Slug!"}, "invalid_slug"),
        ({"voting_closes_at": "2000-01-01T00:00:00+00:00"}, "invalid_window"),
        ({"submission_closes_at": "2000-01-01T00:00:00+00:00"}, "invalid_window"),
        ({"votes_per_song_per_day": 9}, "invalid_rules"),
        ({"allowed_formats": ["exe"]}, "invalid_rules"),
        ({"eligible_countries": ["se"]}, "invalid_rules"),
        ({"min_duration_seconds": 900, "max_duration_seconds": 60}, "invalid_rules"),
        ({"voting_opens_at": "2026-12-01T00:00:00"}, "validation_error"),  # no time zone
        ({"votes_per_voter_per_day": 0}, "validation_error"),
        ({"title": "x" * 201}, "validation_error"),
        ({"unknown_rule": True}, "validation_error"),
    ],
)
async def test_bad_contest_rules_are_400(admin_api: Api, overrides: dict[str, Any], code: str) -> None:
    response = await admin_api.post("/api/contests", json=contest_body(**overrides))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


async def test_duplicate_slug_is_409(admin_api: Api) -> None:
    body = contest_body()
    assert (await admin_api.post("/api/contests", json=body)).status_code == 201
    duplicate = await admin_api.post("/api/contests", json=contest_body(slug=body["slug"]))
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "slug_taken"


async def test_bad_listing_parameters_and_unknown_contests(api: Api) -> None:
    assert (await api.get("/api/contests", params={"limit": 0})).status_code == 400
    assert (await api.get("/api/contests", params={"limit": 101})).status_code == 400
    assert (await api.get("/api/contests", params={"status": "deleted"})).status_code == 400
    assert (await api.get("/api/contests", params={"offset": -1})).status_code == 400
    missing = await api.get("/api/contests/987654321")
    assert missing.status_code == 404
    assert missing.json()["code"] == "contest_not_found"
    assert (await api.get("/api/contests/not-a-number")).status_code == 404
    assert (await api.get("/api/contests/by-slug/" + "x" * 300)).status_code == 404
