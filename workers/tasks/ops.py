"""Maintenance tasks: heartbeat and the sweeper that re-requests work the broker may have lost."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready

from core.jobs import HEARTBEAT_TASK, SWEEP_TASK, process_song_job, scoring_job, send_mail_job
from core.mail import outbox
from core.models import utcnow
from core.services import ops, scoring
from core.settings import get_settings
from core.songs import processing
from uploads import LocalStorage
from workers.runtime import run_service, send_jobs, shutdown
from workers.tasks import media

log = logging.getLogger(__name__)


@shared_task(name=HEARTBEAT_TASK)
def heartbeat(name: str | None = None) -> str:
    who = name or f"worker@{socket.gethostname()}:{os.getpid()}"
    run_service(lambda session: ops.record_heartbeat(session, name=who, now=utcnow()))
    return who


@shared_task(name=SWEEP_TASK)
def sweep() -> dict[str, object]:
    """Re-request work whose request the broker may have lost (it was down, or a worker died)."""
    purged = run_service(lambda session: ops.purge_expired_sessions(session, now=utcnow()))
    stale_after = timedelta(seconds=get_settings().workers.sweep_stale_seconds)
    contests = run_service(
        lambda session: scoring.contests_with_stale_pending_votes(session, older_than=utcnow() - stale_after)
    )
    sent = send_jobs([scoring_job(contest_id) for contest_id in contests])
    if contests:
        log.info("sweeper re-requested scoring for contests %s", contests)
    songs_sent, temp_removed = _sweep_songs()
    unsent = run_service(
        lambda session: outbox.unsent(session, older_than=utcnow() - stale_after, now=utcnow())
    )
    mail_sent = send_jobs([send_mail_job(mail_id) for mail_id in unsent])
    if unsent:
        log.info("sweeper re-requested %d unsent messages", len(unsent))
    return {
        "mail_requested": mail_sent,
        "scoring_requested": sent,
        "sessions_purged": purged,
        "songs_requested": songs_sent,
        "upload_temp_removed": temp_removed,
    }


# Temp files of uploads whose request or worker crashed. Long, because a song waiting for a worker keeps its
# file there too (an outage of days must not lose uploads).
UPLOAD_TEMP_MAX_AGE_S = 7 * 24 * 3600


def _sweep_songs() -> tuple[int, int]:
    """Re-request songs stuck in uploaded/processing (lost job, dead run); clean old upload temp files."""
    stuck = run_service(lambda session: processing.stuck_songs(session, now=utcnow()))
    sent = send_jobs([process_song_job(song_id) for song_id in stuck])
    if stuck:
        log.info("sweeper re-requested processing for songs %s", stuck)
    store = media.storage()
    removed = store.sweep_temp(UPLOAD_TEMP_MAX_AGE_S) if isinstance(store, LocalStorage) else 0
    return sent, removed


@worker_ready.connect
def _report_ready(**_: object) -> None:
    # Report in at once rather than at the first scheduled beat, so /ready shows a live worker.
    try:
        heartbeat()
    finally:
        shutdown()
