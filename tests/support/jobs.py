"""Sending jobs from a test the way the API does: through a dispatcher built from the test's settings."""

from __future__ import annotations

from functools import cache

from core.jobs import Job
from core.jobs.dispatch import Dispatcher
from core.settings import get_settings


@cache
def dispatcher() -> Dispatcher:
    return Dispatcher.open(get_settings())


def send_job(job: Job) -> None:
    dispatcher().send(job)
