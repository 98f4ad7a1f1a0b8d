from datetime import timedelta

import pytest

from fraud import score_batch
from fraud.detectors.accounts import is_disposable, numbered_stem
from fraud.detectors.client import automation_marker
from tests.unit.fraud.factories import CONTEXT, T0, codes, fingerprint, honest_background, vote


def _score(batch, history=()):
    return score_batch(batch, list(history), CONTEXT, now=T0 + timedelta(hours=1)).by_vote_id()


def test_one_phone_cycling_through_many_accounts_is_flagged():
    farm = [
        vote(
            voter=100 + i,
            song=5,
            at=T0 + timedelta(seconds=45 * i),
            fingerprint=fingerprint(1),
            device_cookie="dc_phone1",
            ip="103.4.5.6",
            country="BD",
            asn=24389,
            asn_org="Grameenphone Ltd.",
            client_timezone="Asia/Dhaka",
            accept_language="en-US,en;q=0.9",
        )
        for i in range(30)
    ]
    verdicts = _score(farm, honest_background())
    last = verdicts[farm[-1].vote_id]
    assert last.suspicious
    assert {"shared_device_accounts", "ineligible_country"} <= codes(last)
    assert sum(verdict.suspicious for verdict in verdicts.values()) >= 25


def test_a_family_tablet_and_garbage_fingerprints_do_not_count_as_shared_devices():
    family = [
        vote(voter=200 + i, song=i + 1, fingerprint=fingerprint(7), device_cookie="dc_tablet")
        for i in range(3)
    ]
    broken = [
        vote(voter=300 + i, song=1 + i % 9, fingerprint="undefined", at=T0 + timedelta(minutes=i))
        for i in range(50)
    ]
    verdicts = _score(family + broken)
    assert not any("shared_device_accounts" in codes(verdict) for verdict in verdicts.values())
    assert all("fingerprint_missing" in codes(verdicts[v.vote_id]) for v in broken)
    assert not any(verdict.suspicious for verdict in verdicts.values())


def test_sybil_signups_with_sequential_and_disposable_emails_are_flagged():
    sybils = []
    for i in range(1, 13):
        at = T0 + timedelta(minutes=2 * i)
        email = f"songfan.lisa{i:03d}@gmail.com" if i % 2 else f"x{i}k@mailinator.com"
        sybils.append(
            vote(
                voter=400 + i,
                song=8,
                at=at,
                email=email,
                email_verified=False,
                account_created_at=at - timedelta(seconds=12),
                fingerprint=fingerprint(4),
                device_cookie=f"dc_incognito{i}",
            )
        )
    verdicts = _score(sybils, honest_background())
    assert all(verdicts[v.vote_id].suspicious for v in sybils[6:])
    sequential = verdicts[sybils[-2].vote_id]  # songfan.lisa011
    assert "sequential_email" in codes(sequential)
    disposable = verdicts[sybils[-1].vote_id]
    assert {"disposable_email", "vote_after_signup", "new_account", "unverified_email"} <= codes(disposable)


def test_honest_numbered_emails_are_not_a_run():
    people = [
        vote(voter=500 + i, email=f"anna{year}@gmail.com", account_created_at=T0 - timedelta(days=30 * i))
        for i, year in enumerate([1985, 1990, 1991, 1993, 2001])
    ]
    assert not any("sequential_email" in codes(v) for v in _score(people).values())


def test_disposable_domains_include_subdomains():
    assert is_disposable("mailinator.com")
    assert is_disposable("mx.mailinator.com")
    assert not is_disposable("gmail.com")
    assert numbered_stem("User007@Example.com") == ("user", "example.com", 7)
    assert numbered_stem("anna@example.com") is None


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0",
        "python-requests/2.31.0",
        "curl/8.4.0",
        "Go-http-client/1.1",
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/5",
        "Mozilla/5.0 (selenium webdriver)",
    ],
)
def test_scripted_user_agents_are_named(agent):
    assert automation_marker(agent) is not None
    verdict = _score([vote(voter=1, user_agent=agent)])
    assert "scripted_user_agent" in codes(next(iter(verdict.values())))


def test_real_browsers_and_missing_agents():
    for agent in (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ):
        assert automation_marker(agent) is None
    missing = next(iter(_score([vote(voter=2, user_agent=None)]).values()))
    assert "scripted_user_agent" in codes(missing)
    assert "no User-Agent" in missing.reasons[0].evidence


def test_new_and_unverified_accounts_alone_are_not_suspicious():
    at = T0 + timedelta(minutes=5)
    newbie = vote(
        voter=9,
        at=at,
        account_created_at=at - timedelta(seconds=20),
        email_verified=False,
        fingerprint=None,
        device_cookie=None,
    )
    verdict = _score([newbie])[newbie.vote_id]
    assert {"new_account", "vote_after_signup", "unverified_email", "fingerprint_missing"} <= codes(verdict)
    assert "device_cookie_missing" in codes(verdict)
    assert not verdict.suspicious


def test_a_privacy_minded_voter_with_a_disposable_address_on_a_vpn_is_not_flagged():
    at = T0 + timedelta(minutes=5)
    private = vote(
        voter=12,
        at=at,
        email="me@mailinator.com",
        email_verified=False,
        country="NL",
        asn=9009,
        asn_org="M247 Europe SRL",
        account_created_at=at - timedelta(minutes=3),
    )
    verdict = _score([private], honest_background())[private.vote_id]
    assert {"disposable_email", "hosting_asn", "new_account"} <= codes(verdict)
    assert not verdict.suspicious
