"""The real app under gunicorn (several sync workers) on the test database, a small HTTP client, and a way to
SIGKILL a worker that is serving a request right now (Linux: read from /proc)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy.engine import make_url

GUNICORN = Path(sys.executable).with_name("gunicorn")
# What the app under gunicorn gets besides the MARKETPLACE_* variables: the HTML forms take no CSRF token
# (the clients here are scripts) and no rate limit gets in the way of the load.
APP_FACTORY = 'marketplace:create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})'


@contextmanager
def sqlite_wal(database_url: str) -> Iterator[None]:
    """A SQLite test database in WAL mode meanwhile, as in production (readers never wait for the writer);
    nothing to do on PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        yield
        return
    conn = sqlite3.connect(url.database)
    try:
        before = conn.execute("PRAGMA journal_mode").fetchone()[0]
        conn.execute("PRAGMA journal_mode=WAL")
        yield
        conn.execute(f"PRAGMA journal_mode={before}")
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A gunicorn master on 127.0.0.1:port."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    killed: list[int] = field(default_factory=list)

    def workers(self) -> list[int]:
        """The master's worker processes (its children)."""
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                children.append(int(entry))
        return sorted(children)

    def serving_workers(self) -> list[int]:
        """Workers holding an accepted connection on our port: a sync worker does so only while it serves
        a request (it closes the connection after each response)."""
        inodes = _established_inodes(self.port)
        serving = []
        for pid in self.workers():
            try:
                links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            except OSError:
                continue
            if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
                serving.append(pid)
        return serving

    def kill_serving_worker(self, timeout: float = 5.0) -> int | None:
        """SIGKILL one worker while it serves a request (None if none was busy within `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in self.serving_workers():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                self.killed.append(pid)
                return pid
            time.sleep(0.002)
        return None

    def wait_for_workers(self, count: int, timeout: float = 20.0) -> None:
        """Until the master has `count` live workers again (it replaces killed ones)."""
        deadline = time.monotonic() + timeout
        while len(self.workers()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not restart its workers:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of ESTABLISHED TCP connections whose local port is `port` (the server's side)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            parts = row.split()
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            if local_port == port and parts[3] == "01":
                inodes.add(parts[9])
    return inodes


@contextmanager
def gunicorn(database_url: str, tmp_path: Path, workers: int = 4) -> Iterator[Server]:
    """Run the app under gunicorn on `database_url`; skip the test when gunicorn cannot start."""
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn is not installed next to {sys.executable}")
    port = free_port()
    env = {
        **os.environ,
        "MARKETPLACE_ENV": "development",
        "MARKETPLACE_SECRET_KEY": "fault-test-secret-key-0123456789",
        "MARKETPLACE_DATABASE_URL": database_url,
        "MARKETPLACE_MEDIA_ROOT": str(tmp_path / "media"),
        "MARKETPLACE_PRIVATE_MEDIA_ROOT": str(tmp_path / "private-media"),
        "MARKETPLACE_SEARCH_DIR": str(tmp_path / "search"),
        "MARKETPLACE_SEARCH_INDEXER": "off",
        "PYTHONWARNINGS": "ignore",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(GUNICORN), "--preload", "--workers", str(workers), "--worker-class", "sync",
             "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "5", APP_FACTORY],
            cwd=Path(__file__).resolve().parents[2], env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.skip(f"gunicorn could not start (exit code {process.returncode}):\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.skip(f"gunicorn did not answer within 30 s:\n{server.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        server.wait_for_workers(workers)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Disconnected(Exception):
    """The server closed the connection without an answer (its worker was killed)."""


@dataclass
class Answer:
    status: int
    location: str
    body: str


class Client:
    """A browser-like client of one server: keeps its session cookie, follows no redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.disconnects = 0

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                http.client.IncompleteRead) as error:
            raise Disconnected(str(error)) from error
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, response.headers.get("Location", ""), text)

    def retrying(self, method: str, path: str, form: dict[str, str] | None = None, attempts: int = 8) -> Answer:
        """Send again while the connection is cut (as a person would press the button again)."""
        for _attempt in range(attempts - 1):
            try:
                return self.request(method, path, form)
            except Disconnected:
                self.disconnects += 1
                time.sleep(0.05)
        return self.request(method, path, form)
