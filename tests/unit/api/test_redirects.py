"""The server's reading of ``next``: what a browser would follow, reduced to a path on this site."""

from __future__ import annotations

import pytest

from api.redirects import same_site_path


@pytest.mark.parametrize(
    "raw",
    [
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\r\n/evil.example/",
        " //evil.example",
        "\x00//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        None,
        "/" + "a" * 3000,
    ],
)
def test_anything_but_a_path_on_this_site_goes_home(raw: str | None) -> None:
    assert same_site_path(raw) == "/"


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("/me/votes", "/me/votes"),
        ("/contests/spring?tab=songs#top", "/contests/spring?tab=songs#top"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),  # a path of this site: browsers keep %2F as is
        ("/a b/ü?q=<x>", "/a%20b/%C3%BC?q=%3Cx%3E"),
        ("/ok\r\nSet-Cookie: a=b", "/okSet-Cookie:%20a=b"),  # no header of its own in Location
    ],
)
def test_paths_on_this_site_are_kept_and_written_out_encoded(raw: str, path: str) -> None:
    assert same_site_path(raw) == path
