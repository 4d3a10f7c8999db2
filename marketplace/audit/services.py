"""Writing the audit log (`record`, called by the services that make sensitive changes) and reading it.

`record` adds its row to the caller's session, so it commits or rolls back with the change it describes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from marketplace.audit.models import AuditEvent
from marketplace.auth.models import User
from marketplace.catalog.models import Kube, KubeMember
from marketplace.common import N_, PermissionDenied, ValidationError, clean_int, csv_cell, utcnow

# Every action the log knows, with its label (an English msgid, translated where shown).
ACTIONS: dict[str, str] = {
    "kube.verified": N_("KUBE verified"),
    "kube.activated": N_("KUBE shop opened"),
    "kube.suspended": N_("KUBE suspended"),
    "kube.reactivated": N_("KUBE reactivated"),
    "kube_member.added": N_("KUBE member added"),
    "kube_member.role_changed": N_("KUBE member's role changed"),
    "kube_member.removed": N_("KUBE member removed"),
    "facilitator.assigned": N_("Facilitator assigned"),
    "facilitator.unassigned": N_("Facilitator unassigned"),
    "product.approved": N_("Product approved"),
    "product.rejected": N_("Product sent back"),
    "product.price_changed": N_("Product price changed"),
    "order.status_changed": N_("Order status changed"),
    "refund.created": N_("Refund created"),
    "refund.sent": N_("Refund sent"),
    "payout.recorded": N_("Payout recorded"),
    "bank_account.changed": N_("Bank account changed"),
    "user.roles_changed": N_("User roles changed"),
    "user.unlocked": N_("User's sign-in lock lifted"),
    "user.erased": N_("User's personal data erased"),
    "erasure.refused": N_("Deletion request refused"),
}
# What an event is about, by the target's table (or given as a plain type name).
TARGET_TYPES: dict[str, str] = {
    "kube": N_("KUBE"),
    "product": N_("Product"),
    "order": N_("Order"),
    "refund": N_("Refund"),
    "payout": N_("Payout"),
    "user": N_("User"),
}
_TABLE_TYPES = {"kubes": "kube", "products": "product", "orders": "order", "refunds": "refund",
                "payouts": "payout", "users": "user"}
ROLES: dict[str, str] = {
    "system": N_("System"),
    "operator": N_("Operator"),
    "facilitator": N_("Facilitator"),
    "ministry": N_("Ministry / Dinas Sosial"),
    "ketua": N_("Ketua"),
    "sekretaris": N_("Sekretaris"),
    "bendahara": N_("Bendahara"),
    "anggota": N_("Anggota"),
    "buyer": N_("Buyer"),
}
# Never in the log, whatever a caller passes (a programming error: refused loudly).
_FORBIDDEN_KEYS = {"password", "secret", "token", "nik"}
CLIENT_IP = "audit_client_ip"  # the key under which the web layer leaves the client's address in session.info


def mask_account(number: object) -> str:
    """A bank account number with all but its last 4 digits hidden: '0123456789012' -> '****9012'."""
    digits = "".join(ch for ch in str(number or "") if ch.isdigit())
    if not digits:
        return ""
    return "****" + (digits[-4:] if len(digits) > 4 else "")


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def clean_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details as JSON-ready values; account numbers masked (at any depth), secrets refused."""

    def walk(key: str, value: Any) -> Any:
        lowered = key.lower()
        if set(lowered.replace(".", "_").split("_")) & _FORBIDDEN_KEYS or "password" in lowered:
            raise ValueError(f"audit details must not hold {key!r}")
        if isinstance(value, Mapping):
            return {str(k): walk(str(k) if "account_number" not in lowered else lowered, v)
                    for k, v in value.items()}
        if "account_number" in lowered:
            return mask_account(value) if value not in (None, "") else None
        if isinstance(value, list | tuple):
            return [walk(key, v) for v in value]
        return _plain(value)

    return {key: walk(key, value) for key, value in details.items()}


def actor_role(session: Session, actor: User | None, kube_id: int | None) -> str:
    """What the actor was when acting: operator, their role in the KUBE, facilitator, ministry, or buyer."""
    if actor is None:
        return "system"
    if actor.is_operator:
        return "operator"
    if kube_id is not None:
        with session.no_autoflush:  # the role they acted in, not one this very change gives them
            role = session.scalar(select(KubeMember.role).where(KubeMember.kube_id == kube_id,
                                                                KubeMember.user_id == actor.id))
        if role is not None:
            return str(role.value)
    if actor.is_facilitator:
        return "facilitator"
    if actor.is_ministry:
        return "ministry"
    return "buyer"


def _target_of(session: Session, target: Any) -> tuple[str, int | None]:
    if isinstance(target, tuple):
        kind, ident = target
        return str(kind), None if ident is None else int(ident)
    kind = _TABLE_TYPES.get(getattr(target, "__tablename__", ""))
    if kind is None:
        raise ValueError(f"no audit target type for {target!r}")
    if target.id is None:
        session.flush()  # a row added in this transaction gets its id
    return kind, int(target.id)


def _kube_of(target: Any) -> int | None:
    if isinstance(target, Kube):
        return target.id
    value = getattr(target, "kube_id", None)
    return int(value) if isinstance(value, int) else None


def record(session: Session, actor: User | None, action: str, target: Any, *, kube_id: int | None = None,
           **details: Any) -> AuditEvent:
    """Add an audit row for `action` on `target` (a model instance, or a ("type", id) pair) to the session,
    in the caller's transaction. `actor` None is the platform itself (a webhook, a scheduled job). The KUBE is
    taken from the target unless given. Details are before/after values: `price={"from": 1, "to": 2}`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    target_type, target_id = _target_of(session, target)
    kube_id = kube_id if kube_id is not None else _kube_of(target)
    role = actor_role(session, actor, kube_id)
    ip = session.info.get(CLIENT_IP)
    row = AuditEvent(
        occurred_at=utcnow(), actor_id=actor.id if actor else None, actor_role=role,
        actor_label=f"{role} #{actor.id}" if actor else role, action=action, target_type=target_type,
        target_id=target_id, kube_id=kube_id,
        details=json.dumps(clean_details(details), ensure_ascii=False, sort_keys=True, default=str),
        ip_address=str(ip)[:45] if ip else None,
    )
    session.add(row)
    return row


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """{"field": {"from": old, "to": new}} for the fields whose value differs."""
    return {key: {"from": _plain(before.get(key)), "to": _plain(after.get(key))}
            for key in after if before.get(key) != after.get(key)}


# --- Reading -----------------------------------------------------------------------------------------

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
PER_PAGE = 50
MAX_CSV_ROWS = 50_000
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Filters:
    action: str | None = None
    actor_id: int | None = None
    actor_email: str | None = None
    kube_id: int | None = None
    target_type: str | None = None
    target_id: int | None = None
    first: date | None = None
    last: date | None = None

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for links to other pages and the CSV)."""
        actor = str(self.actor_id) if self.actor_id is not None else (self.actor_email or "")
        values = {"action": self.action, "actor": actor, "kube": self.kube_id, "target": self.target_type,
                  "target_id": self.target_id, "from": self.first, "to": self.last}
        return {key: str(_plain(value)) for key, value in values.items() if value not in (None, "")}


def require_operator(actor: User) -> None:
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))


def _day(value: str | None, field: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise ValidationError(N_("Give a date as YYYY-MM-DD."), field=field)
    return day


def _id(value: str | None, field: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    return clean_int(text, field=field, minimum=1, maximum=MAX_ID)


def clean_filters(*, action: str | None = None, actor: str | None = None, kube: str | None = None,
                  target: str | None = None, target_id: str | None = None, first: str | None = None,
                  last: str | None = None) -> Filters:
    """Check the filters as typed; a bad one raises ValidationError naming its field."""
    action_code = (action or "").strip() or None
    if action_code is not None and action_code not in ACTIONS:
        raise ValidationError(N_("Not a valid choice."), field="action")
    who = (actor or "").strip()
    actor_id: int | None = None
    actor_email: str | None = None
    if who.lstrip("#").isdigit():
        actor_id = _id(who.lstrip("#"), "actor")
    elif who:
        if len(who) > 254:
            raise ValidationError(N_("Must be at most %(max)d characters."), field="actor", max=254)
        actor_email = who.lower()
    kind = (target or "").strip() or None
    if kind is not None and kind not in TARGET_TYPES:
        raise ValidationError(N_("Not a valid choice."), field="target")
    ident = _id(target_id, "target_id")
    if ident is not None and kind is None:
        raise ValidationError(N_("Choose what the id is of."), field="target")
    first_day, last_day = _day(first, "from"), _day(last, "to")
    if first_day and last_day and first_day > last_day:
        raise ValidationError(N_("The start of the period comes after its end."), field="from")
    return Filters(action_code, actor_id, actor_email, _id(kube, "kube"), kind, ident, first_day, last_day)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL_TZ)


def _filtered(filters: Filters) -> Select[AuditEvent]:
    stmt = select(AuditEvent)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.actor_id is not None:
        # The label keeps the id after the account is gone ("ketua #12").
        stmt = stmt.where(or_(AuditEvent.actor_id == filters.actor_id,
                              AuditEvent.actor_label.endswith(f" #{filters.actor_id}")))
    if filters.actor_email:
        emails = select(User.id).where(func.lower(User.email).contains(filters.actor_email, autoescape=True))
        stmt = stmt.where(AuditEvent.actor_id.in_(emails))
    if filters.kube_id is not None:
        stmt = stmt.where(AuditEvent.kube_id == filters.kube_id)
    if filters.target_type:
        stmt = stmt.where(AuditEvent.target_type == filters.target_type)
    if filters.target_id is not None:
        stmt = stmt.where(AuditEvent.target_id == filters.target_id)
    if filters.first:
        stmt = stmt.where(AuditEvent.occurred_at >= _local_midnight(filters.first))
    if filters.last:
        stmt = stmt.where(AuditEvent.occurred_at < _local_midnight(filters.last + timedelta(days=1)))
    return stmt


@dataclass(frozen=True)
class EventPage:
    """Newest first, `per_page` at a time, by id (keyset): `older`/`newer` are the ids to continue from."""

    items: list[AuditEvent]
    older: int | None
    newer: int | None


def events(session: Session, actor: User, filters: Filters, *, before: int | None = None,
           after: int | None = None, per_page: int = PER_PAGE) -> EventPage:
    """One page of the log, with each event's actor and KUBE (one query, whatever the page holds)."""
    require_operator(actor)
    stmt = _filtered(filters).options(joinedload(AuditEvent.actor), joinedload(AuditEvent.kube))
    if after is not None:
        rows = list(session.scalars(stmt.where(AuditEvent.id > after).order_by(AuditEvent.id.asc())
                                    .limit(per_page + 1)))
        more_newer = len(rows) > per_page
        items = list(reversed(rows[:per_page]))
        return EventPage(items, items[-1].id if items else None,
                         items[0].id if items and more_newer else None)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    rows = list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(per_page + 1)))
    items = rows[:per_page]
    return EventPage(items, items[-1].id if len(rows) > per_page else None,
                     items[0].id if items and before is not None else None)


def kube_choices(session: Session, actor: User) -> list[tuple[int, str]]:
    require_operator(actor)
    return [(row.id, row.name) for row in session.execute(select(Kube.id, Kube.name).order_by(Kube.name))]


def details_of(event: AuditEvent) -> dict[str, Any]:
    try:
        value = json.loads(event.details or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


CSV_COLUMNS = ("id", "occurred_at_utc", "action", "actor_role", "actor_label", "actor_id", "target_type",
               "target_id", "kube_id", "kube", "ip_address", "details")



def events_csv(session: Session, actor: User, filters: Filters,
               action_label: Callable[[str], str] = lambda code: code) -> str:
    """The filtered log as CSV, newest first (at most MAX_CSV_ROWS rows), UTF-8 with a byte-order mark."""
    require_operator(actor)
    stmt = (_filtered(filters).options(joinedload(AuditEvent.kube)).order_by(AuditEvent.id.desc())
            .limit(MAX_CSV_ROWS))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows: Iterable[AuditEvent] = session.scalars(stmt)
    for event in rows:
        writer.writerow([csv_cell(v) for v in (
            event.id, event.occurred_at.isoformat(timespec="seconds"), action_label(event.action),
            event.actor_role, event.actor_label, event.actor_id or "", event.target_type,
            event.target_id or "", event.kube_id or "", event.kube.name if event.kube else "",
            event.ip_address or "", event.details,
        )])
    return "\ufeff" + buffer.getvalue()
