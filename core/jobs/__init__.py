"""Background jobs: what the domain requests (``requests``), held until the transaction commits (``outbox``),
and sent to the broker (``dispatch``)."""

from core.jobs.outbox import Job, JobSender, request_after_commit, send_all, take_committed
from core.jobs.requests import (
    DETECT_ALL_GROUPS_TASK,
    DETECT_GROUPS_TASK,
    HEARTBEAT_TASK,
    PROCESS_SONG_TASK,
    RECOMPUTE_TASK,
    SCORE_CONTEST_TASK,
    SWEEP_TASK,
    VERIFY_TASK,
    detect_groups_job,
    process_song_job,
    recompute_job,
    recompute_now_job,
    scoring_job,
    verify_job,
)

__all__ = [
    "DETECT_ALL_GROUPS_TASK",
    "DETECT_GROUPS_TASK",
    "HEARTBEAT_TASK",
    "PROCESS_SONG_TASK",
    "RECOMPUTE_TASK",
    "SCORE_CONTEST_TASK",
    "SWEEP_TASK",
    "VERIFY_TASK",
    "Job",
    "JobSender",
    "detect_groups_job",
    "process_song_job",
    "recompute_job",
    "recompute_now_job",
    "request_after_commit",
    "scoring_job",
    "send_all",
    "take_committed",
    "verify_job",
]
