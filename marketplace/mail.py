"""Outgoing e-mail: SMTP when MARKETPLACE_SMTP_HOST is set, otherwise .eml files in the instance folder.

    from marketplace.mail import send_mail
    send_mail("rina@example.com", "Subject", "Plain text body")

Without SMTP (development, `make run`) each message is written to MAIL_DIR (instance/mail/) as a .eml file that
any mail program opens, and logged; the last ones also stay in `app.extensions["mail"].outbox`.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections import deque
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from marketplace.common import utcnow

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message could not be handed to the mail server."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """Hands each message to an SMTP server (STARTTLS on port 587 by default, implicit TLS on 465)."""

    def __init__(self, host: str, port: int, *, user: str = "", password: str = "", starttls: bool = True,
                 timeout: float = 10) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.timeout = starttls, timeout

    def _connect(self) -> smtplib.SMTP:
        if self.port == 465:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.starttls and self.port != 465:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"Sending mail through {self.host}:{self.port} failed: {error}") from error
        log.info("Mail sent to %s: %s", message["To"], message["Subject"])


class FileMailer:
    """Development: writes each message as a .eml file and keeps the last ones in `outbox`."""

    def __init__(self, directory: str | Path, *, keep: int = 50) -> None:
        self.directory = Path(directory)
        self.outbox: deque[EmailMessage] = deque(maxlen=keep)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(message.as_bytes())
        self.outbox.append(message)
        log.warning("No SMTP server set (MARKETPLACE_SMTP_HOST): mail to %s written to %s", message["To"], path)


def init_app(app: Flask) -> None:
    config = app.config
    mailer: Mailer
    if config.get("SMTP_HOST"):
        mailer = SmtpMailer(config["SMTP_HOST"], int(config["SMTP_PORT"]), user=config.get("SMTP_USER", ""),
                            password=config.get("SMTP_PASSWORD", ""), starttls=bool(config["SMTP_STARTTLS"]),
                            timeout=float(config.get("SMTP_TIMEOUT", 10)))
    else:
        mailer = FileMailer(config["MAIL_DIR"])
    app.extensions["mail"] = mailer


def build_message(to: str, subject: str, body: str, *, sender: str, language: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    message.set_content(body)
    if language:  # after set_content, which drops every Content-* header
        message["Content-Language"] = language
    return message


def send_mail(to: str, subject: str, body: str, *, language: str | None = None) -> EmailMessage:
    """Send a plain-text message from MAIL_FROM through the app's mailer; raises MailError on failure."""
    message = build_message(to, subject, body, sender=current_app.config["MAIL_FROM"], language=language)
    current_app.extensions["mail"].send(message)
    return message
