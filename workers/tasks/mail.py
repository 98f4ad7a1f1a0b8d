"""Sending one queued message (core.mail): claim it, deliver it, mark it sent. Idempotent: a message already
sent, or being sent by another worker, is skipped; a lost request is re-sent by the sweeper."""

from __future__ import annotations

import smtplib

from celery import shared_task

from core.jobs import SEND_MAIL_TASK
from core.mail import outbox
from core.mail.delivery import deliver
from core.models import utcnow
from core.settings import get_settings
from workers.runtime import run_service


@shared_task(
    name=SEND_MAIL_TASK,
    # A mail server that is down or slow, a dropped connection: Celery retries with a growing pause.
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def send_mail(mail_id: int) -> str:
    letter = run_service(lambda session: outbox.claim(session, mail_id, utcnow()))
    if letter is None:
        return "not_due"  # sent already, given up on, or another worker holds it
    try:
        where = deliver(letter, get_settings().mail)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        run_service(lambda session: outbox.mark_failed(session, mail_id, error))
        raise
    run_service(lambda session: outbox.mark_sent(session, mail_id, utcnow()))
    return where
