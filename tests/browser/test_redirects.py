"""After login the browser goes to ``?next=``, but only to a path on this site, as Chromium itself reads it.

Every request Chromium makes to another origin is intercepted and refused, and recorded: the test proves the
browser never even tried to leave, not only where it ended.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from tests.browser.conftest import RunningPlatform

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI=true) and says why
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

# The raw query text after "next=", as an attacker writes it into a link.
OFF_SITE = [
    "/%09/evil.example/",  # tab: stripped by the URL parser after a "starts with one slash" check
    "/%0a/evil.example/",  # newline
    "/%0d/evil.example/",  # carriage return
    "/%0d%0a/evil.example/",
    "%09//evil.example/",
    "%20//evil.example/",  # leading space, stripped
    "%00//evil.example/",  # leading C0 control, stripped
    "/%5Cevil.example/",  # backslash: read as a slash in http(s) URLs
    "%5C%5Cevil.example/",
    "/%09%5Cevil.example/",
    "//evil.example/",  # scheme-relative
    "///evil.example/",
    "https://evil.example/",
    "http:evil.example",  # same scheme, no slashes: WHATWG reads it as relative, we refuse it
    "%2F%2Fevil.example/",  # the encoded variant of "//"
    "%252F%252Fevil.example/",  # encoded twice: a relative path, not this site's path either
    "javascript:alert(document.domain)",
    "evil.example",
]

# Paths on this site arrive where they point, query and fragment included.
ON_SITE = {
    "/me/votes": "/me/votes",
    quote("/moderation?tab=cases#open", safe=""): "/moderation?tab=cases#open",
    "/%252F%252Fevil.example/": "/%2F%2Fevil.example/",  # a (missing) page of this site, not another site
}


def _guard(page: Any, platform: RunningPlatform) -> list[str]:
    """Refuse and record every request to another origin."""
    own = urlsplit(platform.base_url).netloc
    left: list[str] = []

    def route(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == own:
            route.continue_()
        else:
            left.append(url)
            route.abort()

    page.context.route("**/*", route)
    return left


def _log_in(page: Any, platform: RunningPlatform, next_query: str) -> None:
    page.goto(f"/login?next={next_query}")
    page.get_by_label("Email or username").fill(platform.admin_login)
    page.locator("#login-password").fill(platform.admin_password)
    page.get_by_role("button", name="Log in").click()


def _landed(page: Any, platform: RunningPlatform, path: str) -> None:
    expect(page).to_have_url(platform.base_url + path)


@pytest.mark.parametrize("next_query", ["/%09/evil.example/", "/%0a/evil.example/", "//evil.example/"])
def test_login_never_sends_the_browser_to_another_site(
    page: Any, platform: RunningPlatform, next_query: str
) -> None:
    left = _guard(page, platform)
    _log_in(page, platform, next_query)
    _landed(page, platform, "/")
    expect(page.locator("#whoami")).to_contain_text("Logged in as")
    assert left == []


def test_login_goes_back_to_a_page_of_this_site(page: Any, platform: RunningPlatform) -> None:
    left = _guard(page, platform)
    _log_in(page, platform, quote("/me/votes?page=2#list", safe=""))
    _landed(page, platform, "/me/votes?page=2#list")
    assert left == []


def test_every_off_site_variant_lands_on_the_home_page(page: Any, platform: RunningPlatform) -> None:
    """The variants through /continue, where the login page sends the browser once signed in."""
    left = _guard(page, platform)
    for next_query in OFF_SITE:
        page.goto(f"/continue?next={next_query}")
        assert page.url == platform.base_url + "/", f"next={next_query} went to {page.url}"
    for next_query, path in ON_SITE.items():
        page.goto(f"/continue?next={next_query}")
        assert page.url == platform.base_url + path, f"next={next_query} went to {page.url}"
    assert left == [], f"the browser asked another site for {left}"
