"""The country picker of the contest page: which per-country boards exist."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Contest
from tests.integration.test_leaderboard import add_votes
from tests.support.api import Api
from tests.support.voting import open_contest


async def test_the_countries_with_counted_votes_are_listed(api: Api, make_api, db: AsyncSession) -> None:
    contest = await open_contest(db, songs=2)
    a, b = contest.song_ids
    await add_votes(db, contest, a, 2, country="SE")
    await add_votes(db, contest, b, 1, country="US")
    await add_votes(db, contest, b, 1, country=None)  # unknown: no board of its own
    url = f"/api/contests/{contest.id}/leaderboard/countries"
    listed = await api.get(url)
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"contest_id": contest.id, "countries": ["SE", "US"]}

    row = await db.get(Contest, contest.id)
    assert row is not None
    row.leaderboard_hidden = True
    await db.commit()
    fresh: Api = await make_api()  # an API process that has not cached the rules yet
    hidden = await fresh.get(url)
    assert (hidden.status_code, hidden.json()["code"]) == (403, "leaderboard_hidden")
    assert (await api.get("/api/contests/987654321/leaderboard/countries")).status_code == 404
