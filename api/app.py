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
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.auth import session_auth
from api.controllers.auth import CredentialsController, SessionController
from api.controllers.contests import ContestController
from api.controllers.ops import OpsController
from api.controllers.users import UserAdminController
from api.deps import provide_db
from api.errors import EXCEPTION_HANDLERS
from core.db import create_engine, create_sessionmaker
from core.logging import configure_logging
from core.settings import Settings, get_settings
from workers.app import check_broker

UNPROTECTED_PATHS = ["^/health$", "^/ready$", "^/metrics", "^/schema"]


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def _stores(settings: Settings) -> dict[str, Store]:
    names = ("sessions", "rate_limit", "credential_rate_limit")
    if settings.broker.embedded:
        return {name: FileStore(settings.data_dir / name, create_directories=True) for name in names}
    root = RedisStore.with_client(url=settings.broker.redis_url)
    return {name: root.with_namespace(name) for name in names}


def _trusted_proxy_middleware(trusted: tuple[str, ...]) -> Any:
    # X-Forwarded-For is honoured only when the direct peer is one of these proxies.
    def wrap(app: ASGIApp) -> ASGIApp:
        return ProxyHeadersMiddleware(app, trusted_hosts=list(trusted))  # type: ignore[arg-type,return-value]

    return wrap


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        engine = create_engine(settings.database)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    auth = session_auth(settings)
    middleware: list[Any] = []
    if settings.http.trusted_proxies:
        middleware.append(_trusted_proxy_middleware(settings.http.trusted_proxies))
    middleware.append(
        RateLimitConfig(
            rate_limit=("minute", settings.http.rate_limit_per_minute),
            store="rate_limit",
            exclude=UNPROTECTED_PATHS,
        ).middleware
    )
    middleware.append(PrometheusConfig(app_name="ovation", prefix="ovation", group_path=True).middleware)

    # Credential guessing from one address is slowed down here; the account itself locks after repeated
    # failures (core.services.users.authenticate).
    credentials = Router(
        path="/api/auth",
        route_handlers=[CredentialsController],
        middleware=[
            RateLimitConfig(
                rate_limit=("minute", settings.http.credential_rate_limit_per_minute),
                store="credential_rate_limit",
            ).middleware
        ],
    )
    return Litestar(
        route_handlers=[
            OpsController,
            MetricsController,
            SessionController,
            credentials,
            ContestController,
            UserAdminController,
        ],
        lifespan=[lifespan],
        state=State({"settings": settings, "broker_check": check_broker}),
        dependencies={"db": Provide(provide_db)},
        stores=_stores(settings),
        middleware=middleware,
        on_app_init=[auth.on_app_init],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.http.secure_cookies,
            cookie_samesite="lax",
            exclude=UNPROTECTED_PATHS,
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Ovation",
            version="0.1.0",
            description="Song contests: uploads, public votes, explainable fraud review, leaderboards.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
        logging_config=LoggingConfig(configure_root_logger=False, log_exceptions="never"),
        request_max_body_size=1024 * 1024,
    )
