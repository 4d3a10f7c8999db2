"""Accounts: users, their API tokens and order-taker company profiles."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.catalog.models import FacilitatorAssignment, KubeMember


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    """A person who signs in. Every user is a buyer; other roles come from flags and memberships."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_facilitator: Mapped[bool] = mapped_column(Boolean, default=False)
    # Ministry of Social Affairs or Dinas Sosial staff: read the aggregated insights and graduation readiness.
    is_ministry: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on password change or "sign out everywhere": old sessions and remember-cookies stop working.
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Lockout (auth.services.authenticate): failed sign-ins counted since `failed_logins_since`; past the limit the
    # account refuses every sign-in until `locked_until`.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_logins_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[KubeMember]] = relationship(back_populates="user")
    facilitator_assignments: Mapped[list[FacilitatorAssignment]] = relationship(
        back_populates="facilitator"
    )
    order_taker_profile: Mapped[OrderTakerProfile | None] = relationship(
        back_populates="user", uselist=False
    )

    def get_id(self) -> str:
        return f"{self.id}.{self.auth_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.is_disabled

    @property
    def is_locked(self) -> bool:
        """Whether too many failed sign-ins lock the account right now."""
        return self.locked_until is not None and self.locked_until > utcnow()

    @property
    def is_order_taker(self) -> bool:
        return self.order_taker_profile is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class OrderTakerProfile(db.Model):  # type: ignore[name-defined]
    """A business buyer (offtaker) that sources inputs in bulk."""

    __tablename__ = "order_taker_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    company_name: Mapped[str] = mapped_column(String(160))
    business_field: Mapped[str] = mapped_column(String(160), default="")
    npwp: Mapped[str | None] = mapped_column(String(25))
    address: Mapped[str] = mapped_column(Text, default="")
    province_code: Mapped[str | None] = mapped_column(String(2))
    website: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="order_taker_profile")


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()
