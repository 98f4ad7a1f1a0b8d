"""Sending committed jobs to the broker: debounced, and never failing the caller when the broker is down.

A :class:`Dispatcher` is built once per process at startup (the API's lifespan, a worker process's init) from
the settings; importing this module connects to nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from celery import Celery

from core.jobs.broker import broker_config, prepare_broker
from core.jobs.debounce import Debouncer
from core.jobs.outbox import Job, send_all
from core.settings import Settings


def producer_app(settings: Settings) -> Celery:
    """A Celery app that only sends: no tasks, no worker settings, not the process's current app."""
    app = Celery("ovation-producer", set_as_current=False)
    app.conf.update(broker_config(settings))
    return app


class Dispatcher:
    def __init__(self, celery: Celery, debouncer: Debouncer) -> None:
        self.celery = celery
        self.debouncer = debouncer

    @classmethod
    def open(cls, settings: Settings, celery: Celery | None = None) -> Dispatcher:
        """The dispatcher of one process; a worker passes its own app, the API gets a producer-only one."""
        prepare_broker(settings)
        return cls(celery or producer_app(settings), Debouncer(settings.broker.redis_url))

    def needs_sending(self, job: Job) -> bool:
        """False for a debounced job this process sent within its window (no I/O: call it anywhere)."""
        return not (job.debounce_key and self.debouncer.recently_sent(job.debounce_key))

    def send(self, job: Job) -> None:
        """Send a job to its queue, unless the same debounced job was sent within its window."""
        if job.debounce_key and not self.debouncer.acquire(job.debounce_key, job.debounce_seconds):
            return
        self.celery.send_task(job.task, args=list(job.args), kwargs=job.kwargs, countdown=job.countdown)

    def send_all(self, jobs: Iterable[Job]) -> int:
        """Send jobs; a failure is logged and left to the sweeper. Returns how many were sent."""
        return send_all(list(jobs), self.send)

    async def send_after_commit(self, jobs: Iterable[Job]) -> None:
        """From async code: debounced jobs this process just sent cost nothing, the rest go off the loop
        (sending talks to the broker synchronously)."""
        due = [job for job in jobs if self.needs_sending(job)]
        if due:
            await asyncio.to_thread(self.send_all, due)

    def check_broker(self) -> None:
        """Raise when the broker cannot be reached."""
        with self.celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)

    def close(self) -> None:
        self.debouncer.close()
        self.celery.close()
