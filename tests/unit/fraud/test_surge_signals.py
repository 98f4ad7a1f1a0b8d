import random
from datetime import timedelta

from fraud import FraudConfig, score_batch
from fraud.config import DEFAULT_DETECTORS
from fraud.detectors.surge import song_surges
from fraud.features import ContestIndex
from tests.unit.fraud.factories import CONTEXT, IPHONE, T0, codes, vote

NOW = T0 + timedelta(hours=1)


def _contest(seed: int = 3, voters: int = 800, hours: float = 22.0):
    """Honest votes over the last ``hours``: a quarter of the voters signed up just before voting."""
    rng = random.Random(seed)
    votes = []
    for voter in range(100_000, 100_000 + voters):
        start = T0 - timedelta(hours=rng.uniform(0, hours))
        fresh = rng.random() < 0.25
        created = start - timedelta(seconds=rng.uniform(20, 400)) if fresh else T0 - timedelta(days=300)
        for song in rng.sample(range(1, 21), rng.randint(1, 3)):
            votes.append(vote(voter=voter, song=song, at=start, account_created_at=created))
            start += timedelta(seconds=rng.uniform(8, 90))
    return sorted(votes, key=lambda event: event.cast_at)


def _proxy_farm(count: int, song: int = 7, hours: float = 22.0, seed: int = 4, **fields):
    """One brand-new account per vote on its own home IP, all for one song, evenly around the clock."""
    rng = random.Random(seed)
    votes = []
    for i in range(count):
        at = T0 - timedelta(hours=hours) + timedelta(hours=hours * (i + rng.random()) / count)
        address = f"88.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        votes.append(
            vote(
                voter=500_000 + i,
                song=song,
                at=at,
                ip=address,
                account_created_at=at - timedelta(minutes=rng.uniform(5, 90)),
                **fields,
            )
        )
    return votes


def _score(votes):
    batch = [event for event in votes if event.cast_at > T0 - timedelta(hours=2)]
    history = [event for event in votes if event.cast_at <= T0 - timedelta(hours=2)]
    return batch, score_batch(batch, history, CONTEXT, now=NOW).by_vote_id()


def test_honest_contest_has_no_surging_song():
    votes = _contest()
    index = ContestIndex(votes, [], CONTEXT, FraudConfig.default(), NOW)
    settings = DEFAULT_DETECTORS["fresh_account_surge"]
    surges = song_surges(index, settings)
    assert surges, "every song has some newcomers"
    minimum = settings.option("min_excess")
    assert not [
        surge
        for surge in surges.values()
        if surge.ratio >= settings.threshold and surge.observed - surge.expected >= minimum
    ]


def test_sustained_new_account_votes_for_one_song_are_flagged_with_a_second_signal():
    farm = _proxy_farm(60, email_verified=False)  # about 3.5x what the song's share predicts
    batch, verdicts = _score(_contest() + farm)
    farm_ids = {event.vote_id for event in farm}
    farm_verdicts = [verdicts[event.vote_id] for event in batch if event.vote_id in farm_ids]
    assert farm_verdicts
    for verdict in farm_verdicts:
        assert {"fresh_account_surge", "new_account", "unverified_email"} <= codes(verdict)
        assert verdict.suspicious
    reason = next(r for r in farm_verdicts[0].reasons if r.code == "fresh_account_surge")
    assert "song 7 got" in reason.evidence
    assert "predict 18 at the typical song's newcomer rate" in reason.evidence
    assert 3 <= reason.data["ratio"] < 10
    assert reason.points == 35


def test_a_moderate_surge_alone_does_not_condemn_a_vote():
    farm = _proxy_farm(60)  # verified emails, clean geo: only the song-level figure and the account's age
    batch, verdicts = _score(_contest() + farm)
    farm_ids = {event.vote_id for event in farm}
    farm_verdicts = [verdicts[event.vote_id] for event in batch if event.vote_id in farm_ids]
    assert farm_verdicts
    assert all("fresh_account_surge" in codes(verdict) for verdict in farm_verdicts)
    assert not any(verdict.suspicious for verdict in farm_verdicts)


def test_an_overwhelming_surge_holds_every_single_song_newcomer_for_review():
    farm = _proxy_farm(250)  # over 10x the prediction: nine in ten newcomer votes for the song are excess
    background = _contest()
    at = T0 - timedelta(minutes=20)
    honest_fan = vote(voter=900_002, song=7, at=at, account_created_at=at - timedelta(minutes=2))
    batch, verdicts = _score(background + farm + [honest_fan])
    farm_ids = {event.vote_id for event in farm}
    farm_verdicts = [verdicts[event.vote_id] for event in batch if event.vote_id in farm_ids]
    assert farm_verdicts
    for verdict in farm_verdicts:
        reason = next(r for r in verdict.reasons if r.code == "fresh_account_surge")
        assert reason.points == 42
        assert reason.data["held"] is True
        assert verdict.suspicious
    # the song-level figure cannot tell an honest newcomer who voted for that song alone apart
    assert verdicts[honest_fan.vote_id].suspicious
    # established voters of the song are untouched
    established = [e for e in batch if e.song_id == 7 and (e.cast_at - e.account_created_at).days > 1]
    assert established
    assert not any("fresh_account_surge" in codes(verdicts[e.vote_id]) for e in established)


def test_newcomers_who_also_vote_for_other_songs_get_no_surge_reason():
    farm = _proxy_farm(150, email_verified=False)
    background = _contest()
    at = T0 - timedelta(minutes=30)
    created = at - timedelta(minutes=3)
    both = [
        vote(voter=900_001, song=7, at=at, account_created_at=created, email_verified=False),
        vote(voter=900_001, song=3, at=at + timedelta(seconds=40), account_created_at=created),
    ]
    _, verdicts = _score(background + farm + both)
    assert "fresh_account_surge" not in codes(verdicts[both[0].vote_id])


def test_aged_accounts_piling_onto_one_song_do_not_make_the_others_surge():
    rng = random.Random(6)
    drip = [
        vote(voter=800_000 + i, song=9, at=T0 - timedelta(hours=rng.uniform(0, 22)))  # 300-day-old accounts
        for i in range(2000)
    ]
    votes = sorted(_contest() + drip, key=lambda event: event.cast_at)
    index = ContestIndex(votes, [], CONTEXT, FraudConfig.default(), NOW)
    settings = DEFAULT_DETECTORS["fresh_account_surge"]
    assert max(surge.ratio for surge in song_surges(index, settings).values()) < settings.threshold


def test_a_flash_crowd_of_new_accounts_is_a_burst_not_a_surge():
    rng = random.Random(5)
    crowd = []
    shared_at = T0 - timedelta(hours=1, minutes=30)
    for i in range(400):  # a contestant shares the link: hundreds of newcomers within the hour
        at = shared_at + timedelta(seconds=rng.expovariate(1 / 900))
        crowd.append(
            vote(
                voter=700_000 + i,
                song=12,
                at=at,
                user_agent=IPHONE,
                account_created_at=at - timedelta(seconds=rng.uniform(15, 300)),
                email_verified=rng.random() < 0.5,
            )
        )
    _, verdicts = _score(_contest() + crowd)
    assert not any("fresh_account_surge" in codes(verdict) for verdict in verdicts.values())
    assert not any(verdict.suspicious for verdict in verdicts.values())


def test_a_small_excess_is_not_enough():
    farm = _proxy_farm(12, email_verified=False)  # a dozen extra newcomers over a day: under min_excess
    _, verdicts = _score(_contest() + farm)
    assert not any("fresh_account_surge" in codes(verdict) for verdict in verdicts.values())
