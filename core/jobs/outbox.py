"""Background jobs requested inside a transaction are sent only after it commits, and dropped on rollback.

The database is the record and the broker is a doorbell: a job that cannot be sent (broker down) is logged and
counted, and the periodic sweeper finds the work still pending in the database and requests it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_PENDING = "ovation_pending_jobs"
_COMMITTED = "ovation_committed_jobs"


@dataclass(frozen=True, slots=True)
class Job:
    task: str  # Celery task name, e.g. "ovation.media.process_song"
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    countdown: float | None = None
    # Jobs with the same key within this many seconds are sent once (the task clears the key when it starts).
    debounce_key: str | None = None
    debounce_seconds: float = 0.0


JobSender = Callable[[Job], None]


def request_after_commit(session: AsyncSession | Session, job: Job) -> None:
    sync_session = session.sync_session if isinstance(session, AsyncSession) else session
    if not sync_session.in_transaction():
        # Without a transaction a rollback would be a no-op and the job would ride along with the next commit.
        sync_session.begin()
    sync_session.info.setdefault(_PENDING, []).append(job)


def take_committed(session: AsyncSession | Session) -> list[Job]:
    sync_session = session.sync_session if isinstance(session, AsyncSession) else session
    jobs: list[Job] = sync_session.info.pop(_COMMITTED, [])
    return jobs


def send_all(jobs: list[Job], sender: JobSender) -> int:
    """Send jobs; a failure is logged and left to the sweeper. Returns how many were sent."""
    sent = 0
    for job in jobs:
        try:
            sender(job)
            sent += 1
        except Exception:
            log.warning(
                "could not send job %s%s; the sweeper will retry it", job.task, job.args, exc_info=True
            )
    return sent


@event.listens_for(Session, "after_commit")
def _promote_on_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@event.listens_for(Session, "after_transaction_end")
def _drop_unless_committed(session: Session, transaction: SessionTransaction) -> None:
    # Fires after after_commit too: by then the jobs were promoted, so only a rollback's jobs remain to drop.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
