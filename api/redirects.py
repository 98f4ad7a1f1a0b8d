"""Where a page may send the browser next: a path on this site, as the browser itself will read it.

Checking the raw text is not enough: a URL parser first strips leading and trailing spaces and control
characters, removes every tab and newline, and (for http and https) reads a backslash as a slash
(WHATWG URL standard, "basic URL parser"). So ``/\\t/evil.example`` passes a check for "starts with one
slash" and is then followed as ``//evil.example``, another site. Here the text is cleaned the same way first,
then only a path without scheme or host is kept, and it is written out again with everything unusual
percent-encoded, so the browser has nothing left to reinterpret.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

HOME = "/"
MAX_LENGTH = 2048
_STRIPPED = "".join(chr(code) for code in range(0x21))  # C0 controls and space, at either end
_TAB_AND_NEWLINES = re.compile("[\t\n\r]")
# Characters left as they are when the path, query and fragment are written out again (RFC 3986's
# unreserved, sub-delims, ":", "@", "/", "?" and "%" so that existing escapes stay what they were).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def same_site_path(raw: str | None) -> str:
    """``raw`` as a path on this site (with its query and fragment), or ``/`` when it leads anywhere else."""
    if not raw or len(raw) > MAX_LENGTH:
        return HOME
    value = _TAB_AND_NEWLINES.sub("", raw.strip(_STRIPPED)).replace("\\", "/")
    if not value.startswith("/") or value.startswith("//"):
        return HOME  # "//host", "https://host", "javascript:", "http:host" or a path relative to this page
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    path, query, fragment = (
        quote(parts.path, safe=_PATH_SAFE),
        quote(parts.query, safe=_QUERY_SAFE),
        quote(parts.fragment, safe=_QUERY_SAFE),
    )
    return urlunsplit(("", "", path, query, fragment))
