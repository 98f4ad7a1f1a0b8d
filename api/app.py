"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.types import ASGIApp
from redis.asyncio import Redis
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import contract
from api.auth import CSRF_COOKIE, UNAUTHENTICATED_PATHS, RecentUsers, session_auth
from api.bodies import JsonRequest
from api.controllers.account import AccountController
from api.controllers.appeals import AppealController
from api.controllers.audit import AuditController
from api.controllers.auth import CredentialsController, SessionController
from api.controllers.contests import ContestController
from api.controllers.leaderboard import BoardContext, LeaderboardController
from api.controllers.moderation import ModerationController
from api.controllers.ops import OpsController
from api.controllers.pages import PageController, static_router, template_config
from api.controllers.songs import SongController, SongModerationController
from api.controllers.users import UserAdminController
from api.controllers.votes import VoteController
from api.csrf import SessionBoundCSRFMiddleware
from api.deps import provide_db
from api.docs_ui import docs_assets_router, docs_render_plugin
from api.errors import EXCEPTION_HANDLERS
from api.limits import BodyDeadlineMiddleware
from api.operators import operators_only
from api.ratelimit import ADDRESS_LIMIT_ON_ROUTE, account_or_address, rate_limit, rate_limit_config
from api.stores import DatabaseSessionStore, FailOpenStore, RateLimitStore
from core.db import open_database
from core.geo import GeoLookup
from core.jobs.dispatch import Dispatcher
from core.leaderboard.cache import register_repairs_metric
from core.logging import configure_logging
from core.process import freeze_startup_objects
from core.settings import Settings, get_settings
from core.storage import open_storage
from core.votes.writers import open_vote_writer

UNPROTECTED_PATHS = ["^/health$", "^/ready$", "^/metrics", "^/schema", "^/static/"]


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    guards = [operators_only]


def _stores(settings: Settings, sessions: DatabaseSessionStore) -> dict[str, Store]:
    limits = ("rate_limit", "credential_rate_limit", "vote_rate_limit")
    stores: dict[str, Store] = {"sessions": sessions}
    if settings.broker.embedded:
        stores.update({name: FileStore(settings.data_dir / name, create_directories=True) for name in limits})
    else:
        client = Redis.from_url(settings.broker.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        root = FailOpenStore(RateLimitStore(client, namespace="ovation"))
        stores.update({name: root.with_namespace(name) for name in limits})
    return stores


def trusted_proxy_middleware(trusted: tuple[str, ...]) -> Any:
    # X-Forwarded-For is honoured only when the direct peer is one of these proxies.
    def wrap(app: ASGIApp) -> ASGIApp:
        return ProxyHeadersMiddleware(app, trusted_hosts=list(trusted))  # type: ignore[arg-type,return-value]

    return wrap


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)

    sessions = DatabaseSessionStore(read_ttl=settings.http.auth_cache_seconds)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        database = await open_database(settings.database)
        app.state.engine = database.engine
        app.state.sessionmaker = database.sessionmaker
        sessions.bind(database.sessionmaker, database.raw_pool)
        # Chosen once: the PostgreSQL function on the plain pool, or the ORM transaction.
        app.state.vote_writer = open_vote_writer(settings.database, database.sessionmaker, database.raw_pool)
        app.state.geo = GeoLookup.open(settings.geo)  # once per process
        app.state.storage = open_storage(settings)  # upload storage, once per process
        app.state.dispatcher = Dispatcher.open(settings)  # sends committed jobs to the broker
        app.state.leaderboard = BoardContext.open(settings)  # board cache client, contest rules memo
        # The integrity check runs in workers; /metrics of every API process shows what it repaired.
        register_repairs_metric(settings)
        freeze_startup_objects()
        try:
            yield
        finally:
            await app.state.leaderboard.cache.close()  # the live feeds' shared change listener
            app.state.geo.close()
            app.state.dispatcher.close()
            await app.state.vote_writer.close()
            await database.close()

    auth = session_auth(settings)
    middleware: list[Any] = []
    if settings.http.body_timeout_seconds > 0:
        middleware.append(
            BodyDeadlineMiddleware(settings.http.body_timeout_seconds, max(settings.http.body_min_rate, 1))
        )
    if settings.http.trusted_proxies:
        middleware.append(trusted_proxy_middleware(settings.http.trusted_proxies))
    # With Redis, a vote's per-address and per-account budgets are taken in one call by the vote limiter;
    # the file stores of the embedded mode keep two limiters.
    combined = not settings.broker.embedded
    address_limit = None
    if settings.http.rate_limit_per_minute > 0:  # 0: the reverse proxy or CDN in front limits per address
        address_limit = rate_limit_config(
            settings.http.rate_limit_per_minute,
            "rate_limit",
            exclude=UNPROTECTED_PATHS,
            exclude_opt_key=ADDRESS_LIMIT_ON_ROUTE if combined else None,
        )
        middleware.append(address_limit.middleware)
    middleware.append(PrometheusConfig(app_name="ovation", prefix="ovation", group_path=True).middleware)
    # Last, so inside the session middleware (which on_app_init puts first): tokens are bound to the session.
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.http.secure_cookies,
        cookie_samesite="lax",
        exclude=UNPROTECTED_PATHS,
    )
    middleware.append(DefineMiddleware(SessionBoundCSRFMiddleware, config=csrf))

    # Credential guessing from one address is slowed down here; the account itself locks after repeated
    # failures (core.accounts.login).
    credentials = Router(
        path="/api/auth",
        route_handlers=[CredentialsController],
        middleware=[rate_limit(settings.http.credential_rate_limit_per_minute, "credential_rate_limit")],
    )
    account = Router(
        path="/api/account",
        route_handlers=[AccountController],
        middleware=[rate_limit(settings.http.credential_rate_limit_per_minute, "credential_rate_limit")],
    )
    # Per-account budget on casting votes, on top of the per-address one and the contest's daily limits.
    votes = Router(
        path="/",
        route_handlers=[VoteController],
        middleware=[
            rate_limit(
                settings.http.vote_rate_limit_per_minute,
                "vote_rate_limit",
                identifier_for_request=account_or_address,
                also=address_limit if combined else None,
            )
        ],
    )
    return Litestar(
        route_handlers=[
            OpsController,
            MetricsController,
            SessionController,
            credentials,
            account,
            ContestController,
            LeaderboardController,
            UserAdminController,
            AuditController,
            ModerationController,
            votes,
            AppealController,
            SongController,
            SongModerationController,
            PageController,  # the web pages (GET / is the home page)
            static_router(),
            docs_assets_router(),
        ],
        lifespan=[lifespan],
        state=State(
            {
                "settings": settings,
                "recent_users": RecentUsers(ttl=settings.http.auth_cache_seconds),
            }
        ),
        dependencies={"db": Provide(provide_db)},
        stores=_stores(settings, sessions),
        middleware=middleware,
        on_app_init=[auth.on_app_init],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=template_config(),
        openapi_config=OpenAPIConfig(
            title="Ovation",
            version="0.1.0",
            description="Song contests: uploads, public votes, explainable fraud review, leaderboards.",
            path="/schema",
            render_plugins=[
                docs_render_plugin(),  # its assets served by the app: works offline
                contract.ContractJsonPlugin(
                    unauthenticated=UNAUTHENTICATED_PATHS, unprotected=UNPROTECTED_PATHS
                ),
            ],
        ),
        logging_config=LoggingConfig(configure_root_logger=False, log_exceptions="never"),
        request_max_body_size=1024 * 1024,
        request_class=JsonRequest,
        before_send=[contract.allow_every_method],
    )
