"""The admin's operations behind the admin pages: every contest rule, user search, the audit log, and the
moderators' forensic export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Vote
from tests.integration.test_contests import contest_body
from tests.support.api import PASSWORD, Api, create_account, unique_name
from tests.support.voting import open_contest, valid_vote


async def _login(make_api: Any, db: AsyncSession, *roles: str) -> tuple[Api, int]:
    name, user_id = await create_account(db, *roles)
    client: Api = await make_api()
    response = await client.post("/api/auth/login", json={"login": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client, user_id


async def test_every_rule_round_trips_and_only_admins_see_the_fraud_thresholds(
    admin_api: Api, api: Api
) -> None:
    body = contest_body(retraction_minutes=25, fraud_config={"review_threshold": 60}, freeze_hours=12)
    created = await admin_api.post("/api/contests", json=body)
    assert created.status_code == 201, created.text
    contest = created.json()
    assert (contest["retraction_minutes"], contest["freeze_hours"]) == (25, 12)
    assert contest["fraud_config"] == {"review_threshold": 60}

    edited = await admin_api.patch(
        f"/api/contests/{contest['id']}",
        json={"retraction_minutes": 0, "leaderboard_hidden": True, "fraud_config": {"review_threshold": 70}},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["retraction_minutes"] == 0
    assert edited.json()["leaderboard_hidden"] is True
    assert edited.json()["fraud_config"] == {"review_threshold": 70}
    assert (await admin_api.post(f"/api/contests/{contest['id']}/open")).status_code == 200

    public = await api.get(f"/api/contests/{contest['id']}")
    assert public.status_code == 200
    assert public.json()["fraud_config"] is None  # a fraudster must not read how far to go
    assert public.json()["retraction_minutes"] == 0
    listed = await admin_api.get("/api/contests", params={"limit": 100})
    mine = next(item for item in listed.json()["items"] if item["id"] == contest["id"])
    assert mine["fraud_config"] == {"review_threshold": 70}


@pytest.mark.parametrize(
    ("overrides", "code", "named"),
    [
        ({"eligible_countries": ["SE", "XX"]}, "invalid_rules", "XX"),
        ({"eligible_countries": ["QQ"]}, "invalid_rules", "QQ"),
        ({"fraud_config": {"review_threshold": 500}}, "invalid_fraud_config", "review_threshold"),
        ({"fraud_config": {"no_such_setting": 1}}, "invalid_fraud_config", "no_such_setting"),
        ({"retraction_minutes": -1}, "validation_error", "retraction_minutes"),
        ({"max_entries_per_contestant": -3}, "validation_error", "max_entries_per_contestant"),
        ({"voting_closes_at": "2000-01-01T00:00:00+00:00"}, "invalid_window", "voting"),
    ],
)
async def test_bad_rules_are_refused_by_name_and_change_nothing(
    admin_api: Api, overrides: dict[str, Any], code: str, named: str
) -> None:
    refused = await admin_api.post("/api/contests", json=contest_body(**overrides))
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == code
    assert named in refused.text

    contest = (await admin_api.post("/api/contests", json=contest_body())).json()
    edit = await admin_api.patch(f"/api/contests/{contest['id']}", json=overrides)
    assert edit.status_code == 400, edit.text
    assert edit.json()["code"] == code
    again = (await admin_api.get(f"/api/contests/{contest['id']}")).json()
    assert again == contest  # nothing half-written


async def test_kosovo_is_a_country_voters_are_located_in(admin_api: Api) -> None:
    created = await admin_api.post("/api/contests", json=contest_body(eligible_countries=["XK", "RS"]))
    assert created.status_code == 201, created.text


async def test_admins_search_users_by_name_email_id_role_and_status(
    admin_api: Api, api: Api, make_api: Any, db: AsyncSession
) -> None:
    tag = unique_name("find")
    moderator, moderator_id = await _login(make_api, db, "moderator")
    await api.register(username=f"{tag}_a", email=f"{tag}.a@example.com")
    await api.register(username=f"other{tag[-6:]}", email=f"{tag}.b@example.org", roles=["contestant"])

    found = await admin_api.get("/api/admin/users", params={"q": tag.upper()})
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert len(items) == 2
    assert {"ban_reason", "locked_until", "roles", "status"} <= set(items[0])
    contestants = await admin_api.get("/api/admin/users", params={"q": tag, "role": "contestant"})
    assert [item["username"] for item in contestants.json()["items"]] == [f"other{tag[-6:]}"]
    by_id = await admin_api.get("/api/admin/users", params={"q": str(moderator_id)})
    assert moderator_id in [item["id"] for item in by_id.json()["items"]]

    # % and _ are text, not wildcards.
    assert (await admin_api.get("/api/admin/users", params={"q": f"{tag}%"})).json()["items"] == []
    underscore = await admin_api.get("/api/admin/users", params={"q": f"{tag}_a"})
    assert [item["username"] for item in underscore.json()["items"]] == [f"{tag}_a"]

    assert (await admin_api.get("/api/admin/users", params={"role": "king"})).status_code == 400
    assert (await admin_api.get("/api/admin/users", params={"status": "gone"})).status_code == 400
    assert (await moderator.get("/api/admin/users")).status_code == 403
    assert (await api.get("/api/admin/users")).status_code == 403


async def test_the_audit_log_filters_by_contest_actor_and_action(
    admin_api: Api, make_api: Any, db: AsyncSession
) -> None:
    other_admin, other_id = await _login(make_api, db, "admin")
    first = (await admin_api.post("/api/contests", json=contest_body())).json()
    second = (await other_admin.post("/api/contests", json=contest_body())).json()
    await admin_api.patch(f"/api/contests/{first['id']}", json={"title": "Renamed"})
    await admin_api.post(f"/api/contests/{first['id']}/open")

    entries = (await admin_api.get("/api/admin/audit", params={"contest_id": first["id"]})).json()["items"]
    assert [entry["action"] for entry in entries] == ["contest.open", "contest.update", "contest.create"]
    assert entries[1]["details"] == {"fields": ["title"]}
    assert {entry["target_id"] for entry in entries} == {str(first["id"])}

    by_other = (await admin_api.get("/api/admin/audit", params={"actor_id": other_id})).json()["items"]
    assert [(e["action"], e["target_id"], e["actor_username"]) for e in by_other][:1] == [
        ("contest.create", str(second["id"]), by_other[0]["actor_username"])
    ]
    assert all(entry["actor_id"] == other_id for entry in by_other)

    opened = await admin_api.get("/api/admin/audit", params={"action": "contest.open", "limit": 100})
    assert {entry["action"] for entry in opened.json()["items"]} == {"contest.open"}
    prefix = await admin_api.get("/api/admin/audit", params={"action": "contest.", "contest_id": first["id"]})
    assert len(prefix.json()["items"]) == 3

    assert (await admin_api.get("/api/admin/audit", params={"action": "DROP TABLE"})).status_code == 400
    assert (await other_admin.get("/api/admin/audit", params={"contest_id": 0})).status_code == 400


async def test_the_audit_log_of_a_contest_includes_its_songs_cases_and_votes(
    admin_api: Api, make_api: Any, db: AsyncSession
) -> None:
    contest = await open_contest(db, songs=2)
    moderator, _ = await _login(make_api, db, "moderator")
    _, voter_id = await create_account(db)
    vote = valid_vote(contest.id, contest.song_ids[0], voter_id, datetime.now(UTC), "203.0.113.9")
    vote.status, vote.case_key = "suspicious", "prefix:203.0.113.0/24"
    db.add(vote)
    await db.commit()
    rejected = await moderator.post(
        f"/api/moderation/songs/{contest.song_ids[1]}/reject", json={"reason": "Not an original"}
    )
    assert rejected.status_code == 200, rejected.text
    decided = await moderator.post(
        f"/api/moderation/contests/{contest.id}/case/decision",
        json={"key": "prefix:203.0.113.0/24", "decision": "confirm", "note": "one address"},
    )
    assert decided.status_code == 200, decided.text

    entries = (await admin_api.get("/api/admin/audit", params={"contest_id": contest.id})).json()["items"]
    assert [entry["action"] for entry in entries] == ["votes.confirm", "song.reject"]
    other = await open_contest(db, songs=1)
    assert (await admin_api.get("/api/admin/audit", params={"contest_id": other.id})).json()["items"] == []


async def test_the_forensic_export_downloads_every_flagged_vote_with_its_evidence(
    make_api: Any, db: AsyncSession
) -> None:
    contest = await open_contest(db, songs=1)
    moderator, _ = await _login(make_api, db, "moderator")
    now = datetime.now(UTC)
    flagged: list[Vote] = []
    for index in range(3):
        _, voter_id = await create_account(db)
        vote = valid_vote(
            contest.id, contest.song_ids[0], voter_id, now - timedelta(minutes=index), "198.51.100.7"
        )
        if index < 2:  # two held for review, one honest vote that must not be exported
            vote.status, vote.fraud_score, vote.case_key = "suspicious", 80, "prefix:198.51.100.0/24"
            vote.reasons = [{"code": "ip_velocity", "points": 30, "evidence": "40 votes in 5 min"}]
            vote.user_agent = '=HYPERLINK("http://evil.example")'
            flagged.append(vote)
        else:  # weak reasons alone (a new account) are not a flag
            vote.fraud_score = 8
            vote.reasons = [{"code": "new_account", "points": 8, "evidence": "account 2 h old"}]
        db.add(vote)
    await db.commit()

    url = f"/api/moderation/contests/{contest.id}/votes/export"
    as_json = await moderator.get(url)
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-disposition"] == (
        f'attachment; filename="contest-{contest.id}-flagged-votes.json"'
    )
    body = as_json.json()
    assert body["contest_id"] == contest.id
    assert sorted(item["vote_id"] for item in body["items"]) == sorted(vote.id for vote in flagged)
    assert body["items"][0]["reasons"][0]["evidence"] == "40 votes in 5 min"
    assert body["items"][0]["user_agent"].startswith("=HYPERLINK")  # JSON keeps the value as it came

    as_csv = await moderator.get(url, params={"format": "csv"})
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == 2
    assert rows[0]["reason_codes"] == "ip_velocity"
    assert rows[0]["user_agent"].startswith("'=HYPERLINK")  # a spreadsheet shows it, never runs it

    assert (await moderator.get(url, params={"format": "xml"})).status_code == 400
    missing = await moderator.get("/api/moderation/contests/987654321/votes/export")
    assert (missing.status_code, missing.json()["code"]) == (404, "contest_not_found")
    voter: Api = await make_api()
    await voter.register()
    assert (await voter.get(url)).status_code == 403


async def test_the_new_operations_document_their_error_answers(api: Api) -> None:
    document = (await api.get("/schema/openapi.json")).json()
    expected = {
        ("/api/admin/users", "get"): {"200", "400", "401", "403", "429"},
        ("/api/admin/audit", "get"): {"200", "400", "401", "403", "429"},
        ("/api/moderation/contests/{contest_id}/votes/export", "get"): {
            "200",
            "400",
            "401",
            "403",
            "404",
            "429",
        },
        ("/api/contests/{contest_id}/leaderboard/countries", "get"): {"200", "400", "403", "404", "429"},
    }
    for (path, method), statuses in expected.items():
        responses = document["paths"][path][method]["responses"]
        assert statuses <= set(responses), (path, sorted(responses))
        assert "ErrorOut" in str(responses["403"])
