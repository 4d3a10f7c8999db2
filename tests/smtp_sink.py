"""A tiny real SMTP server on loopback for tests: it speaks enough RFC 5321 (EHLO, AUTH PLAIN, MAIL, RCPT, DATA,
RSET, NOOP, QUIT) for smtplib, and keeps what it receives.

    with SmtpSink() as sink:
        ... send to 127.0.0.1:sink.port ...
        sink.messages[0].message["Subject"]
"""

from __future__ import annotations

import base64
import socketserver
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: tuple[str, str] | None = None


@dataclass
class _State:
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        state = self.server.state
        sender, recipients, login = "", [], None
        self._reply("220 sink.test ESMTP ready")
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, rest = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self._reply("250-sink.test")
                self._reply("250-8BITMIME")
                self._reply("250 AUTH PLAIN")
            elif verb == "HELO":
                self._reply("250 sink.test")
            elif verb == "AUTH":
                mechanism, _, payload = rest.partition(" ")
                if mechanism.upper() != "PLAIN":
                    self._reply("504 Unrecognized authentication type")
                    continue
                if not payload:
                    self._reply("334 ")
                    payload = self.rfile.readline(65536).decode().strip()
                _, user, password = base64.b64decode(payload).decode().split("\0")
                login = (user, password)
                with state.lock:
                    state.logins.append(login)
                self._reply("235 Authentication successful")
            elif verb == "MAIL":
                sender, recipients = rest.split(":", 1)[1].strip().split(" ")[0].strip("<>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(rest.split(":", 1)[1].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    data = self.rfile.readline(1 << 20)
                    if data in (b".\r\n", b".\n", b""):
                        break
                    lines.append(data[1:] if data.startswith(b"..") else data)  # dot-unstuffing
                message = BytesParser(policy=policy.default).parsebytes(b"".join(lines))
                with state.lock:
                    state.messages.append(Received(sender, recipients, message, login))  # type: ignore[arg-type]
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: _State


class SmtpSink:
    """Runs the server in a thread on a free loopback port while the `with` block lasts."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = _State()
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def messages(self) -> list[Received]:
        with self._server.state.lock:
            return list(self._server.state.messages)

    @property
    def logins(self) -> list[tuple[str, str]]:
        with self._server.state.lock:
            return list(self._server.state.logins)

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
