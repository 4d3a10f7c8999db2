"""Requests to erase a user's personal data (UU PDP No. 27/2022: to be handled within 3x24 hours)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.catalog.models import _enum
from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User


class ErasureStatus(StrEnum):
    REQUESTED = "requested"  # waiting for an operator
    DONE = "done"  # the account was anonymised (erase_user)
    REFUSED = "refused"  # an operator refused it, with a reason
    WITHDRAWN = "withdrawn"  # the user took it back while it was waiting


class ErasureRequest(db.Model):  # type: ignore[name-defined]
    """A user asks for their account and personal data to be erased."""

    __tablename__ = "erasure_requests"
    __table_args__ = (Index("ix_erasure_requests_status_requested", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[ErasureStatus] = mapped_column(_enum(ErasureStatus, "erasure_status"),
                                                  default=ErasureStatus.REQUESTED)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was refused (the user reads it)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])
