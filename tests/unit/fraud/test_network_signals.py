"""Velocity and shared-network signals: farms are caught, campuses and carrier NAT are spared."""

import random
from datetime import timedelta

from fraud import score_batch
from tests.unit.fraud.factories import CONTEXT, IPHONE, T0, codes, fingerprint, honest_background, vote

DATACENTER = {"country": "NL", "asn": 14061, "asn_org": "DigitalOcean, LLC"}


def _score(batch, history=()):
    return score_batch(batch, list(history), CONTEXT, now=T0 + timedelta(hours=1)).by_vote_id()


def test_script_on_one_datacenter_ip_is_flagged_with_velocity_and_lockstep_evidence():
    background = honest_background()
    script = [
        vote(
            voter=500 + i,
            song=9,
            ip="167.99.14.23",
            at=T0 + timedelta(seconds=2 * i),
            fingerprint=None,
            device_cookie=None,
            client_timezone=None,
            **DATACENTER,
        )
        for i in range(60)
    ]
    verdicts = _score(script, background)
    last = verdicts[script[-1].vote_id]
    assert last.suspicious
    assert {"ip_velocity", "hosting_asn", "network_lockstep", "datacenter_burst"} <= codes(last)
    velocity = next(reason for reason in last.reasons if reason.code == "ip_velocity")
    assert "167.99.14.23" in velocity.evidence
    assert velocity.data["count"] >= 40
    assert sum(verdicts[v.vote_id].suspicious for v in script) >= 50


def test_carrier_nat_with_dozens_of_honest_voters_is_not_flagged():
    rng = random.Random(3)
    background = honest_background()
    crowd = []
    for i in range(80):  # 80 phones behind one CGNAT address within the hour, mixed songs, random arrivals
        at = T0 + timedelta(seconds=rng.uniform(0, 3600))
        crowd.append(
            vote(
                voter=2000 + i,
                song=rng.randint(1, 20),
                ip="176.20.30.40",
                at=at,
                user_agent=IPHONE,
                asn=6805,
                asn_org="Telefonica Germany",
                account_created_at=at - timedelta(minutes=2),
                email_verified=i % 2 == 0,
            )
        )
    crowd.sort(key=lambda event: event.cast_at)
    verdicts = _score(crowd, background)
    assert not any(verdict.suspicious for verdict in verdicts.values())
    assert any("ip_velocity" in codes(verdict) for verdict in verdicts.values())  # seen, but not enough alone
    assert not any("network_lockstep" in codes(verdict) for verdict in verdicts.values())


def test_campus_rally_on_one_slash_24_is_not_flagged():
    rng = random.Random(4)
    rally = []
    for i in range(150):  # a lecture hall votes within minutes from four NAT addresses of the campus /24
        at = T0 + timedelta(seconds=rng.uniform(0, 400))
        rally.append(
            vote(
                voter=3000 + i,
                song=7 if rng.random() < 0.8 else 3,
                ip=f"141.30.7.{10 + i % 4}",
                at=at,
                asn=680,
                asn_org="DFN Verein",
                account_created_at=at - timedelta(seconds=90),
                email_verified=False,
            )
        )
    rally.sort(key=lambda event: event.cast_at)
    verdicts = _score(rally, honest_background())
    assert not any(verdict.suspicious for verdict in verdicts.values())
    assert any("ip_prefix_velocity" in codes(verdict) for verdict in verdicts.values())


def test_vpn_users_on_shared_exits_are_not_flagged():
    rng = random.Random(5)
    vpn = []
    for i in range(40):  # honest VPN users: two exits, mixed songs, own devices, home timezones
        vpn.append(
            vote(
                voter=4000 + i,
                song=rng.randint(1, 20),
                ip=f"185.1.1.{i % 2 + 1}",
                at=T0 + timedelta(seconds=rng.uniform(0, 3600)),
                country="US",
                asn=9009,
                asn_org="M247 Europe SRL",
            )
        )
    vpn.sort(key=lambda event: event.cast_at)
    verdicts = _score(vpn, honest_background())
    assert all("hosting_asn" in codes(verdict) for verdict in verdicts.values())
    assert not any("ineligible_country" in codes(verdict) for verdict in verdicts.values())
    assert not any("datacenter_burst" in codes(verdict) for verdict in verdicts.values())
    assert not any(verdict.suspicious for verdict in verdicts.values())


def test_ipv6_prefix_rotation_is_seen_at_slash_56():
    # One customer /56 rotating through /64s: each /64 looks fresh, the /56 does not.
    votes = [
        vote(voter=5000 + i, song=4, ip=f"2a02:8109:9cc0:77{i:02x}::1", at=T0 + timedelta(seconds=5 * i))
        for i in range(40)
    ]
    verdicts = _score(votes, honest_background())
    last = verdicts[votes[-1].vote_id]
    prefix = next(reason for reason in last.reasons if reason.code == "ip_prefix_velocity")
    assert prefix.data["key_kind"] in ("prefix56", "prefix48")
    assert "ip_velocity" not in codes(last)


def test_many_new_accounts_born_on_one_ip_are_reported():
    votes = [
        vote(
            voter=6000 + i,
            song=1 + i % 5,
            ip="88.1.2.3",
            at=T0 + timedelta(minutes=3 * i),
            account_created_at=T0 + timedelta(minutes=3 * i) - timedelta(minutes=5),
        )
        for i in range(12)
    ]
    last = _score(votes)[votes[-1].vote_id]
    assert "accounts_per_network" in codes(last)
    assert not last.suspicious  # a shared network alone proves nothing


def test_device_and_account_velocity():
    device = [
        vote(voter=7000 + i % 3, song=i, at=T0 + timedelta(seconds=20 * i), fingerprint=fingerprint(99))
        for i in range(1, 21)
    ]
    last = _score(device, honest_background())[device[-1].vote_id]
    assert "device_fingerprint_velocity" in codes(last)
    account = [vote(voter=7100, song=i, at=T0 + timedelta(seconds=15 * i)) for i in range(1, 21)]
    assert "account_velocity" in codes(_score(account, honest_background())[account[-1].vote_id])
    fan = [vote(voter=7200, song=i, at=T0 + timedelta(seconds=40 * i)) for i in range(1, 4)]
    quiet = _score(fan, honest_background())[fan[-1].vote_id]
    assert not {"account_velocity", "device_fingerprint_velocity", "ip_velocity"} & codes(quiet)
