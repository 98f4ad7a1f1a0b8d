"""The upload storage of this process: built once (API lifespan, worker process) from the settings."""

from __future__ import annotations

from core.settings import Settings
from uploads import LocalStorage, Storage


def open_storage(settings: Settings) -> Storage:
    """Content-addressed storage rooted at ``settings.upload_dir`` (see :mod:`uploads.storage`).

    An S3-compatible backend would be chosen here from the settings; every caller only sees ``Storage``.
    """
    return LocalStorage(settings.upload_dir)
