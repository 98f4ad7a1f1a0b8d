"""Fraud queue: score a contest's pending votes in micro-batches."""

from __future__ import annotations

import logging

from celery import shared_task

from core.jobs import DETECT_ALL_GROUPS_TASK, DETECT_GROUPS_TASK, SCORE_CONTEST_TASK, detect_groups_job
from core.models import utcnow
from core.services import groups, scoring
from workers.runtime import run_service, send_jobs

log = logging.getLogger(__name__)


@shared_task(name=SCORE_CONTEST_TASK, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def score_contest(contest_id: int) -> dict[str, object]:
    run = run_service(lambda session: scoring.score_pending(session, contest_id=contest_id, now=utcnow()))
    if run.detector_failures:
        log.error("contest %s: detectors failed during scoring: %s", contest_id, run.detector_failures)
    return {"scored": run.scored, "suspicious": run.suspicious, "detector_failures": run.detector_failures}


@shared_task(name=DETECT_GROUPS_TASK, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def detect_groups(contest_id: int) -> dict[str, int]:
    run = run_service(lambda session: groups.detect_groups(session, contest_id=contest_id, now=utcnow()))
    return {"groups": run.groups, "votes_flagged": run.votes_flagged, "blocks_examined": run.blocks_examined}


@shared_task(name=DETECT_ALL_GROUPS_TASK)
def detect_all_groups() -> list[int]:
    """Beat entry: one detection per contest whose votes may still change."""
    contests = run_service(lambda session: groups.contests_in_voting(session, now=utcnow()))
    send_jobs([detect_groups_job(contest_id) for contest_id in contests])
    return contests
