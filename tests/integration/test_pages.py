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
