"""Settings read from ``OVATION_*`` environment variables (and a ``.env`` file when present).

The defaults are the embedded mode: a SQLite file and an upload folder under the data directory, and a Celery
broker that needs no server (kombu's filesystem transport). Setting ``OVATION_DATABASE_URL`` to PostgreSQL and
``OVATION_REDIS_URL`` switches to production mode.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from dotenv import load_dotenv

PREFIX = "OVATION_"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(PREFIX + name, default).strip()


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{PREFIX}{name} must be a boolean (true/false), got {raw!r}")


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    try:
        return int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{PREFIX}{name} must be an integer, got {raw!r}") from None


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{PREFIX}{name} must be a number, got {raw!r}") from None


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _env(name).split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str
    echo: bool = False
    pool_size: int = 20
    # Concurrent votes of one API process are written together (PostgreSQL): at most this many per batch,
    # waiting at most this long for company, with at most this many batches in flight.
    vote_batch_size: int = 64
    vote_batch_wait_ms: float = 1.0
    vote_batches_in_flight: int = 2

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Celery broker. ``redis_url`` empty means the embedded filesystem broker under ``folder``."""

    redis_url: str
    folder: Path

    @property
    def embedded(self) -> bool:
        return not self.redis_url


@dataclass(frozen=True, slots=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    # Peers allowed to set X-Forwarded-For (reverse proxies). Anyone else's header is ignored.
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = False
    # Failed logins allowed per account (and per known device of it) before each further attempt waits:
    # first login_delay_seconds, doubling with every failure up to login_lockout_seconds.
    login_max_failures: int = 5
    login_address_max_failures: int = 20  # the same per client address
    login_delay_seconds: int = 15
    login_lockout_seconds: int = 900
    rate_limit_per_minute: int = 600
    credential_rate_limit_per_minute: int = 20
    vote_rate_limit_per_minute: int = 60
    # Sessions and accounts are reused from memory for this long: a logout or ban made through another API
    # process applies within it. 0 reads the database on every request.
    auth_cache_seconds: float = 2.0
    # Limits of the HTTP server itself (uvicorn, see ovation.cli and api.limits). What uvicorn cannot
    # enforce (a deadline for the request head, connections per address) is the reverse proxy's job.
    max_header_bytes: int = 16 * 1024  # request line + headers; 0: no limit here, a proxy in front has one
    keepalive_seconds: int = 5
    max_connections: int = 1000  # per API process; requests beyond it are answered 503
    body_timeout_seconds: int = 30  # a body must start within this, and then keep up body_min_rate
    body_min_rate: int = 1024  # bytes per second
    # Who may read /ready's details and /metrics: these networks, or the bearer of the token.
    operator_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    operator_token: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class GeoSettings:
    city_db: str = ""
    asn_db: str = ""


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    # How often the sweeper looks for work whose request was lost, and how old such work must be.
    sweep_interval_seconds: int = 60
    sweep_stale_seconds: int = 30
    # How often the coordinated-voting detector runs over each active contest's whole graph.
    group_detection_minutes: int = 10
    # How often beat runs the leaderboard integrity check (recount, compare, repair).
    leaderboard_check_seconds: int = 300
    # At most one leaderboard history snapshot per contest per this many minutes (0: at every change).
    leaderboard_snapshot_minutes: int = 10


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Account mail. With ``smtp_url`` set, messages go through that server over TLS; without it each one
    is written to ``outbox_dir`` (and its link logged), so the embedded mode needs no mail server."""

    outbox_dir: Path
    # Links in mails start with this; never taken from a request's Host header (a forged one would send the
    # token to another site).
    public_url: str
    smtp_url: str = field(default="", repr=False)  # smtp://user:pass@host:587 (STARTTLS) or smtps://...:465
    smtp_ca_file: str = ""  # a CA bundle for a relay with a private certificate authority
    sender: str = "Ovation <no-reply@localhost>"
    verify_link_hours: int = 48
    reset_link_minutes: int = 60


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database: DatabaseSettings
    broker: BrokerSettings
    http: HttpSettings
    geo: GeoSettings
    workers: WorkerSettings
    mail: MailSettings
    upload_dir: Path
    secret_key: str = field(repr=False)
    log_json: bool = False
    log_level: str = "INFO"

    @property
    def production(self) -> bool:
        return not self.database.is_sqlite and not self.broker.embedded


def _load_or_create_secret(data_dir: Path, production: bool) -> str:
    """A secret that survives restarts and is shared by every process using the same data directory.

    Production must set OVATION_SECRET_KEY explicitly: a generated file is not shared across hosts.
    """
    configured = _env("SECRET_KEY")
    if configured:
        if len(configured) < 32:
            raise ValueError(f"{PREFIX}SECRET_KEY must be at least 32 characters")
        return configured
    if production and not _env_bool("ALLOW_GENERATED_SECRET", False):
        raise ValueError(
            f"{PREFIX}SECRET_KEY is required in production mode (PostgreSQL + Redis); "
            f"generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        candidate = secrets.token_urlsafe(48)
        # O_EXCL: when several processes start at once, exactly one writes and the others read its value.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(candidate)
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds a secret shorter than 32 characters: delete it to generate a new one")
    return secret


def load_settings() -> Settings:
    load_dotenv(override=False)
    data_dir = Path(_env("DATA_DIR", "data")).resolve()
    database_url = _env("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'ovation.sqlite3'}"
    if database_url.startswith(("postgres://", "postgresql://")):
        database_url = "postgresql+asyncpg://" + database_url.split("://", 1)[1]
    database = DatabaseSettings(
        url=database_url,
        echo=_env_bool("DATABASE_ECHO", False),
        pool_size=_env_int("DATABASE_POOL_SIZE", 20),
        vote_batch_size=_env_int("VOTE_BATCH_SIZE", 64),
        vote_batch_wait_ms=_env_float("VOTE_BATCH_WAIT_MS", 1.0),
        vote_batches_in_flight=_env_int("VOTE_BATCHES_IN_FLIGHT", 2),
    )
    broker = BrokerSettings(redis_url=_env("REDIS_URL"), folder=data_dir / "broker")
    http = HttpSettings(
        host=_env("HOST", "127.0.0.1"),
        port=_env_int("PORT", 8000),
        trusted_proxies=_env_list("TRUSTED_PROXIES"),
        secure_cookies=_env_bool("SECURE_COOKIES", False),
        login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5),
        login_address_max_failures=_env_int("LOGIN_ADDRESS_MAX_FAILURES", 20),
        login_delay_seconds=_env_int("LOGIN_DELAY_SECONDS", 15),
        login_lockout_seconds=_env_int("LOGIN_LOCKOUT_SECONDS", 900),
        rate_limit_per_minute=_env_int("RATE_LIMIT_PER_MINUTE", 600),
        credential_rate_limit_per_minute=_env_int("CREDENTIAL_RATE_LIMIT_PER_MINUTE", 20),
        vote_rate_limit_per_minute=_env_int("VOTE_RATE_LIMIT_PER_MINUTE", 60),
        auth_cache_seconds=_env_int("AUTH_CACHE_SECONDS", 2),
        max_header_bytes=_env_int("HTTP_MAX_HEADER_BYTES", 16 * 1024),
        keepalive_seconds=_env_int("HTTP_KEEPALIVE_SECONDS", 5),
        max_connections=_env_int("HTTP_MAX_CONNECTIONS", 1000),
        body_timeout_seconds=_env_int("HTTP_BODY_TIMEOUT_SECONDS", 30),
        body_min_rate=_env_int("HTTP_BODY_MIN_RATE", 1024),
        operator_networks=_env_list("OPERATOR_NETWORKS") or ("127.0.0.0/8", "::1/128"),
        operator_token=_env("OPERATOR_TOKEN"),
    )
    production = not database.is_sqlite and not broker.embedded
    served_host = "localhost" if http.host in {"0.0.0.0", "::", ""} else http.host
    mail = MailSettings(
        outbox_dir=Path(_env("MAIL_OUTBOX_DIR") or str(data_dir / "outbox")).resolve(),
        public_url=(_env("PUBLIC_URL") or f"http://{served_host}:{http.port}").rstrip("/"),
        smtp_url=_env("SMTP_URL"),
        smtp_ca_file=_env("SMTP_CA_FILE"),
        sender=_env("MAIL_FROM", "Ovation <no-reply@localhost>"),
        verify_link_hours=_env_int("VERIFY_LINK_HOURS", 48),
        reset_link_minutes=_env_int("RESET_LINK_MINUTES", 60),
    )
    return Settings(
        data_dir=data_dir,
        database=database,
        broker=broker,
        http=http,
        geo=GeoSettings(city_db=_env("GEOIP_CITY_DB"), asn_db=_env("GEOIP_ASN_DB")),
        workers=WorkerSettings(
            sweep_interval_seconds=_env_int("SWEEP_INTERVAL_SECONDS", 60),
            sweep_stale_seconds=_env_int("SWEEP_STALE_SECONDS", 30),
            group_detection_minutes=_env_int("GROUP_DETECTION_MINUTES", 10),
            leaderboard_check_seconds=_env_int("LEADERBOARD_CHECK_SECONDS", 300),
            leaderboard_snapshot_minutes=_env_int("LEADERBOARD_SNAPSHOT_MINUTES", 10),
        ),
        mail=mail,
        upload_dir=Path(_env("UPLOAD_DIR") or str(data_dir / "uploads")).resolve(),
        secret_key=_load_or_create_secret(data_dir, production),
        log_json=_env_bool("LOG_JSON", production),
        log_level=_env("LOG_LEVEL", "INFO").upper(),
    )


@cache
def get_settings() -> Settings:
    return load_settings()
