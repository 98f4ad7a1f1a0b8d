import ipaddress

import pytest

from fraud.net import ipv6_supernets, prefix_for
from fraud.stats import gap_variation, peak_window_count, percentile


def test_prefix_for_buckets_ipv4_by_24_and_ipv6_by_64():
    assert prefix_for("203.0.113.77") == "203.0.113.0/24"
    assert prefix_for("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"


@pytest.mark.parametrize(
    "prefix", ["2001:db8:1:2::/64", "2a02:8109:9cc0:77ab::/64", "2001:db8::/64", "::/64"]
)
def test_ipv6_supernets_agree_with_ipaddress(prefix):
    network = ipaddress.IPv6Network(prefix)
    supernets = ipv6_supernets(prefix)
    assert supernets is not None
    p56, p48 = supernets
    assert ipaddress.IPv6Network(p56) == network.supernet(new_prefix=56)
    assert ipaddress.IPv6Network(p48) == network.supernet(new_prefix=48)


def test_ipv6_supernets_ignore_ipv4_and_garbage():
    assert ipv6_supernets("203.0.113.0/24") is None
    assert ipv6_supernets("zz::/64") is None


def test_percentile_and_peak_window():
    assert percentile([], 0.99) == 0.0
    assert percentile([1, 2, 3, 4, 100], 0.5) == 3
    assert peak_window_count([0, 1, 2, 100, 101], 10) == 3
    assert peak_window_count([0, 1000], 10) == 1


def test_gap_variation_separates_loops_from_people():
    metronome = [i * 10.0 for i in range(10)]
    assert gap_variation(metronome) == 0.0
    people = [0, 3, 40, 41, 90, 200, 203, 260]
    variation = gap_variation(people)
    assert variation is not None
    assert variation > 0.5
    assert gap_variation([1.0, 2.0]) is None
