"""GeoIP lookups with geoip2: City (country, region, city, location) and ASN (network operator) readers,
opened once per process. Missing databases turn the feature off with a warning; votes still record."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geoip2.database
import geoip2.errors
from maxminddb import InvalidDatabaseError

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


def _open(path: str | Path | None, kind: str) -> geoip2.database.Reader | None:
    if not path:
        return None
    try:
        return geoip2.database.Reader(str(path))
    except (OSError, InvalidDatabaseError, ValueError) as exc:
        log.warning("GeoIP %s database %s could not be opened (%s): that lookup is off", kind, path, exc)
        return None


class GeoLookup:
    def __init__(self, city: geoip2.database.Reader | None, asn: geoip2.database.Reader | None) -> None:
        self._city = city
        self._asn = asn

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
        country = region = city_name = None
        latitude = longitude = None
        asn = as_org = None
        if self._city is not None:
            try:
                city = self._city.city(ip)
            except (geoip2.errors.AddressNotFoundError, ValueError):
                pass
            else:
                country = city.country.iso_code
                region = city.subdivisions.most_specific.name if city.subdivisions else None
                city_name = city.city.name
                latitude, longitude = city.location.latitude, city.location.longitude
        if self._asn is not None:
            try:
                record = self._asn.asn(ip)
            except (geoip2.errors.AddressNotFoundError, ValueError):
                pass
            else:
                asn, as_org = record.autonomous_system_number, record.autonomous_system_organization
        return GeoData(country, region, city_name, latitude, longitude, asn, as_org)

    def close(self) -> None:
        for reader in (self._city, self._asn):
            if reader is not None:
                reader.close()
