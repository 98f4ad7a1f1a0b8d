"""Maintenance tasks: heartbeat and the sweeper that re-requests work the broker may have lost."""

from __future__ import annotations

import logging
import os
import socket

from celery import shared_task
from celery.signals import worker_ready
from litestar.stores.file import FileStore

from core.models import utcnow
from core.services import ops
from core.settings import get_settings
from workers.runtime import run_service, shutdown

log = logging.getLogger(__name__)


@shared_task(name="ovation.ops.heartbeat")
def heartbeat(name: str | None = None) -> str:
    who = name or f"worker@{socket.gethostname()}:{os.getpid()}"
    run_service(lambda session: ops.record_heartbeat(session, name=who, now=utcnow()))
    return who


@shared_task(name="ovation.ops.sweep")
def sweep() -> None:
    settings = get_settings()
    if settings.broker.embedded:
        # Embedded sessions live in files; Redis expires its own keys in production.
        store = FileStore(settings.data_dir / "sessions")
        run_service(lambda _session: store.delete_expired())


@worker_ready.connect
def _report_ready(**_: object) -> None:
    # Report in at once rather than at the first scheduled beat, so /ready shows a live worker.
    try:
        heartbeat()
    finally:
        shutdown()
