"""Webhook endpoints (a partner's URL, secret and events) and their deliveries (an outbox, one row per event
and endpoint, written in the same transaction as the change it reports)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.catalog.models import _enum
from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first (or an operator's "retry now") attempt
    FAILED = "failed"  # the last attempt failed; another follows at next_attempt_at
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # every attempt failed; only an operator's "retry now" sends it again


# Deliveries a worker may pick up (when due and not leased by another worker).
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class WebhookEndpoint(db.Model):  # type: ignore[name-defined]
    """A partner's receiver: platform-wide, managed by operators."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Signs every delivery (HMAC-SHA256). Shown to the operator once, when made or rotated.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()


class WebhookDelivery(db.Model):  # type: ignore[name-defined]
    """One event for one endpoint, and how sending it went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(60))
    # The same for every endpoint that receives this event; partners de-duplicate on the delivery id.
    event_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed and sent
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, "webhook_delivery_status"),
                                                   default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker's claim: only the worker holding this token records the attempt's result; when the worker dies
    # the lease runs out and another worker sends the delivery again (at least once).
    lock_token: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()

    @property
    def pretty_payload(self) -> str:
        """The payload indented, for the log page."""
        try:
            return json.dumps(json.loads(self.payload), indent=2, ensure_ascii=False, sort_keys=True)
        except ValueError:
            return self.payload
