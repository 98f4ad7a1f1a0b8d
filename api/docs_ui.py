"""/schema in a browser without internet: Swagger UI's own files, served by the app from the swagger-ui-py
package (which tracks the swagger-ui-dist releases), instead of Litestar's default CDN links."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from litestar import Router
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from api.auth import PUBLIC
from api.controllers.pages import NotModifiedMiddleware

ASSETS_PATH = "/schema/assets"


def _package_dir(name: str) -> Path:
    # Located without importing it: the package's own import loads its web-framework adapters.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name} package is not installed (pip install -e .)")
    return Path(next(iter(spec.submodule_search_locations)))


ASSETS_DIR = _package_dir("swagger_ui") / "static"
# Only what the page loads: the package also carries Swagger Editor's bundles.
ASSET_FILES = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png"}
)


def docs_render_plugin() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        path="/",  # the default /schema page
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )


def docs_assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS_DIR],
        opt=PUBLIC,
        # Revalidated like the site's own scripts (an upgrade of the package changes the files).
        cache_control=CacheControlHeader(no_cache=True),
        include_in_schema=False,
        guards=[_only_asset_files],
        middleware=[NotModifiedMiddleware()],  # the bundle is 1.5 MB: a returning reader revalidates it
    )


def _only_asset_files(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    if connection.url.path.rsplit("/", 1)[-1] not in ASSET_FILES:
        raise NotFoundException("no such file")
