"""The background work the domain asks for: task names and the jobs that request them.

Services import these instead of each other: a vote requests scoring, a decision requests a recount, an upload
requests processing, without importing the scoring, leaderboard or media services.
"""

from __future__ import annotations

from core.jobs.outbox import Job

SCORE_CONTEST_TASK = "ovation.fraud.score_contest"
DETECT_GROUPS_TASK = "ovation.fraud.detect_groups"
DETECT_ALL_GROUPS_TASK = "ovation.fraud.detect_all_groups"
RECOMPUTE_TASK = "ovation.leaderboard.recompute"
VERIFY_TASK = "ovation.leaderboard.verify"
PROCESS_SONG_TASK = "ovation.media.process_song"
HEARTBEAT_TASK = "ovation.ops.heartbeat"
SWEEP_TASK = "ovation.ops.sweep"
SEND_MAIL_TASK = "ovation.mail.send"


def scoring_job(contest_id: int) -> Job:
    # One request per contest per second at most: the worker scores every pending vote of it in batches.
    return Job(
        SCORE_CONTEST_TASK,
        (contest_id,),
        countdown=1.0,
        debounce_key=f"score:{contest_id}",
        debounce_seconds=1.0,
    )


def detect_groups_job(contest_id: int) -> Job:
    return Job(DETECT_GROUPS_TASK, (contest_id,))


def recompute_job(contest_id: int) -> Job:
    # A burst of votes or decisions triggers at most one recompute per second per contest.
    return Job(
        RECOMPUTE_TASK, (contest_id,), countdown=1.0, debounce_key=f"board:{contest_id}", debounce_seconds=1.0
    )


def recompute_now_job(contest_id: int) -> Job:
    """An explicit request (admin): not debounced, so it is never dropped for one sent a moment earlier."""
    return Job(RECOMPUTE_TASK, (contest_id,))


def verify_job(contest_id: int | None = None) -> Job:
    return Job(VERIFY_TASK, (contest_id,) if contest_id is not None else ())


def process_song_job(song_id: int) -> Job:
    # The sweeper re-requests stuck songs every minute; while a worker is down, once per two minutes is
    # enough (the task is idempotent, the repeats only fill the queue).
    return Job(PROCESS_SONG_TASK, (song_id,), debounce_key=f"song:{song_id}", debounce_seconds=120)


def send_mail_job(mail_id: int) -> Job:
    # Requested again by the sweeper while a worker sends it: the claim skips it (core.mail.outbox).
    return Job(SEND_MAIL_TASK, (mail_id,))
