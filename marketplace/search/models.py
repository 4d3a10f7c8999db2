"""The search outbox (changes waiting for the indexer) and the search log (what buyers look for)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db


class SearchOutbox(db.Model):  # type: ignore[name-defined]
    """A (kind, id) whose search documents must be re-read, written in the same transaction as the change
    itself: a rolled-back change leaves no row, a committed one always reaches the index."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # product | kube | category
    ref_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchLog(db.Model):  # type: ignore[name-defined]
    """One search as typed, with no personal data: no user, no address, no session."""

    __tablename__ = "search_log"
    __table_args__ = (Index("ix_search_log_created", "created_at"), Index("ix_search_log_terms", "terms"))

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    query: Mapped[str] = mapped_column(String(200))  # as typed (cut to 200 characters)
    terms: Mapped[str] = mapped_column(String(200))  # analysed terms, so "Keripik" and "keripik" count as one
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sort: Mapped[str] = mapped_column(String(20))
    page: Mapped[int] = mapped_column(Integer, default=1)
    result_count: Mapped[int] = mapped_column(Integer)
    took_ms: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10))  # web | api
    backend: Mapped[str] = mapped_column(String(20))  # whoosh, or "database" when it fell back
