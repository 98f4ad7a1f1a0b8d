import pytest

from fraud import FraudConfig
from fraud.config import DEFAULT_DETECTORS


def test_defaults_cover_every_detector_with_a_positive_weight():
    config = FraudConfig.default()
    assert set(config.detectors) == set(DEFAULT_DETECTORS)
    assert all(settings.weight > 0 for settings in config.detectors.values())
    assert 0 < config.review_threshold <= 100


def test_overrides_from_a_plain_dict_change_only_what_they_name():
    config = FraudConfig.from_dict(
        {
            "review_threshold": 60,
            "detectors": {
                "ip_velocity": {"weight": 12, "threshold": 4, "options": {"floor_5m": 20}},
                "new_account": {"enabled": False},
            },
            "extra_hosting_asns": [64500],
            "hosting_org_keywords": ["Bulletproof Hosting"],
            "groups": {"min_accounts": 15, "min_lift": 9.5},
        }
    )
    assert config.review_threshold == 60
    assert config.detectors["ip_velocity"].weight == 12
    assert config.detectors["ip_velocity"].threshold == 4
    assert config.detectors["ip_velocity"].option("floor_5m") == 20
    assert config.detectors["ip_velocity"].option("floor_1h") == DEFAULT_DETECTORS["ip_velocity"].option(
        "floor_1h"
    )
    assert config.detectors["new_account"].enabled is False
    assert config.detectors["ip_prefix_velocity"] == DEFAULT_DETECTORS["ip_prefix_velocity"]
    assert 64500 in config.hosting_asns
    assert 16509 in config.hosting_asns
    assert config.hosting_org_keywords == ("bulletproof hosting",)
    assert config.groups.min_accounts == 15
    assert config.groups.min_lift == 9.5
    assert FraudConfig.default().detectors["ip_velocity"].weight == DEFAULT_DETECTORS["ip_velocity"].weight


def test_hosting_asns_can_be_replaced_entirely():
    assert FraudConfig.from_dict({"hosting_asns": [64501]}).hosting_asns == frozenset({64501})


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"review_treshold": 50}, "'review_treshold'"),
        ({"detectors": {"ip_velocty": {"weight": 1}}}, "'detectors.ip_velocty'"),
        ({"detectors": {"ip_velocity": {"wieght": 1}}}, "'detectors.ip_velocity.wieght'"),
        (
            {"detectors": {"ip_velocity": {"options": {"floor_9m": 1}}}},
            "'detectors.ip_velocity.options.floor_9m'",
        ),
        ({"detectors": {"ip_velocity": {"weight": "high"}}}, "'detectors.ip_velocity.weight'"),
        ({"detectors": {"ip_velocity": {"weight": True}}}, "'detectors.ip_velocity.weight'"),
        ({"detectors": {"ip_velocity": {"threshold": -1}}}, "'detectors.ip_velocity.threshold'"),
        ({"detectors": {"ip_velocity": {"enabled": "yes"}}}, "'detectors.ip_velocity.enabled'"),
        ({"detectors": {"ip_velocity": 5}}, "'detectors.ip_velocity'"),
        ({"review_threshold": 0}, "'review_threshold'"),
        ({"review_threshold": 150}, "'review_threshold'"),
        ({"uncorroborated_network_factor": 2}, "'uncorroborated_network_factor'"),
        ({"hosting_asns": ["AS16509"]}, "'hosting_asns'"),
        ({"hosting_org_keywords": [""]}, "'hosting_org_keywords'"),
        ({"groups": {"min_acounts": 3}}, "'groups.min_acounts'"),
        ({"groups": {"min_accounts": 2.5}}, "'groups.min_accounts'"),
    ],
)
def test_bad_overrides_raise_a_value_error_naming_the_key(overrides, named):
    with pytest.raises(ValueError, match=named):
        FraudConfig.from_dict(overrides)


def test_the_overrides_must_be_an_object():
    with pytest.raises(ValueError, match="must be an object"):
        FraudConfig.default().with_overrides(["review_threshold"])  # type: ignore[arg-type]


def test_every_reason_code_has_plain_words_for_voters():
    from fraud.cohorts import REASON_CODE as COHORT_CODE
    from fraud.explain import PLAIN_WORDS, plain_words
    from fraud.groups import REASON_CODE

    assert set(DEFAULT_DETECTORS) | {REASON_CODE, COHORT_CODE} <= set(PLAIN_WORDS)
    assert plain_words("no_such_code") == "an unusual voting pattern"
