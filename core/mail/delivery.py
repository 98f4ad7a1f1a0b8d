"""Delivering one message: through SMTP over TLS when ``OVATION_SMTP_URL`` is set, otherwise into the outbox
folder (the embedded mode: the whole account flow works with no mail server, and the log shows each link).

The standard library's smtplib and email packages do this: the mail task runs in a (synchronous) Celery
worker, sends one short message at a time, and needs STARTTLS/SMTPS with certificate checks and login, all of
which smtplib has; an asyncio client would add a dependency for no gain here.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.settings import MailSettings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 20
_LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class Letter:
    mail_id: int
    to: str
    subject: str
    body: str


def compose(letter: Letter, mail: MailSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = letter.to
    message["Subject"] = letter.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(f"ovation.{letter.mail_id}", domain=urlsplit(mail.public_url).hostname)
    message.set_content(letter.body)
    return message


def deliver(letter: Letter, mail: MailSettings) -> str:
    """Send or file the letter; returns where it went. Raises on a failure worth retrying."""
    message = compose(letter, mail)
    if mail.smtp_url:
        _send_smtp(message, mail)
        return "smtp"
    return str(_write_outbox(letter, message, mail.outbox_dir))


def _send_smtp(message: EmailMessage, mail: MailSettings) -> None:
    url = urlsplit(mail.smtp_url)
    if url.scheme not in {"smtp", "smtps"} or not url.hostname:
        raise ValueError(
            "OVATION_SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465"
        )
    # Certificates are checked against the system's authorities, or the configured bundle of a private relay.
    context = ssl.create_default_context(cafile=mail.smtp_ca_file or None)
    client: smtplib.SMTP
    if url.scheme == "smtps":
        client = smtplib.SMTP_SSL(
            url.hostname, url.port or 465, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(url.hostname, url.port or 587, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if url.scheme == "smtp":
            client.starttls(context=context)  # refused by the server: SMTPNotSupportedError, never plain text
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


def _write_outbox(letter: Letter, message: EmailMessage, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{letter.mail_id:08d}.eml"
    partial = path.with_suffix(".partial")
    partial.write_bytes(message.as_bytes())
    os.replace(partial, path)  # a reader never sees half a message
    links = " ".join(_LINK.findall(letter.body)) or "(no link)"
    log.info("mail to %s (%s) written to %s; link: %s", letter.to, letter.subject, path, links)
    return path
