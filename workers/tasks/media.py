"""Media queue: check one uploaded song (hash, format, probe, rules, duplicates) and decide its status."""

from __future__ import annotations

from functools import cache

from celery import shared_task
from sqlalchemy.exc import InterfaceError, OperationalError

from core.jobs import PROCESS_SONG_TASK
from core.models import utcnow
from core.settings import get_settings
from core.songs import processing
from core.storage import open_storage
from uploads import Storage
from workers.runtime import run_service


@cache
def storage() -> Storage:
    """The upload storage of this worker process, built once."""
    return open_storage(get_settings())


# Transient: the disk or the database hiccuped. The service handed the song back before raising, so the
# retry claims it again at once; after the last retry the sweeper still re-requests it.
@shared_task(
    name=PROCESS_SONG_TASK,
    autoretry_for=(OSError, OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def process_song(song_id: int) -> str:
    return run_service(lambda session: processing.process_song(session, storage(), song_id, now=utcnow()))
