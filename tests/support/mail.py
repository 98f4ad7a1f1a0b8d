"""Reading the account mail a test caused: from the database while unsent, from the outbox folder once the
worker wrote it there (the embedded delivery the tests run with)."""

from __future__ import annotations

import asyncio
import email
import re
import time
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import OutgoingMail

TOKEN = re.compile(r"#token=([A-Za-z0-9_-]+)")


def read_outbox_file(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    return message


def outbox_text(folder: Path, mail_id: int) -> str | None:
    path = folder / f"{mail_id:08d}.eml"
    if not path.exists():
        return None
    body = read_outbox_file(path).get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


async def mails(db: AsyncSession, to: str, kind: str | None = None) -> list[OutgoingMail]:
    db.expire_all()
    query = select(OutgoingMail).where(func.lower(OutgoingMail.to_address) == to.lower())
    if kind is not None:
        query = query.where(OutgoingMail.kind == kind)
    return list((await db.scalars(query.order_by(OutgoingMail.id))).all())


async def latest_text(db: AsyncSession, to: str, kind: str, outbox: Path, within: float = 30.0) -> str:
    """The newest message of this kind to this address, as its recipient reads it."""
    deadline = time.monotonic() + within
    while True:
        found = await mails(db, to, kind)
        assert found, f"no {kind} mail to {to}"
        latest = found[-1]
        text = latest.body or outbox_text(outbox, latest.id)
        if text:
            return text
        if time.monotonic() > deadline:  # sent (body emptied) but its file is not there: a real failure
            raise AssertionError(f"mail {latest.id} was sent but is not in {outbox}")
        await asyncio.sleep(0.2)


async def mailed_token(db: AsyncSession, to: str, kind: str, outbox: Path) -> str:
    found = TOKEN.search(await latest_text(db, to, kind, outbox))
    assert found, f"no link in the {kind} mail to {to}"
    return found.group(1)
