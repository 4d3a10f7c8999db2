"""Outgoing mail: .eml files without SMTP, and a real SMTP conversation with a loopback server."""

from __future__ import annotations

import socket
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask import Flask

from marketplace.mail import FileMailer, MailError, SmtpMailer, build_message, send_mail
from tests.other_app import other_app
from tests.smtp_sink import SmtpSink


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_without_smtp_mail_is_written_as_eml_files(app: Flask, tmp_path: Path) -> None:
    mailer = app.extensions["mail"]
    assert isinstance(mailer, FileMailer)
    sent = send_mail("rina@example.com", "Halo Rina", "Isi pesan: kelapa 20 kg.", language="id")
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    with files[0].open("rb") as handle:
        stored = BytesParser(policy=policy.default).parse(handle)
    assert stored["To"] == "rina@example.com" and stored["Subject"] == "Halo Rina"
    assert stored["From"] == app.config["MAIL_FROM"] and stored["Content-Language"] == "id"
    assert stored["Message-ID"] and stored["Date"]
    assert "kelapa 20 kg" in stored.get_content()  # type: ignore[attr-defined]
    assert list(mailer.outbox) == [sent]


def test_file_mailer_keeps_only_the_last_messages(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "mail", keep=2)
    for n in range(3):
        mailer.send(build_message("a@example.com", f"n{n}", "body", sender="x@example.com"))
    assert [m["Subject"] for m in mailer.outbox] == ["n1", "n2"]
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3


def test_smtp_mailer_talks_to_a_real_server() -> None:
    with SmtpSink() as sink:
        mailer = SmtpMailer("127.0.0.1", sink.port, user="mailer", password="s3cret", starttls=False, timeout=5)
        message = build_message("Budi <budi@example.com>", "Tautan", "Satu baris.\n.\nBaris dengan titik.",
                                sender="Pasar KUBE <no-reply@pasarkube.id>")
        mailer.send(message)
        received = sink.messages
    assert len(received) == 1
    assert received[0].sender == "no-reply@pasarkube.id" and received[0].recipients == ["budi@example.com"]
    assert received[0].login == ("mailer", "s3cret")
    assert received[0].message["Subject"] == "Tautan"
    body = received[0].message.get_content().replace("\r\n", "\n")  # type: ignore[attr-defined]
    assert body == "Satu baris.\n.\nBaris dengan titik.\n"  # a lone dot in the text survives


def test_smtp_without_credentials_does_not_log_in() -> None:
    with SmtpSink() as sink:
        SmtpMailer("127.0.0.1", sink.port, starttls=False, timeout=5).send(
            build_message("a@example.com", "s", "b", sender="x@example.com"))
        assert sink.logins == [] and len(sink.messages) == 1


def test_smtp_failures_become_mail_errors() -> None:
    with SmtpSink() as sink:
        # The server offers no STARTTLS: refusing to send in clear is right.
        with pytest.raises(MailError, match="STARTTLS"):
            SmtpMailer("127.0.0.1", sink.port, starttls=True, timeout=5).send(
                build_message("a@example.com", "s", "b", sender="x@example.com"))
        assert sink.messages == []
    with pytest.raises(MailError):  # nobody listening
        SmtpMailer("127.0.0.1", _free_port(), starttls=False, timeout=2).send(
            build_message("a@example.com", "s", "b", sender="x@example.com"))


def test_smtp_setting_chooses_the_smtp_mailer(database_url: str, tmp_path: Path) -> None:
    with other_app(database_url, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=2525, SMTP_STARTTLS=False) as app:
        mailer = app.extensions["mail"]
    assert isinstance(mailer, SmtpMailer) and (mailer.host, mailer.port, mailer.starttls) == ("127.0.0.1", 2525,
                                                                                            False)
