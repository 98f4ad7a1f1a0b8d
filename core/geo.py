"""GeoIP lookups: City (country, region, city, location) and ASN (network operator) readers, opened once per
process. Missing databases turn the feature off with a warning; votes still record.

The files are opened with maxminddb, the reader geoip2 is built on, and read as plain records: geoip2's City
model builds a dozen objects per lookup (56 us against 21 us for the record on this machine), and a vote
needs seven fields of it. The field names are geoip2's (``names["en"]`` is its ``.name``)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import maxminddb
from maxminddb import InvalidDatabaseError
from maxminddb.reader import Reader

from core.settings import GeoSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GeoData:
    country: str | None = None
    region: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    asn: int | None = None
    as_org: str | None = None


EMPTY = GeoData()


def bundled_city_database() -> Path | None:
    """The free GeoLite2 City file shipped on PyPI as maxminddb-geolite2 (old, but needs no account)."""
    try:
        path = Path(str(resources.files("_maxminddb_geolite2") / "GeoLite2-City.mmdb"))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


_DATABASE_TYPES = {"City": ("City", "Enterprise"), "ASN": ("ASN",)}


def _open(path: str | Path | None, kind: str) -> Reader | None:
    if not path:
        return None
    try:
        reader = maxminddb.open_database(str(path))
    except (OSError, InvalidDatabaseError, ValueError) as exc:
        log.warning("GeoIP %s database %s could not be opened (%s): that lookup is off", kind, path, exc)
        return None
    database_type = reader.metadata().database_type
    # geoip2 refuses (at every lookup) a City lookup in an ASN file and the reverse: refused here once.
    if not any(name in database_type for name in _DATABASE_TYPES[kind]):
        reader.close()
        log.warning("GeoIP %s database %s is a %s database: that lookup is off", kind, path, database_type)
        return None
    return reader


def _record(reader: Reader, ip: str) -> dict[str, Any] | None:
    try:
        record = reader.get(ip)
    except ValueError:  # not an address
        return None
    return record if isinstance(record, dict) else None


def _get(record: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


class GeoLookup:
    """Lookups are remembered per address: a voter's burst, or the many voters behind one carrier NAT, cost
    one pair of reads. The readers' files do not change while the process runs, so the cache only needs a
    bound on its size; entries older than ``cache_seconds`` are read again all the same, to keep the
    answer no staler than a process restart would give."""

    def __init__(
        self,
        city: Reader | None,
        asn: Reader | None,
        *,
        cache_size: int = 20_000,
        cache_seconds: float = 300.0,
    ) -> None:
        self._city = city
        self._asn = asn
        self._cache: OrderedDict[str, tuple[float, GeoData]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_seconds = cache_seconds

    @classmethod
    def open(cls, settings: GeoSettings) -> GeoLookup:
        city_path: str | Path | None = settings.city_db or bundled_city_database()
        if not settings.city_db and city_path:
            log.info("GeoIP: no OVATION_GEOIP_CITY_DB set; using the bundled GeoLite2 City data")
        city, asn = _open(city_path, "City"), _open(settings.asn_db, "ASN")
        if city is None:
            log.warning("GeoIP City database missing: votes are recorded without country, region and city")
        if asn is None:
            log.warning("GeoIP ASN database missing (OVATION_GEOIP_ASN_DB): votes are recorded without ASN")
        return cls(city, asn)

    def lookup(self, ip: str | None) -> GeoData:
        if ip is None:
            return EMPTY
        now = time.monotonic()
        known = self._cache.get(ip)
        if known is not None and now - known[0] < self._cache_seconds:
            return known[1]
        found = self._read(ip)
        self._cache[ip] = (now, found)
        self._cache.move_to_end(ip)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return found

    def _read(self, ip: str) -> GeoData:
        country = region = city_name = None
        latitude = longitude = None
        asn = as_org = None
        if self._city is not None and (city := _record(self._city, ip)) is not None:
            country = _get(city, "country", "iso_code")
            subdivisions = city.get("subdivisions")
            if isinstance(subdivisions, list) and subdivisions:
                region = _get(subdivisions[-1], "names", "en")  # geoip2's subdivisions.most_specific
            city_name = _get(city, "city", "names", "en")
            latitude, longitude = _get(city, "location", "latitude"), _get(city, "location", "longitude")
        if self._asn is not None and (record := _record(self._asn, ip)) is not None:
            asn, as_org = record.get("autonomous_system_number"), record.get("autonomous_system_organization")
        return GeoData(country, region, city_name, latitude, longitude, asn, as_org)

    def close(self) -> None:
        for reader in (self._city, self._asn):
            if reader is not None:
                reader.close()
