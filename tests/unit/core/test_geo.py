"""GeoIP lookups read plain records: the same answers geoip2's models give, remembered per address."""

from __future__ import annotations

import random

import geoip2.database
import geoip2.errors
import pytest

from core.geo import GeoLookup, bundled_city_database
from core.settings import GeoSettings


@pytest.fixture(scope="module")
def lookup() -> GeoLookup:
    if bundled_city_database() is None:
        pytest.fail("maxminddb-geolite2 (a dependency) ships the City data these tests read")
    return GeoLookup.open(GeoSettings())


def test_records_read_as_geoip2_reads_them(lookup: GeoLookup) -> None:
    reference = geoip2.database.Reader(str(bundled_city_database()))
    rng = random.Random(11)
    addresses = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"]
    addresses += [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.1" for _ in range(2000)]
    found = 0
    for address in addresses:
        try:
            city = reference.city(address)
        except geoip2.errors.AddressNotFoundError:
            expected: tuple[object, ...] = (None, None, None, None, None)
        else:
            found += 1
            region = city.subdivisions.most_specific.name if city.subdivisions else None
            expected = (
                city.country.iso_code,
                region,
                city.city.name,
                city.location.latitude,
                city.location.longitude,
            )
        geo = lookup.lookup(address)
        assert (geo.country, geo.region, geo.city, geo.latitude, geo.longitude) == expected, address
    assert found > 500  # the sample reached many records, not only empty answers
    reference.close()


def test_an_address_is_looked_up_once_while_remembered(lookup: GeoLookup) -> None:
    first = lookup.lookup("81.2.69.160")
    assert first.country == "GB"
    assert lookup.lookup("81.2.69.160") is first  # from memory, not read again
    assert lookup.lookup("not an address").country is None
    assert lookup.lookup(None).country is None
