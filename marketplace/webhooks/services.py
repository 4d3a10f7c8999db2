"""Webhooks: the events partners can subscribe to, the outbox (emit), signing, and the operator's rules.

No flask here. `emit` adds one delivery per subscribed active endpoint inside the caller's transaction, so an
event exists exactly when the change it reports was committed (a rolled-back order emits nothing). The worker
that sends deliveries is in marketplace.webhooks.worker.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, joinedload, scoped_session

from marketplace.auth.models import User
from marketplace.common import (
    N_,
    ConflictError,
    NotFoundError,
    Page,
    PermissionDenied,
    ValidationError,
    clean_text,
    utcnow,
)
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

# What really happens in marketplace/orders and marketplace/sourcing, with the label operators see.
EVENTS: dict[str, str] = {
    "order.placed": N_("An order is placed (one per KUBE of a checkout)"),
    "order.status_changed": N_("An order's status changes (every move)"),
    "order.paid": N_("An order is paid (transfer, card, or cash recorded by the KUBE)"),
    "order.cancelled": N_("An unpaid order is cancelled"),
    "order.expired": N_("An unpaid order expires"),
    "order.refunded": N_("A paid order is cancelled and refunded"),
    "contract.created": N_("A supply contract is made (a quote is accepted)"),
    "contract.cancelled": N_("A supply contract is ended early"),
    "contract.completed": N_("Every delivery of a supply contract is made"),
    "contract.delivery_recorded": N_("A KUBE records a delivery on a contract"),
    "contract.delivery_confirmed": N_("The order taker confirms a delivery arrived"),
    "contract.delivery_paid": N_("An operator records the payment of a delivery"),
}
TEST_EVENT = "webhook.test"  # "send test event": only to the endpoint it is sent to
PER_PAGE = 25
_CACHE_KEY = "webhooks.active_endpoints"
EMITTED_KEY = "webhooks.emitted"  # set on a session whose transaction queued deliveries (see jobs.py)


@dataclass(frozen=True)
class Settings:
    """MARKETPLACE_WEBHOOKS_* as plain values (see marketplace.config)."""

    allow_private: bool = False
    allow_http: bool = False
    max_attempts: int = 8
    timeout_seconds: int = 10
    lease_seconds: int = 120
    backoff: tuple[int, ...] = (30, 120, 600, 3600, 21600)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(allow_private=bool(config["ALLOW_PRIVATE"]), allow_http=bool(config["ALLOW_HTTP"]),
                   max_attempts=int(config["MAX_ATTEMPTS"]), timeout_seconds=int(config["TIMEOUT_SECONDS"]),
                   lease_seconds=int(config["LEASE_SECONDS"]), backoff=tuple(config["BACKOFF"]))


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601; times in UTC with a Z ("2026-03-01T08:30:00Z")."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value.isoformat()


# --- The outbox -----------------------------------------------------------------------------------------


def _active_endpoints(session: Session) -> list[tuple[int, frozenset[str]]]:
    """Active endpoints and their events, read once per transaction (an order move emits several events, and
    expiring a hundred orders should not ask a hundred times)."""
    real = session() if isinstance(session, scoped_session) else session
    cached = real.info.get(_CACHE_KEY)
    if cached is not None and cached[0]() is real.get_transaction():
        return list(cached[1])
    rows = [(endpoint_id, frozenset(events or ())) for endpoint_id, events in real.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.is_active.is_(True))
        .order_by(WebhookEndpoint.id))]
    transaction = real.get_transaction()
    if transaction is not None:
        real.info[_CACHE_KEY] = (weakref.ref(transaction), rows)
    return rows


def _forget_endpoints(session: Session) -> None:
    real = session() if isinstance(session, scoped_session) else session
    real.info.pop(_CACHE_KEY, None)


def _body(event_type: str, event_id: str, data: Mapping[str, Any], now: datetime) -> str:
    return json.dumps({"id": event_id, "type": event_type, "created_at": iso(now), "data": data},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def emit(session: Session, event_type: str, payload: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
         now: datetime | None = None) -> list[WebhookDelivery]:
    """Queue `event_type` for every active endpoint that subscribed to it, in the caller's transaction.
    `payload` may be a function: it is only called when some endpoint wants the event."""
    if event_type not in EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    targets = [endpoint_id for endpoint_id, events in _active_endpoints(session) if event_type in events]
    if not targets:
        return []
    now = now or utcnow()
    data = payload() if callable(payload) else payload
    event_id = str(uuid.uuid4())
    body = _body(event_type, event_id, data, now)
    deliveries = [WebhookDelivery(endpoint_id=endpoint_id, event_type=event_type, event_id=event_id, payload=body,
                                  status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, created_at=now)
                  for endpoint_id in targets]
    session.add_all(deliveries)
    (session() if isinstance(session, scoped_session) else session).info[EMITTED_KEY] = True
    return deliveries


# --- Signing -------------------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-PasarKube-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


# --- Addresses -----------------------------------------------------------------------------------------


Resolver = Callable[[str, int], Iterable[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 (deprecated): ::a.b.c.d
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")  # ::ffff:a.b.c.d
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: NAT64 inside one network


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo): a packet to it may
    end up at that IPv4 address."""
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    found = [low] if ip in _NAT64 or ip in _IPV4_COMPATIBLE or ip in _IPV4_MAPPED else []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def _is_public_one(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local
                                 or ip.is_private)


def _is_public(address: str) -> bool:
    """Globally reachable, and so is every IPv4 address it wraps. IPv4-mapped and -compatible forms and
    site-local (fec0::/10) addresses are refused outright: they only ever lead back to a local network."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _IPV4_MAPPED or ip in _IPV4_COMPATIBLE or ip in _LOCAL_NAT64 or ip.is_site_local:
            return False
        return _is_public_one(ip) and all(_is_public_one(inner) for inner in _embedded_ipv4(ip))
    return _is_public_one(ip)


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def check_url(raw: object, settings: Settings, resolve: Resolver = resolve_host) -> str:
    """A partner's URL, or ValidationError on field "url": https (http only for loopback, or when allowed), a
    host, no credentials, and (unless MARKETPLACE_WEBHOOKS_ALLOW_PRIVATE) no private, loopback or link-local
    address: the platform must not be made to post into its own network."""
    url = clean_text(raw, field="url", max_length=500)
    if any(ch.isspace() or ord(ch) < 32 for ch in url) or not url.isascii():
        raise ValidationError(N_("Enter the address without spaces (punycode for international names)."),
                              field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(N_("This is not a valid web address."), field="url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ValidationError(N_("The address must start with https://."), field="url")
    host = parts.hostname
    if not host:
        raise ValidationError(N_("The address needs a host name."), field="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(N_("Do not put a user name or password in the address."), field="url")
    if parts.fragment:
        raise ValidationError(N_("Leave out the # part of the address."), field="url")
    addresses = check_host(host, port or (443 if scheme == "https" else 80), settings, resolve)
    if scheme == "http" and not settings.allow_http and not all(_is_loopback(a) for a in addresses):
        raise ValidationError(N_("The address must start with https:// (plain http is only allowed for this "
                                 "computer)."), field="url")
    return url


def check_host(host: str, port: int, settings: Settings, resolve: Resolver = resolve_host) -> list[str]:
    """The host's addresses; ValidationError when it has none or (unless allowed) one is not public."""
    try:
        addresses = list(resolve(host, port))
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        raise ValidationError(N_("The host name %(host)s cannot be found."), field="url", host=host)
    if not settings.allow_private and not all(_is_public(a) for a in addresses):
        raise ValidationError(N_("This address leads into a private network (private, loopback or link-local); "
                                 "webhooks only go to public addresses."), field="url")
    return addresses


# --- Operators' pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointInput:
    url: str
    description: str = ""
    events: Sequence[str] = ()


def _require_operator(actor: User | None) -> User:
    if actor is None or actor.is_disabled or not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    return actor


def _clean(data: EndpointInput, settings: Settings, resolve: Resolver) -> tuple[str, str, list[str]]:
    description = clean_text(data.description, field="description", max_length=200, required=False)
    events = [name for name in EVENTS if name in set(data.events)]
    if len(events) != len(set(data.events)):
        raise ValidationError(N_("Choose events from the list."), field="events")
    if not events:
        raise ValidationError(N_("Choose at least one event."), field="events")
    return check_url(data.url, settings, resolve), description, events


def endpoints(session: Session, actor: User | None) -> list[tuple[WebhookEndpoint, dict[str, int]]]:
    """Every endpoint, newest first, with its deliveries counted by status."""
    _require_operator(actor)
    counts: dict[int, dict[str, int]] = {}
    for endpoint_id, status, count in session.execute(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count(WebhookDelivery.id))
            .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)):
        counts.setdefault(endpoint_id, {})[DeliveryStatus(status).value] = count
    rows = session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())
                           .options(joinedload(WebhookEndpoint.created_by)))
    return [(endpoint, counts.get(endpoint.id, {})) for endpoint in rows]


def get_endpoint(session: Session, actor: User | None, endpoint_id: int) -> WebhookEndpoint:
    _require_operator(actor)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFoundError(N_("Webhook endpoint not found."))
    return endpoint


def create_endpoint(session: Session, actor: User | None, data: EndpointInput, settings: Settings,
                    resolve: Resolver = resolve_host, now: datetime | None = None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (the caller shows the secret once)."""
    user = _require_operator(actor)
    url, description, events = _clean(data, settings, resolve)
    secret = new_secret()
    endpoint = WebhookEndpoint(url=url, description=description, events=events, secret=secret, is_active=True,
                               created_by_id=user.id, created_at=now or utcnow())
    session.add(endpoint)
    session.flush()
    _forget_endpoints(session)
    return endpoint, secret


def update_endpoint(session: Session, actor: User | None, endpoint_id: int, data: EndpointInput,
                    settings: Settings, resolve: Resolver = resolve_host) -> WebhookEndpoint:
    endpoint = get_endpoint(session, actor, endpoint_id)
    endpoint.url, endpoint.description, endpoint.events = _clean(data, settings, resolve)
    session.flush()
    _forget_endpoints(session)
    return endpoint


def set_active(session: Session, actor: User | None, endpoint_id: int, active: bool) -> WebhookEndpoint:
    """Deactivated, an endpoint gets no new events and its waiting deliveries wait (until it is active again)."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    endpoint.is_active = active
    session.flush()
    _forget_endpoints(session)
    return endpoint


def rotate_secret(session: Session, actor: User | None, endpoint_id: int,
                  now: datetime | None = None) -> tuple[WebhookEndpoint, str]:
    """A new secret; deliveries signed from now on use it (the caller shows it once)."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = now or utcnow()
    session.flush()
    return endpoint, endpoint.secret


def send_test(session: Session, actor: User | None, endpoint_id: int, now: datetime | None = None
              ) -> WebhookDelivery:
    """Queue a "webhook.test" event for this endpoint only. An inactive endpoint is refused: the worker sends
    nothing to it, so the test would wait unsent until the endpoint is active again."""
    user = _require_operator(actor)
    endpoint = get_endpoint(session, user, endpoint_id)
    if not endpoint.is_active:
        raise ConflictError(N_("This endpoint is inactive and is sent nothing: activate it before sending a "
                               "test event."))
    now = now or utcnow()
    event_id = str(uuid.uuid4())
    data = {"endpoint_id": endpoint.id, "message": "Test event from Pasar KUBE", "sent_by_operator_id": user.id}
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_type=TEST_EVENT, event_id=event_id,
                               payload=_body(TEST_EVENT, event_id, data, now), status=DeliveryStatus.PENDING,
                               attempts=0, next_attempt_at=now, created_at=now)
    session.add(delivery)
    session.flush()
    return delivery


def deliveries(session: Session, actor: User | None, *, endpoint_id: int | None = None, status: str = "",
               event_type: str = "", page: int = 1, per_page: int = PER_PAGE) -> Page[WebhookDelivery]:
    """The delivery log, newest first, filtered by endpoint, status and event."""
    _require_operator(actor)
    where = []
    if endpoint_id is not None:
        where.append(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        try:
            where.append(WebhookDelivery.status == DeliveryStatus(status))
        except ValueError:
            raise ValidationError(N_("Unknown status."), field="status") from None
    if event_type:
        if event_type not in EVENTS and event_type != TEST_EVENT:
            raise ValidationError(N_("Unknown event."), field="event")
        where.append(WebhookDelivery.event_type == event_type)
    total = session.scalar(select(func.count(WebhookDelivery.id)).where(*where)) or 0
    items = list(session.scalars(
        select(WebhookDelivery).where(*where).order_by(WebhookDelivery.id.desc())
        .offset((page - 1) * per_page).limit(per_page).options(joinedload(WebhookDelivery.endpoint))))
    return Page(items, total, page, per_page)


def get_delivery(session: Session, actor: User | None, delivery_id: int) -> WebhookDelivery:
    _require_operator(actor)
    # populate_existing: workers change deliveries in their own sessions; show what the database holds now.
    delivery = session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                              .options(joinedload(WebhookDelivery.endpoint))
                              .execution_options(populate_existing=True))
    if delivery is None:
        raise NotFoundError(N_("Delivery not found."))
    return delivery


def retry_now(session: Session, actor: User | None, delivery_id: int, now: datetime | None = None
              ) -> WebhookDelivery:
    """Send a failed or dead delivery at the next worker run. A dead one gets one more attempt (it is dead
    again if that fails too); its count of attempts is kept."""
    delivery = get_delivery(session, actor, delivery_id)
    if delivery.status not in (DeliveryStatus.FAILED, DeliveryStatus.DEAD):
        raise ValidationError(N_("Only failed or dead deliveries can be retried."), field="status")
    now = now or utcnow()
    # Never while a worker holds it (it is being sent right now): that worker records the attempt.
    moved = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.status == delivery.status,
               or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now))
        .values(status=DeliveryStatus.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise ValidationError(N_("The delivery changed meanwhile; reload the page."), field="status")
    session.expire(delivery)
    return delivery
