"""Field visit reports of a facilitator (pendamping sosial KUBE) and their photos.

A report is kept as written: an edit adds a new version (same `group_key`, `version` + 1, `supersedes_id`
pointing at the version it replaces) and the earlier versions stay readable. The checklist follows the
facilitator's duties in Permensos 2/2019 art. 9 (guidance, accompanying and monitoring the business,
helping with the group's reports).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User
    from marketplace.catalog.models import Kube


class VisitReport(db.Model):  # type: ignore[name-defined]
    """One version of a facilitator's report of a visit to a KUBE."""

    __tablename__ = "visit_reports"
    __table_args__ = (
        # Two edits of the same version at once: the database keeps one, the other gets a conflict.
        UniqueConstraint("group_key", "version", name="uq_visit_reports_group_version"),
        Index("ix_visit_reports_kube_visited", "kube_id", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="CASCADE"))
    # The facilitator who wrote this version.
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    group_key: Mapped[str] = mapped_column(String(32), index=True)  # shared by every version of one report
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit_reports.id", ondelete="RESTRICT"), unique=True
    )
    visited_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    video_links: Mapped[str] = mapped_column(Text, default="")  # http(s) URLs, one a line
    # Permensos 2/2019 art. 9: what was done on this visit.
    guidance_given: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    business_monitored: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    bookkeeping_checked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    problems_found: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    problems: Mapped[str] = mapped_column(Text, default="")
    follow_up: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kube: Mapped[Kube] = relationship()
    facilitator: Mapped[User] = relationship()
    photos: Mapped[list[VisitPhoto]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="VisitPhoto.position"
    )

    @property
    def links(self) -> list[str]:
        return [line for line in self.video_links.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"<VisitReport {self.id} kube={self.kube_id} v{self.version}>"


class VisitPhoto(db.Model):  # type: ignore[name-defined]
    """A photo of a visit, kept in the private media root. A new version of a report lists the photos it
    keeps again (the same key in several versions), so an earlier version still shows its own photos."""

    __tablename__ = "visit_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("visit_reports.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)

    report: Mapped[VisitReport] = relationship(back_populates="photos")
