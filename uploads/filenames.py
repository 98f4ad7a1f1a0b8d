"""The client's filename is metadata to show people, never a path on our disk.

Files are stored under their SHA-256 (see :mod:`uploads.storage`), so the name only ends up in HTML, JSON and
``Content-Disposition`` headers. It is still cleaned: directory parts are dropped, control characters (NUL,
newlines that would split headers, bidi overrides that disguise ``evil.exe`` as ``exe.mp3``) are removed, the
text is NFC-normalised so that the same visible name compares equal, and the length is capped.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FALLBACK_NAME", "MAX_NAME_CHARS", "clean_display_name"]

MAX_NAME_CHARS = 255
FALLBACK_NAME = "untitled"
_MAX_EXTENSION_CHARS = 16  # longer "extensions" are just part of the title

# Bidirectional embedding/override/isolate marks: invisible, and used to spoof extensions. Other format
# characters (ZWJ, ZWNJ, soft hyphen...) are kept: several scripts and emoji sequences need them.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
_WHITESPACE_RUN = re.compile(r"\s+")
_EXTENSION = re.compile(rf"\.[^\W_]{{1,{_MAX_EXTENSION_CHARS}}}")


def _is_dropped(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Cc: C0/C1 controls and DEL; Cs: lone surrogates (from surrogateescape decoding) that cannot be encoded.
    return category in ("Cc", "Cs") or ch in _BIDI_CONTROLS


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    end = limit
    # Never split a base character from its combining marks: if the first character cut off is a mark,
    # cut before the whole cluster instead.
    while end > 0 and unicodedata.combining(text[end]):
        end -= 1
    return text[:end].rstrip()


def clean_display_name(name: str | None, *, max_chars: int = MAX_NAME_CHARS) -> str:
    """Return a safe, non-empty display name derived from a client-supplied filename.

    >>> clean_display_name("../../etc/passwd")
    'passwd'
    >>> clean_display_name("C:\\\\Users\\\\me\\\\Chanson d'été.mp3")
    "Chanson d'été.mp3"
    >>> clean_display_name(None)
    'untitled'
    """
    if not name:
        return FALLBACK_NAME
    text = unicodedata.normalize("NFC", name)
    # Whitespace-like controls (tab, newline, line separators) become spaces so that words stay apart.
    text = "".join(" " if ch.isspace() else ch for ch in text)
    text = "".join(ch for ch in text if not _is_dropped(ch))
    # Keep only the last path component, whichever separator the client's OS uses.
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _WHITESPACE_RUN.sub(" ", text).strip()
    if not text.strip("."):
        return FALLBACK_NAME  # ".", "..", "..." are path tricks, not names
    if len(text) > max_chars:
        match = _EXTENSION.fullmatch(text[text.rfind(".") :]) if "." in text else None
        ext = match.group(0) if match else ""
        stem = _truncate(text[: len(text) - len(ext)], max_chars - len(ext))
        text = stem + ext if stem else _truncate(text, max_chars)
    return unicodedata.normalize("NFC", text) or FALLBACK_NAME
