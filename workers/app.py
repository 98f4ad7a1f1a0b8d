"""The worker's Celery application: the shared broker settings plus execution settings and the beat schedule.

Built by ``ovation worker`` / ``ovation beat`` (ovation/cli.py) from the settings; importing this module
builds nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery

from core.jobs import (
    DETECT_ALL_GROUPS_TASK,
    HEARTBEAT_TASK,
    SWEEP_TASK,
    VERIFY_TASK,
)
from core.jobs.broker import broker_config, prepare_broker
from core.settings import Settings

TASK_MODULES = (
    "workers.tasks.ops",
    "workers.tasks.fraud",
    "workers.tasks.media",
    "workers.tasks.leaderboard",
    "workers.tasks.mail",
)
HEARTBEAT_EVERY = timedelta(seconds=30)


def _every(interval: timedelta, task: str) -> dict[str, Any]:
    # A missed beat is worthless once the next one is due: expire it then (no pile-up after an outage).
    seconds = interval.total_seconds()
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    workers = settings.workers
    return {
        "heartbeat": _every(HEARTBEAT_EVERY, HEARTBEAT_TASK),
        "sweep": _every(timedelta(seconds=workers.sweep_interval_seconds), SWEEP_TASK),
        # The leaderboard integrity check (it also takes the snapshots owed to contests whose votes stopped).
        "leaderboard-integrity": _every(timedelta(seconds=workers.leaderboard_check_seconds), VERIFY_TASK),
        "detect-groups": _every(timedelta(minutes=workers.group_detection_minutes), DETECT_ALL_GROUPS_TASK),
    }


def celery_config(settings: Settings) -> dict[str, Any]:
    """Pure: what the worker and beat run with."""
    return {
        **broker_config(settings),
        # A task is acknowledged only when done, so a worker that dies mid-task leaves it to another.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": 600,
        "task_soft_time_limit": 540,
        "broker_connection_retry_on_startup": True,
        "beat_schedule": beat_schedule(settings),
        "beat_schedule_filename": str(settings.data_dir / "celerybeat-schedule"),
        "imports": TASK_MODULES,
        "worker_hijack_root_logger": False,
    }


def create_worker_app(settings: Settings) -> Celery:
    """The process's current Celery app (tasks are ``shared_task``s and bind to it)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule there
    prepare_broker(settings)
    app = Celery("ovation", set_as_current=True)
    app.conf.update(celery_config(settings))
    return app
