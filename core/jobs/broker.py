"""What every process that talks to the broker shares: where it is, the queues, routing and serialisation.

The worker adds its own execution settings and the beat schedule on top (workers/app.py); the API and the
workers' own follow-up requests only send (core/jobs/dispatch.py).
"""

from __future__ import annotations

from typing import Any

from kombu import Queue

from core.settings import Settings

QUEUES = ("media", "fraud", "leaderboard", "maintenance")
ROUTES = {
    "ovation.media.*": {"queue": "media"},
    "ovation.fraud.*": {"queue": "fraud"},
    "ovation.leaderboard.*": {"queue": "leaderboard"},
    "ovation.ops.*": {"queue": "maintenance"},
    "ovation.mail.*": {"queue": "maintenance"},  # a few short messages: no queue (or deployment) of their own
}


def prepare_broker(settings: Settings) -> None:
    """Create the embedded broker's folders (kombu's filesystem transport needs them to exist)."""
    if settings.broker.embedded:
        for sub in ("queue", "processed", "control"):
            (settings.broker.folder / sub).mkdir(parents=True, exist_ok=True)


def broker_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for producing and consuming: pure, creates nothing."""
    config: dict[str, Any] = {
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,
        "result_backend": None,
        "task_queues": [Queue(name) for name in QUEUES],
        "task_default_queue": "maintenance",
        "task_routes": ROUTES,
        # Sending must not hold a request for long when the broker is down: the sweeper catches up.
        "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        "timezone": "UTC",
    }
    if settings.broker.embedded:
        folder = settings.broker.folder
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
