import logging
from dataclasses import replace
from datetime import timedelta

import pytest

from fraud import FraudConfig, score_batch
from fraud.config import DetectorConfig
from fraud.detectors import ALL_DETECTORS, Detector
from fraud.features import ContestIndex
from fraud.types import Reason, VoteEvent
from tests.unit.fraud.factories import CONTEXT, T0, codes, honest_background, vote


class Exploding(Detector):
    name = "new_account"  # borrows a config entry; raises on every vote

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        raise RuntimeError("boom")


def test_a_detector_that_raises_does_not_stop_the_others(caplog):
    event = vote(voter=1, user_agent="python-requests/2.31")
    others = [detector for detector in ALL_DETECTORS if detector.name != "new_account"]
    with caplog.at_level(logging.ERROR, logger="fraud.scoring"):
        result = score_batch([event, vote(voter=2)], [], CONTEXT, now=T0, detectors=[Exploding(), *others])
    assert result.detector_failures == {"new_account": 2}
    assert "scripted_user_agent" in codes(result.verdicts[0])
    assert "new_account failed on 2 of 2 votes" in caplog.text


def test_history_may_contain_the_batch_and_every_vote_is_indexed_once():
    background = honest_background(50)
    batch = background[-5:]
    with_batch = score_batch(batch, background, CONTEXT, now=T0)
    without_batch = score_batch(batch, background[:-5], CONTEXT, now=T0)
    assert with_batch.verdicts == without_batch.verdicts


def test_every_vote_gets_one_verdict_with_a_bounded_score():
    background = honest_background(100)
    bots = [
        vote(
            voter=900 + i,
            song=3,
            ip="167.99.1.1",
            asn=14061,
            asn_org="DigitalOcean",
            user_agent="curl/8",
            fingerprint=None,
            device_cookie=None,
            email=f"bot{i:03d}@mailinator.com",
            email_verified=False,
            account_created_at=T0 - timedelta(seconds=5),
            at=T0 + timedelta(seconds=i),
        )
        for i in range(30)
    ]
    result = score_batch(bots, background, CONTEXT, now=T0 + timedelta(minutes=5))
    assert [verdict.vote_id for verdict in result.verdicts] == [bot.vote_id for bot in bots]
    assert all(0 <= verdict.score <= 100 for verdict in result.verdicts)
    assert all(verdict.suspicious for verdict in result.verdicts[10:])
    top = result.verdicts[-1]
    assert [reason.points for reason in top.reasons] == sorted((r.points for r in top.reasons), reverse=True)
    assert all(reason.evidence and isinstance(reason.data, dict) for reason in top.reasons)


def test_ipv6_only_votes_without_fingerprint_score_without_error():
    votes = [
        vote(voter=i, ip=f"2001:db8:{i:x}::{i:x}", fingerprint=None if i % 2 else "garbage!!", at=T0)
        for i in range(1, 30)
    ]
    result = score_batch(votes, [], CONTEXT, now=T0)
    assert result.detector_failures == {}
    assert len(result.verdicts) == len(votes)


def test_custom_config_changes_scores():
    event = vote(voter=1, user_agent="python-requests/2.31")
    default = score_batch([event], [], CONTEXT, now=T0).verdicts[0]
    assert "scripted_user_agent" in codes(default)
    assert not default.suspicious
    strict = FraudConfig.from_dict({"review_threshold": 40})
    assert score_batch([event], [], CONTEXT, strict, now=T0).verdicts[0].suspicious
    off = FraudConfig.from_dict({"detectors": {"scripted_user_agent": {"enabled": False}}})
    assert "scripted_user_agent" not in codes(score_batch([event], [], CONTEXT, off, now=T0).verdicts[0])
    heavy = FraudConfig.from_dict({"detectors": {"scripted_user_agent": {"weight": 80}}})
    assert score_batch([event], [], CONTEXT, heavy, now=T0).verdicts[0].score == 80


def test_network_points_are_discounted_without_strong_evidence():
    nat = [vote(voter=i, ip="176.1.1.1", song=i % 7, at=T0 + timedelta(seconds=7 * i)) for i in range(60)]
    verdict = score_batch(nat, [], CONTEXT, now=T0 + timedelta(minutes=10)).verdicts[-1]
    velocity = next(reason for reason in verdict.reasons if reason.code == "ip_velocity")
    assert velocity.points == pytest.approx(FraudConfig().detectors["ip_velocity"].weight * 0.3)
    assert "a shared network alone proves nothing" in velocity.evidence


def test_empty_batch():
    assert score_batch([], honest_background(10), CONTEXT, now=T0).verdicts == ()


def test_reasons_are_json_ready():
    event = replace(vote(voter=1), user_agent=None)
    reason = score_batch([event], [], CONTEXT, now=T0).verdicts[0].reasons[0]
    import json

    assert json.loads(json.dumps(reason.as_dict()))["code"] == "scripted_user_agent"
