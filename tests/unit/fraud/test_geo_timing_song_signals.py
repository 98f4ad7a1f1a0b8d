import random
from datetime import timedelta

from fraud import ContestContext, score_batch
from fraud.detectors.geo import language_supports
from tests.unit.fraud.factories import CONTEXT, IPHONE, T0, codes, honest_background, vote


def _score(batch, history=(), context=CONTEXT):
    return score_batch(batch, list(history), context, now=T0 + timedelta(hours=3)).by_vote_id()


def _one(**fields):
    event = vote(voter=fields.pop("voter", 1), **fields)
    return _score([event])[event.vote_id]


def test_country_outside_the_eligible_set():
    assert "ineligible_country" in codes(_one(country="US", client_timezone="America/New_York"))
    assert "ineligible_country" not in codes(_one(country="FR", client_timezone="Europe/Paris"))
    everyone = ContestContext(contest_id=1, eligible_countries=None)
    event = vote(voter=2, country="US")
    assert "ineligible_country" not in codes(_score([event], context=everyone)[event.vote_id])


def test_missing_geo_scores_without_error_and_without_geo_reasons():
    verdict = _one(country=None, asn=None, asn_org=None, client_timezone=None, accept_language=None)
    assert not {"ineligible_country", "geo_mismatch", "hosting_asn"} & codes(verdict)
    assert verdict.score == 0


def test_timezone_and_language_both_contradicting_the_ip_country():
    mismatch = _one(country="DE", client_timezone="Asia/Dhaka", accept_language="bn-BD,bn;q=0.9")
    assert "geo_mismatch" in codes(mismatch)
    # English says nothing about a country: a German IP, a Dhaka clock and an English browser mismatch
    assert "geo_mismatch" in codes(_one(country="DE", client_timezone="Asia/Dhaka", accept_language="en-US"))
    # A German-speaking browser on a German IP with a foreign clock: the language vouches for the country
    assert "geo_mismatch" not in codes(
        _one(country="DE", client_timezone="Asia/Dhaka", accept_language="de-DE")
    )
    assert "geo_mismatch" not in codes(
        _one(country="DE", client_timezone="Europe/Berlin", accept_language="en-US")
    )
    assert "geo_mismatch" not in codes(
        _one(country="DE", client_timezone="Mars/Olympus", accept_language="fr")
    )


def test_vpn_mismatch_is_left_to_the_hosting_signal_but_server_clocks_are_not():
    vpn = {"country": "NL", "asn": 9009, "asn_org": "M247 Europe SRL"}
    assert "geo_mismatch" not in codes(_one(client_timezone="Europe/Berlin", accept_language="de-DE", **vpn))
    assert "geo_mismatch" in codes(_one(client_timezone="UTC", accept_language="en-US", **vpn))


def test_language_support():
    assert language_supports("de-AT,de;q=0.9", "AT") is True
    assert language_supports("fr-FR", "DE") is False
    assert language_supports("en-US,en;q=0.9", "DE") is None
    assert language_supports(None, "DE") is None


def test_robotic_account_timing_and_human_timing():
    robot = [vote(voter=10, song=i, at=T0 + timedelta(seconds=30 * i)) for i in range(1, 8)]
    assert "robotic_timing" in codes(_score(robot)[robot[-1].vote_id])
    rng = random.Random(1)
    at, human = T0, []
    for song in range(1, 8):
        at += timedelta(seconds=rng.lognormvariate(3, 0.8))
        human.append(vote(voter=11, song=song, at=at))
    assert "robotic_timing" not in codes(_score(human)[human[-1].vote_id])


def test_song_burst_is_reported_but_a_flash_crowd_is_not_condemned():
    rng = random.Random(2)
    background = honest_background(600, hours=20)
    crowd = []
    for i in range(300):  # a contestant shares the link: phones on many networks, many new accounts
        at = T0 + timedelta(seconds=rng.expovariate(1 / 900))
        crowd.append(
            vote(
                voter=20_000 + i,
                song=17,
                at=at,
                user_agent=IPHONE,
                ip=f"176.{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(1, 12)}",
                asn=6805,
                asn_org="Telefonica Germany",
                account_created_at=at - timedelta(seconds=rng.uniform(15, 300)),
                email_verified=rng.random() < 0.5,
            )
        )
    crowd.sort(key=lambda event: event.cast_at)
    verdicts = _score(crowd, background)
    assert any("song_burst" in codes(verdict) for verdict in verdicts.values())
    assert not any(verdict.suspicious for verdict in verdicts.values())
