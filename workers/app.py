"""The Celery application: Redis broker in production, kombu's filesystem broker in embedded mode."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from celery import Celery
from kombu import Queue

from core.jobs import Job
from core.settings import Settings, get_settings
from workers.debounce import Debouncer

QUEUES = ("media", "fraud", "leaderboard", "maintenance")
TASK_MODULES = (
    "workers.tasks.ops",
    "workers.tasks.fraud",
    "workers.tasks.media",
    "workers.tasks.leaderboard",
)
HEARTBEAT_EVERY = timedelta(seconds=30)
# The leaderboard integrity check (it also takes the snapshots owed to contests whose votes stopped).
LEADERBOARD_CHECK_EVERY = timedelta(
    seconds=int(os.environ.get("OVATION_LEADERBOARD_CHECK_SECONDS", "").strip() or 300)
)


def _every(interval: timedelta, task: str) -> dict[str, Any]:
    # A missed beat is worthless once the next one is due: expire it then (no pile-up after an outage).
    seconds = interval.total_seconds()
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


def celery_config(settings: Settings) -> dict[str, Any]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule there
    config: dict[str, Any] = {
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,
        "result_backend": None,
        # A task is acknowledged only when done, so a worker that dies mid-task leaves it to another.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": 600,
        "task_soft_time_limit": 540,
        "task_queues": [Queue(name) for name in QUEUES],
        "task_default_queue": "maintenance",
        "task_routes": {
            "ovation.media.*": {"queue": "media"},
            "ovation.fraud.*": {"queue": "fraud"},
            "ovation.leaderboard.*": {"queue": "leaderboard"},
            "ovation.ops.*": {"queue": "maintenance"},
        },
        # Sending must not hold a request for long when the broker is down: the sweeper catches up.
        "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        "broker_connection_retry_on_startup": True,
        "beat_schedule": {
            "heartbeat": _every(HEARTBEAT_EVERY, "ovation.ops.heartbeat"),
            "sweep": _every(timedelta(seconds=settings.workers.sweep_interval_seconds), "ovation.ops.sweep"),
            "leaderboard-integrity": _every(LEADERBOARD_CHECK_EVERY, "ovation.leaderboard.verify"),
            "detect-groups": _every(
                timedelta(minutes=settings.workers.group_detection_minutes), "ovation.fraud.detect_all_groups"
            ),
        },
        "beat_schedule_filename": str(settings.data_dir / "celerybeat-schedule"),
        "imports": TASK_MODULES,
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
    }
    if settings.broker.embedded:
        folder = settings.broker.folder
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        config.update(
            broker_url="filesystem://",
            broker_transport_options={
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                "control_folder": str(folder / "control"),
                "store_processed": False,
            },
            # The filesystem transport has no broadcast: remote control and events would fail.
            worker_enable_remote_control=False,
            worker_send_task_events=False,
        )
    else:
        config.update(
            broker_url=settings.broker.redis_url,
            broker_transport_options={
                # Longer than any task may run, so that Redis does not redeliver work still in progress.
                "visibility_timeout": 3600,
                "socket_connect_timeout": 2,
                "socket_timeout": 5,
            },
        )
    return config


def create_celery(settings: Settings) -> Celery:
    app = Celery("ovation", set_as_current=True)
    app.conf.update(celery_config(settings))
    return app


celery_app = create_celery(get_settings())


_debouncer = Debouncer(get_settings().broker.redis_url)


def needs_sending(job: Job) -> bool:
    """False for a debounced job this process already sent within its window (no I/O: call it anywhere)."""
    return not (job.debounce_key and _debouncer.recently_sent(job.debounce_key))


def send_job(job: Job) -> None:
    """Send a job to its queue, unless the same debounced job was sent within its window."""
    if job.debounce_key and not _debouncer.acquire(job.debounce_key, job.debounce_seconds):
        return
    celery_app.send_task(job.task, args=list(job.args), kwargs=job.kwargs, countdown=job.countdown)


def check_broker() -> None:
    """Raise when the broker cannot be reached."""
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
