"""Small City and ASN MaxMind databases with known ranges, written by the tests themselves (mmdb-writer)."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MmdbF64, MmdbU32, MMDBWriter
from netaddr import IPSet

# address range -> (country, region, city, latitude, longitude)
CITIES = {
    "203.0.113.0/24": ("SE", "Stockholm", "Stockholm", 59.33, 18.07),
    "198.51.100.0/24": ("US", "Virginia", "Ashburn", 39.04, -77.49),
    "192.0.2.0/24": ("FR", "Ile-de-France", "Paris", 48.86, 2.35),
    "2001:db8::/32": ("NO", "Oslo", "Oslo", 59.91, 10.75),
}
# address range -> (ASN, organisation)
ASNS = {
    "203.0.113.0/24": (3301, "Telia Company AB"),
    "198.51.100.0/24": (16509, "AMAZON-02"),
    "2001:db8::/32": (2119, "Telenor Norge AS"),
}


def write_geoip_databases(folder: Path) -> tuple[Path, Path]:
    city_writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    for network, (country, region, city, latitude, longitude) in CITIES.items():
        city_writer.insert_network(
            IPSet([network]),
            {
                "country": {"iso_code": country, "names": {"en": country}},
                "subdivisions": [{"iso_code": region[:3].upper(), "names": {"en": region}}],
                "city": {"names": {"en": city}},
                "location": {"latitude": MmdbF64(latitude), "longitude": MmdbF64(longitude)},
            },
        )
    asn_writer = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    for network, (number, organisation) in ASNS.items():
        asn_writer.insert_network(
            IPSet([network]),
            {"autonomous_system_number": MmdbU32(number), "autonomous_system_organization": organisation},
        )
    folder.mkdir(parents=True, exist_ok=True)
    city_path, asn_path = folder / "test-city.mmdb", folder / "test-asn.mmdb"
    city_writer.to_db_file(str(city_path))
    asn_writer.to_db_file(str(asn_path))
    return city_path, asn_path
