"""Geo signals: IP country outside the contest's eligible set; IP country contradicted by the client."""

from __future__ import annotations

from fraud.config import DetectorConfig
from fraud.detectors.base import Detector
from fraud.features import ContestIndex
from fraud.geo_data import LANGUAGE_COUNTRIES, SERVER_TIMEZONES, TIMEZONE_COUNTRIES
from fraud.types import Reason, VoteEvent


class IneligibleCountry(Detector):
    name = "ineligible_country"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        eligible = index.context.eligible_countries
        if eligible is None or vote.country is None or vote.country.upper() in eligible:
            return None  # missing GeoIP data is not evidence
        if (
            index.is_hosting(vote)
            and TIMEZONE_COUNTRIES.get(vote.client_timezone or "", frozenset()) & eligible
        ):
            return (
                None  # a VPN exit abroad; the device's own timezone places the voter in an eligible country
            )
        return self.reason(
            settings,
            f"IP {vote.ip} is located in {vote.country}, outside the contest's eligible countries",
            {"country": vote.country, "eligible": sorted(eligible)},
        )


def languages_of(accept_language: str | None) -> list[tuple[str, str | None]]:
    """(primary language, region or None) for each entry of an Accept-Language header."""
    result: list[tuple[str, str | None]] = []
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if not tag or tag == "*":
            continue
        pieces = tag.replace("_", "-").split("-")
        region = next((piece.upper() for piece in pieces[1:] if len(piece) == 2 and piece.isalpha()), None)
        result.append((pieces[0], region))
    return result


def language_supports(accept_language: str | None, country: str) -> bool | None:
    """True if a listed language (or its region) fits the country, False if none does, None if no opinion."""
    entries = languages_of(accept_language)
    opinionated = False
    for language, region in entries:
        if region == country:
            return True
        countries = LANGUAGE_COUNTRIES.get(language)
        if countries is None:
            continue  # English and unknown languages say nothing about the country
        opinionated = True
        if country in countries:
            return True
    return False if opinionated else None


class GeoMismatch(Detector):
    """The client's timezone AND its languages both contradict the IP's country.

    A VPN explains such a mismatch, so on hosting networks only a server timezone (UTC) counts.
    """

    name = "geo_mismatch"

    def evaluate(self, vote: VoteEvent, index: ContestIndex, settings: DetectorConfig) -> Reason | None:
        country = vote.country.upper() if vote.country else None
        zone = vote.client_timezone
        if country is None or not zone:
            return None
        if zone in SERVER_TIMEZONES:
            zone_countries: frozenset[str] = frozenset()
        elif index.is_hosting(vote):
            return None
        else:
            known = TIMEZONE_COUNTRIES.get(zone)
            if known is None or country in known:
                return None
            zone_countries = known
        if language_supports(vote.accept_language, country) is True:
            return None
        zone_text = "a server timezone" if not zone_countries else "/".join(sorted(zone_countries))
        return self.reason(
            settings,
            f"IP in {country} but the browser reports timezone {zone} ({zone_text}) "
            f"and languages '{vote.accept_language or 'none'}'",
            {"country": country, "timezone": zone, "accept_language": vote.accept_language},
        )
