"""Sending webhook deliveries: claim the due ones, POST them, record how it went.

Several workers may run at once (processes or threads). A worker claims deliveries in one short transaction:
it sets a random lock token and a lease (locked_until) on rows that are due and not leased. PostgreSQL picks
them with SELECT ... FOR UPDATE SKIP LOCKED (workers never wait on each other's rows); SQLite runs the same
conditional UPDATE, which its single writer serialises. The HTTP request is made outside any transaction, and
the result is written only WHERE lock_token is still the worker's own. Just before each POST the worker renews
that delivery's lease (committed) and skips it when the lease already ran out, so a long batch never sends what
another worker may have claimed meanwhile. A worker killed mid-delivery leaves its lease to run out; then another
worker sends the delivery again (at least once: partners de-duplicate on the X-PasarKube-Delivery id). Each
request is signed with the time it is sent, and goes to the address that was checked (no second DNS lookup).
No flask here: `flask webhooks deliver` and tests call deliver_due directly.
"""

from __future__ import annotations

import http.client
import random
import secrets
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from marketplace.common import DomainError, utcnow
from marketplace.webhooks.models import OPEN_STATUSES, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from marketplace.webhooks.services import Resolver, Settings, check_host, resolve_host, signature

USER_AGENT = "PasarKube-Webhooks/1"
MAX_ERROR = 200


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds until `locked_until`."""

    id: int
    token: str
    url: str
    secret: str
    event_type: str
    payload: str
    attempts: int  # counting this one


@dataclass
class Run:
    """What one deliver_due call did."""

    claimed: int = 0
    succeeded: int = 0
    failed: int = 0
    dead: int = 0
    lost: int = 0  # the lease ran out before the result came: another worker has the delivery now
    skipped: int = 0  # not sent: its lease ran out while earlier deliveries of the batch were sent
    ids: list[int] = field(default_factory=list)


def _connect(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers (never a new DNS lookup)."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address.split("%", 1)[0], port), timeout)
        except OSError as failed:
            error = failed
    raise error or OSError("no address")


class PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to an address that was checked: the Host header carries the name, the socket goes to the address.
    (urllib would resolve the name again, and a name can answer with another address the second time.)"""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address that was checked; SNI and the certificate check use the name."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float,
                 context: ssl.SSLContext | None = None) -> None:
        self.tls = context or ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses

    def connect(self) -> None:
        raw = _connect(self.addresses, self.port, self.timeout)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def _due(now: datetime) -> Any:
    active = select(WebhookEndpoint.id).where(WebhookEndpoint.is_active.is_(True))
    return and_(WebhookDelivery.status.in_(OPEN_STATUSES), WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now),
                WebhookDelivery.endpoint_id.in_(active))


def claim(sessions: Callable[[], Session], now: datetime, limit: int, settings: Settings) -> list[Claim]:
    """Lease up to `limit` due deliveries to this worker (one short transaction), oldest due first."""
    token = secrets.token_hex(16)
    with sessions() as session, session.begin():
        picked = (select(WebhookDelivery.id).where(_due(now))
                  .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            picked = picked.with_for_update(skip_locked=True, of=WebhookDelivery)
        # The ids are read first: as a subquery of the UPDATE, PostgreSQL may run the LIMIT ... SKIP LOCKED
        # select again for each row, skipping the rows this UPDATE has just changed, and lease every due row.
        ids = list(session.scalars(picked))
        # The condition is checked again on the row as it is when updated (on SQLite another worker may have
        # leased it since the SELECT saw it).
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id.in_(ids), _due(now))
            .values(lock_token=token, locked_until=now + timedelta(seconds=settings.lease_seconds),
                    attempts=WebhookDelivery.attempts + 1, last_attempt_at=now)
            .execution_options(synchronize_session=False))
        rows = session.execute(
            select(WebhookDelivery.id, WebhookEndpoint.url, WebhookEndpoint.secret, WebhookDelivery.event_type,
                   WebhookDelivery.payload, WebhookDelivery.attempts)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.lock_token == token).order_by(WebhookDelivery.id)).all()
    return [Claim(row[0], token, row[1], row[2], row[3], row[4], row[5]) for row in rows]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR else text[:MAX_ERROR - 1] + "…"


def send(item: Claim, now: datetime, settings: Settings, resolve: Resolver = resolve_host,
         tls: ssl.SSLContext | None = None) -> tuple[int | None, str | None]:
    """POST one delivery, signed with `now` (the time it is sent): (HTTP status or None, error or None)."""
    try:
        parts = urlsplit(item.url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None, "refused: not a valid address"
    if parts.scheme not in ("https", "http"):  # saved endpoints are checked; never file: or ftp: whatever happens
        return None, "refused: not an http(s) address"
    try:
        # Checked again at each attempt (a name may resolve elsewhere since the endpoint was saved), and the
        # connection goes to these very addresses.
        addresses = check_host(host, port, settings, resolve)
    except DomainError:
        return None, "refused: the host is not a public address"
    body = item.payload.encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-PasarKube-Event": item.event_type,
        "X-PasarKube-Delivery": str(item.id),
        "X-PasarKube-Timestamp": str(timestamp),
        "X-PasarKube-Signature": signature(item.secret, timestamp, body),
    }
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # No proxy from the environment and no redirects followed: the address that was checked is the one used.
    connection: http.client.HTTPConnection = (
        PinnedHTTPSConnection(host, port, addresses, settings.timeout_seconds, tls) if parts.scheme == "https"
        else PinnedHTTPConnection(host, port, addresses, settings.timeout_seconds))
    try:
        connection.request("POST", target, body=body, headers=headers)
        # Only the status counts: the body is never read (a receiver that trickles it cannot hold the worker).
        with connection.getresponse() as response:
            code, reason, location = int(response.status), response.reason, response.getheader("Location", "?")
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as error:
        return None, _short(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
    finally:
        connection.close()
    if 300 <= code < 400:  # a redirect is an answer, not a detour: a failed attempt
        return code, _short(f"redirect to {location} not followed")
    if code >= 400 or code < 200:
        return code, _short(f"HTTP {code} {reason}")
    return code, None


def backoff(attempts: int, settings: Settings, rng: random.Random | None = None) -> timedelta:
    """The wait after failed attempt number `attempts` (1, 2, ...): the schedule's step plus up to 10 % jitter,
    so that the retries of many deliveries do not all arrive at the same second."""
    step = settings.backoff[min(max(attempts, 1), len(settings.backoff)) - 1]
    return timedelta(seconds=step + (rng or random).uniform(0, step / 10))


def renew(sessions: Callable[[], Session], item: Claim, now: datetime, settings: Settings) -> bool:
    """Extend this worker's lease on `item` from `now` (committed) if it still holds it and the lease has not run
    out; False means: do not send it (another worker may have claimed it, or may be about to)."""
    with sessions() as session, session.begin():
        kept = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == item.id, WebhookDelivery.lock_token == item.token,
                   WebhookDelivery.locked_until > now)
            .values(locked_until=now + timedelta(seconds=settings.lease_seconds))
            .execution_options(synchronize_session=False))
        if kept.rowcount == 1:  # type: ignore[attr-defined]
            return True
        # Expired but nobody took it yet: hand it back unsent (the attempt the claim counted did not happen).
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == item.id, WebhookDelivery.lock_token == item.token)
            .values(lock_token=None, locked_until=None, attempts=WebhookDelivery.attempts - 1)
            .execution_options(synchronize_session=False))
        return False


def record(sessions: Callable[[], Session], item: Claim, code: int | None, error: str | None, now: datetime,
           settings: Settings, rng: random.Random | None = None) -> DeliveryStatus | None:
    """Write an attempt's result if this worker still holds the delivery (None when the lease was lost)."""
    if code is not None and 200 <= code < 300:
        status = DeliveryStatus.SUCCEEDED
        values: dict[str, Any] = {"delivered_at": now, "last_error": None}
    elif item.attempts >= settings.max_attempts:
        status, values = DeliveryStatus.DEAD, {"last_error": error}
    else:
        status, values = DeliveryStatus.FAILED, {"last_error": error,
                                                 "next_attempt_at": now + backoff(item.attempts, settings, rng)}
    with sessions() as session, session.begin():
        done = session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == item.id, WebhookDelivery.lock_token == item.token)
            .values(status=status, last_status_code=code, lock_token=None, locked_until=None, **values)
            .execution_options(synchronize_session=False))
        return status if done.rowcount == 1 else None  # type: ignore[attr-defined]


def deliver_due(sessions: Engine | Callable[[], Session], now: datetime | None = None, limit: int = 50,
                settings: Settings | None = None, *, resolve: Resolver = resolve_host,
                tls: ssl.SSLContext | None = None, rng: random.Random | None = None,
                clock: Callable[[], datetime] | None = None) -> Run:
    """Claim up to `limit` due deliveries and send them one after the other. `sessions` makes new sessions
    (or is an engine): claims and results are committed on their own, never inside a request. `clock` tells
    the time as the batch goes on (the real time; or `now`, unchanged, when only `now` is given)."""
    factory: Callable[[], Session] = (sessionmaker(bind=sessions, expire_on_commit=False)
                                      if isinstance(sessions, Engine) else sessions)
    if clock is None:
        fixed = now
        clock = utcnow if fixed is None else (lambda: fixed)
    now = now or clock()
    settings = settings or Settings()
    run = Run()
    for item in claim(factory, now, limit, settings):
        run.claimed += 1
        run.ids.append(item.id)
        sent_at = clock()
        if not renew(factory, item, sent_at, settings):
            run.skipped += 1
            continue
        code, error = send(item, sent_at, settings, resolve, tls)
        status = record(factory, item, code, error, clock(), settings, rng)
        if status is None:
            run.lost += 1
        elif status == DeliveryStatus.SUCCEEDED:
            run.succeeded += 1
        elif status == DeliveryStatus.DEAD:
            run.dead += 1
        else:
            run.failed += 1
    return run
