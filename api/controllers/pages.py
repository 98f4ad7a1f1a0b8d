"""The web pages: HTML shells rendered from api/templates (one base.html every page extends) and served by the
API; their scripts fetch everything through the JSON API."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, Request, Router, get
from litestar.datastructures import CacheControlHeader, Headers, MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.params import FromPath, QueryParameter
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.response.base import ASGIResponse
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import PUBLIC
from api.redirects import same_site_path

API_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = API_DIR / "templates"
STATIC_DIR = API_DIR / "static"

# Pages only load this site's own scripts, styles and audio: an injected <script> or a remote beacon is
# refused by the browser even if some text ever slipped into the DOM unescaped.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Revalidate every time (ETag): a deploy must never pair a cached page with newer scripts.
    "Cache-Control": "no-cache",
}


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja with autoescaping on (Litestar's default for its Jinja engine): a value put in a page is text."""
    return TemplateConfig(directory=TEMPLATE_DIR, engine=JinjaTemplateEngine)


class Page(Template):
    """A rendered page with an ETag over its bytes, so that NotModifiedMiddleware can answer 304 as it does
    for static files (Litestar's Template response carries no ETag)."""

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        response = super().to_asgi_response(app, request, **kwargs)
        digest = hashlib.sha256(response.body).hexdigest()[:32]
        response.headers["etag"] = f'"{digest}"'
        return response


def _page(name: str, **context: Any) -> Page:
    # media_type without a charset: Litestar adds it.
    return Page(name, context=context, media_type="text/html", headers=PAGE_HEADERS)


def _etag_matches(if_none_match: str, etag: str) -> bool:
    def bare(tag: str) -> str:
        return tag.strip().removeprefix("W/")

    return if_none_match.strip() == "*" or bare(etag) in {bare(tag) for tag in if_none_match.split(",")}


class NotModifiedMiddleware(ASGIMiddleware):
    """Answers 304 when the browser's If-None-Match holds the file's ETag. Litestar's File responses carry an
    ETag but always send the whole file; with pages and scripts revalidated on every load (no-cache), a
    returning visitor would download ~60 KB each time instead of a few hundred bytes of headers."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if_none_match = Headers.from_scope(scope).get("if-none-match")
        if scope.get("method") not in ("GET", "HEAD") or not if_none_match:
            await next_app(scope, receive, send)
            return
        not_modified = False

        async def send_unless_not_modified(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableScopeHeaders(message)
                if _etag_matches(if_none_match, headers.get("etag") or "\0"):
                    not_modified = True
                    for name in ("content-length", "content-type", "content-disposition"):
                        if name in headers:
                            del headers[name]
                    await send({**message, "status": 304})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            if not not_modified:
                await send(message)

        await next_app(scope, receive, send_unless_not_modified)


class PageController(Controller):
    """Bookmarkable URLs, one template each."""

    include_in_schema = False
    opt = PUBLIC  # the pages themselves are public; the API calls they make are checked as usual
    middleware = [NotModifiedMiddleware()]

    @get("/", name="page-home")
    async def home(self) -> Page:
        return _page("index.html")

    @get("/contests/{slug:str}", name="page-contest")
    async def contest(self, slug: FromPath[str]) -> Page:
        return _page("contest.html")  # the script reads the slug from the address

    @get("/login", name="page-login")
    async def login(self) -> Page:
        return _page("login.html")

    @get("/continue", name="page-continue", status_code=HTTP_303_SEE_OTHER)
    async def go_on(self, next_page: Annotated[str | None, QueryParameter(name="next")] = None) -> Redirect:
        """Where the login page sends the browser once signed in: the server, not the page's script, decides
        that ``next`` is a path on this site (api.redirects), and the browser follows its answer."""
        return Redirect(same_site_path(next_page), status_code=HTTP_303_SEE_OTHER)

    @get("/signup", name="page-signup")
    async def signup(self) -> Page:
        return _page("signup.html")

    @get("/verify-email", name="page-verify-email")
    async def verify_email(self) -> Page:
        return _page("verify_email.html")  # the script reads the link's token from the fragment

    @get("/forgot-password", name="page-forgot-password")
    async def forgot_password(self) -> Page:
        return _page("forgot_password.html")

    @get("/reset-password", name="page-reset-password")
    async def reset_password(self) -> Page:
        return _page("reset_password.html")

    @get("/account", name="page-account")
    async def account(self) -> Page:
        return _page("account.html")

    @get("/me/votes", name="page-my-votes")
    async def my_votes(self) -> Page:
        return _page("votes.html")

    @get("/me/songs", name="page-my-songs")
    async def my_songs(self) -> Page:
        return _page("songs.html")

    @get("/moderation", name="page-moderation")
    async def moderation(self) -> Page:
        return _page("moderation.html")

    @get("/moderation/songs", name="page-song-queue")
    async def song_queue(self) -> Page:
        return _page("song-queue.html")

    @get("/moderation/songs/{song_id:int}", name="page-song-review")
    async def song_review(self, song_id: FromPath[int]) -> Page:
        return _page("song-review.html")  # the script reads the id from the address

    @get("/songs/{song_id:int}", name="page-song")
    async def song(self, song_id: FromPath[int]) -> Page:
        return _page("song.html")

    @get("/admin", name="page-admin")
    async def admin(self) -> Page:
        return _page("admin.html")

    @get(["/admin/contests/new", "/admin/contests/{contest_id:int}"], name="page-admin-contest")
    async def admin_contest(self) -> Page:
        return _page("admin-contest.html")

    @get("/admin/users", name="page-admin-users")
    async def admin_users(self) -> Page:
        return _page("admin-users.html")

    @get("/admin/audit", name="page-admin-audit")
    async def admin_audit(self) -> Page:
        return _page("admin-audit.html")


def static_router() -> Router:
    """Scripts and styles under /static (plain ES modules: no build step)."""
    return create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        opt=PUBLIC,
        cache_control=CacheControlHeader(no_cache=True),
        include_in_schema=False,
        middleware=[NotModifiedMiddleware()],
    )
