"""The services the integration tests run against, found (and the test database recreated) once per run, and
the settings every test process and child process gets."""

from __future__ import annotations

import os

from tests.support.geoip_files import write_geoip_databases
from tests.support.services import Backends, discover

BACKENDS: Backends = discover()
GEOIP_CITY, GEOIP_ASN = write_geoip_databases(BACKENDS.data_dir / "geoip")

OPERATOR_TOKEN = "operator-token-for-the-tests-0123456789"

# The settings are read once per process, at the first get_settings() (no module reads them on import).
TEST_ENV = {
    "OVATION_DATABASE_URL": BACKENDS.database_url,
    "OVATION_REDIS_URL": BACKENDS.redis_url,
    "OVATION_DATA_DIR": str(BACKENDS.data_dir),
    "OVATION_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    # Tests share one client address; rate limits have their own tests with their own app.
    "OVATION_RATE_LIMIT_PER_MINUTE": "1000000",
    "OVATION_CREDENTIAL_RATE_LIMIT_PER_MINUTE": "1000000",
    "OVATION_LOG_LEVEL": "WARNING",
    "OVATION_VOTE_RATE_LIMIT_PER_MINUTE": "1000000",
    # Tests change accounts behind the API's back and expect the next request to see it.
    "OVATION_AUTH_CACHE_SECONDS": "0",
    "OVATION_GEOIP_CITY_DB": str(GEOIP_CITY),
    "OVATION_GEOIP_ASN_DB": str(GEOIP_ASN),
    # The test client's peer is called "testclient": trusting it lets tests choose the voter's address with
    # X-Forwarded-For, the way a reverse proxy would pass it on.
    "OVATION_TRUSTED_PROXIES": "testclient",
    # /ready's details and /metrics: the tests call them as an operator with this token.
    "OVATION_OPERATOR_TOKEN": OPERATOR_TOKEN,
}
os.environ.update(TEST_ENV)
