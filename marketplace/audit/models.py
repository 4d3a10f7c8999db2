"""Audit events, and the guard that keeps them from ever being changed or deleted through the ORM."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, UOWTransaction, mapped_column, relationship

from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User
    from marketplace.catalog.models import Kube


class AuditLogReadOnly(RuntimeError):
    """Code tried to change or delete an audit event (a programming error, never a user's)."""


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """One sensitive action, written in the transaction that made it: rolled back together, committed together.

    The actor is kept twice: `actor_id` links to the account while it exists (SET NULL when it is deleted), and
    `actor_role` + `actor_label` ("ketua #12") say who it was after that, without any personal data. `details`
    is JSON text (values before and after); it never holds a password or a whole bank account number."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target", "target_type", "target_id"),
        Index("ix_audit_events_action_id", "action", "id"),
        Index("ix_audit_events_kube_id_id", "kube_id", "id"),
        Index("ix_audit_events_actor_id_id", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_label: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int | None] = mapped_column(Integer)
    kube_id: Mapped[int | None] = mapped_column(ForeignKey("kubes.id", ondelete="SET NULL"))
    details: Mapped[str] = mapped_column(Text, default="{}")
    ip_address: Mapped[str | None] = mapped_column(String(45))

    actor: Mapped[User | None] = relationship(passive_deletes=True)
    kube: Mapped[Kube | None] = relationship(passive_deletes=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.target_type}:{self.target_id}>"


# --- Never editable -----------------------------------------------------------------------------------
# Three doors, all shut: the unit of work (an edited or deleted object), the mapper (belt and braces, for a
# change made by another flush listener) and ORM bulk statements (update(AuditEvent) / delete(AuditEvent)).
# Plain SQL on the table is only stopped by the database itself (see the README's trigger).

REFUSAL = "audit events are never changed or deleted"


@event.listens_for(Session, "before_flush")
def _refuse_edits(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditLogReadOnly(REFUSAL)
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False):
            raise AuditLogReadOnly(REFUSAL)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_row_change(mapper: Mapper[Any], connection: Any, target: AuditEvent) -> None:
    raise AuditLogReadOnly(REFUSAL)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is AuditEvent:
        raise AuditLogReadOnly(REFUSAL)
