"""Account mail is delivered for real: through an SMTP server over STARTTLS or SMTPS (a real aiosmtpd server
with a certificate from a throwaway authority), never in plain text, and by the worker into the outbox folder
when no server is configured; the sweeper sends what a lost request left behind."""

from __future__ import annotations

import dataclasses
import smtplib
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import SWEEP_TASK, Job, send_mail_job
from core.mail import outbox
from core.mail.delivery import Letter, deliver
from core.models import OutgoingMail, utcnow
from core.settings import Settings
from tests.support.api import unique_name
from tests.support.jobs import send_job
from tests.support.mail import outbox_text
from tests.support.net import free_port
from tests.support.voting import eventually

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

LETTER = Letter(
    7, "someone@example.org", "Confirm your email address", "open https://ovation.test/x#token=abc"
)


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"ovation", b"relay-secret")
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def smtp_server(authority: tuple[trustme.CA, Path], request: Any) -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback: STARTTLS required (or SMTPS, or no TLS at all), login required."""
    ca, _ = authority
    inbox, port, kind = Inbox(), free_port(), request.param
    options: dict[str, Any] = {"authenticator": _authenticate, "auth_required": True}
    if kind == "starttls":
        options.update(tls_context=_server_context(ca), require_starttls=True)
    elif kind == "smtps":
        # The whole connection is TLS; aiosmtpd only knows a STARTTLS upgrade as such, so it is told.
        options.update(ssl_context=_server_context(ca), auth_require_tls=False)
    else:  # "plain": a server that offers no TLS; nothing may be sent to it
        options.update(auth_require_tls=False)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _mail_settings(settings: Settings, url: str, ca_file: Path) -> Any:
    return dataclasses.replace(settings.mail, smtp_url=url, smtp_ca_file=str(ca_file))


@pytest.mark.parametrize(
    ("smtp_server", "scheme"), [("starttls", "smtp"), ("smtps", "smtps")], indirect=["smtp_server"]
)
def test_mail_goes_through_smtp_over_tls_with_login(
    smtp_server: tuple[Inbox, int], scheme: str, authority: tuple[trustme.CA, Path], settings: Settings
) -> None:
    inbox, port = smtp_server
    mail = _mail_settings(settings, f"{scheme}://ovation:relay-secret@127.0.0.1:{port}", authority[1])
    assert deliver(LETTER, mail) == "smtp"
    [(sender, recipients, content)] = inbox.received
    assert recipients == ["someone@example.org"]
    assert "no-reply@localhost" in sender
    message = message_from_bytes(content, policy=default)
    assert message["Subject"] == LETTER.subject
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "#token=abc" in body.get_content()


@pytest.mark.parametrize("smtp_server", ["starttls"], indirect=True)
def test_a_server_certificate_from_an_unknown_authority_is_refused(
    smtp_server: tuple[Inbox, int], settings: Settings
) -> None:
    inbox, port = smtp_server
    mail = dataclasses.replace(settings.mail, smtp_url=f"smtp://ovation:relay-secret@127.0.0.1:{port}")
    with pytest.raises(ssl.SSLCertVerificationError):
        deliver(LETTER, mail)
    assert inbox.received == []


@pytest.mark.parametrize("smtp_server", ["plain"], indirect=True)
def test_nothing_is_sent_to_a_server_without_tls(
    smtp_server: tuple[Inbox, int], authority: tuple[trustme.CA, Path], settings: Settings
) -> None:
    inbox, port = smtp_server
    mail = _mail_settings(settings, f"smtp://ovation:relay-secret@127.0.0.1:{port}", authority[1])
    with pytest.raises(smtplib.SMTPNotSupportedError):
        deliver(LETTER, mail)
    assert inbox.received == []


async def test_the_worker_files_queued_mail_in_the_outbox_and_keeps_no_link(
    worker: Any, db: AsyncSession, settings: Settings
) -> None:
    to = f"{unique_name()}@example.org"
    mail_id = await outbox.queue_mail(
        db, to=to, subject="Hello", body="your link: http://x/#token=t0k", kind="test"
    )
    await db.commit()
    send_job(send_mail_job(mail_id))

    async def filed() -> OutgoingMail | None:
        db.expire_all()
        row = await db.get(OutgoingMail, mail_id)
        return row if row is not None and row.sent_at is not None else None

    row = await eventually(filed)
    assert row.body == ""  # the link is only in the recipient's copy
    assert "#token=t0k" in (outbox_text(settings.mail.outbox_dir, mail_id) or "")


async def test_the_sweeper_sends_mail_whose_request_was_lost(
    worker: Any, db: AsyncSession, settings: Settings
) -> None:
    to = f"{unique_name()}@example.org"
    lost = OutgoingMail(
        to_address=to,
        subject="Lost",
        body="nobody asked the worker",
        kind="test",
        created_at=utcnow().replace(year=2020),
    )
    db.add(lost)
    await db.commit()
    mail_id = lost.id
    send_job(Job(SWEEP_TASK))

    async def sent() -> bool:
        db.expire_all()
        row = await db.get(OutgoingMail, mail_id)
        return row is not None and row.sent_at is not None

    assert await eventually(sent)
    assert "nobody asked the worker" in (outbox_text(settings.mail.outbox_dir, mail_id) or "")
