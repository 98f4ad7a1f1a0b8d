"""Text a contestant or a moderator writes, made safe to store and show: control characters dropped, one-line
fields collapsed to one line, reasons clipped to what the pages show."""

from __future__ import annotations

REASON_MAX_CHARS = 500


def clip(text: str, limit: int = REASON_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_line(text: str) -> str:
    """A one-line field (title, artist...): control characters dropped, whitespace runs collapsed."""
    kept = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or ch.isprintable())
    return " ".join(kept.split())


def clean_text(text: str) -> str:
    """A multi-line field: control characters other than newline and tab dropped."""
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
