"""Screenshots of pages at desktop and phone width: into $OVATION_SCREENSHOT_DIR when set (docs/screenshots
holds the committed ones), a temporary folder otherwise, so that taking them is exercised on every run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def screenshot_folder(fallback: Path) -> Path:
    folder = Path(os.environ.get("OVATION_SCREENSHOT_DIR") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page: Any, folder: Path, name: str) -> None:
    """The page as it is now at both widths (it re-lays itself out; nothing is reloaded)."""
    size = page.viewport_size
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # one layout pass; what is shown was already waited for
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)
