"""The HTML pages: one base template, the same security headers on each, escaped values."""

from __future__ import annotations

import re

import pytest

from api.controllers.pages import CONTENT_SECURITY_POLICY
from tests.support.api import Api

PAGES = {
    "/": "home.js",
    "/contests/some-contest": "contest.js",
    "/login": "login.js",
    "/me/votes": "votes.js",
    "/me/songs": "songs.js",
    "/moderation": "moderation.js",
}


@pytest.mark.parametrize(("path", "script"), PAGES.items())
async def test_every_page_extends_the_base_template(api: Api, path: str, script: str) -> None:
    page = await api.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    html = page.text
    # The shared head and header, exactly once, and the page's own module.
    assert html.startswith("<!doctype html>")
    assert html.count('<link rel="stylesheet" href="/static/css/site.css">') == 1
    assert html.count('<nav id="site-nav" aria-label="Main"></nav>') == 1
    assert html.count('<main id="main">') == 1
    assert re.findall(r'<script type="module" src="/static/js/([^"]+)"></script>', html) == [script]
    assert re.search(r"<title>[^<]+ · Ovation</title>", html)
    assert "<script>" not in html  # nothing inline: the CSP would refuse it


async def test_pages_send_the_same_bytes_and_etag_each_time(api: Api) -> None:
    first, second = await api.get("/me/songs"), await api.get("/me/songs")
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    assert first.headers["etag"] != (await api.get("/me/votes")).headers["etag"]


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_a_browser_gets_a_page_for_an_unknown_address_and_a_script_gets_json(api: Api) -> None:
    page = await api.get("/no/such/page", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<h1>Page not found</h1>" in page.text
    assert '<nav id="site-nav" aria-label="Main"></nav>' in page.text  # the site's own layout
    for accept in ("application/json", "*/*", None):
        headers = {"Accept": accept} if accept else {}
        answer = await api.get("/no/such/page", headers=headers)
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"
    # An API error reached from the address bar reads as a page too, with the API's own words.
    missing = await api.get("/api/contests/987654321", headers={"Accept": BROWSER_ACCEPT})
    assert (missing.status_code, missing.headers["content-type"]) == (404, "text/html; charset=utf-8")
    assert "<code>contest_not_found</code>" in missing.text
    # Unsafe methods keep JSON whatever they accept: only navigations get pages.
    posted = await api.post("/no/such/page", headers={"Accept": BROWSER_ACCEPT})
    assert posted.json()["code"] in {"not_found", "method_not_allowed"}


async def test_an_unexpected_error_is_a_500_page_without_the_details(settings) -> None:
    from litestar import get
    from litestar.testing import AsyncTestClient

    from api.app import create_app
    from api.auth import PUBLIC

    @get("/explode", opt=PUBLIC, include_in_schema=False)
    async def explode() -> None:
        raise RuntimeError("secret internal detail")

    app = create_app(settings)
    app.register(explode)
    async with AsyncTestClient(app=app) as client:
        page = await client.get("/explode", headers={"Accept": BROWSER_ACCEPT})
        assert page.status_code == 500
        assert "Something went wrong on our side" in page.text
        assert "secret internal detail" not in page.text
        answer = await client.get("/explode", headers={"Accept": "application/json"})
        assert (answer.status_code, answer.json()["code"]) == (500, "internal_error")
        assert "secret internal detail" not in answer.text


async def test_the_api_docs_load_only_this_sites_files(api: Api) -> None:
    docs = await api.get("/schema", headers={"Accept": BROWSER_ACCEPT})
    assert docs.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs.text)
    assert sources, docs.text[:500]
    assert all(source.startswith("/schema/assets/") for source in sources), sources
    for source in sources:
        asset = await api.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 1000
        again = await api.get(source, headers={"If-None-Match": asset.headers["etag"]})
        assert again.status_code == 304
    # The package's other files (Swagger Editor) are not served.
    assert (await api.get("/schema/assets/swagger-editor.js")).status_code == 404
