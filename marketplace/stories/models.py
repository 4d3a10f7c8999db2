"""Success stories of KUBEs (Permensos 2/2019 seed articles: success stories are documented to inspire others)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.catalog.models import _enum
from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User
    from marketplace.catalog.models import Kube

_BLANK_LINES = re.compile(r"\n\s*\n")


class StoryStatus(StrEnum):
    DRAFT = "draft"  # the facilitator is writing it
    SUBMITTED = "submitted"  # waiting for an operator
    PUBLISHED = "published"  # on the public site (while the KUBE is public)
    SENT_BACK = "sent_back"  # an operator sent it back (or took it off the site), with a note


# While a story is in these states its facilitator may change it and send it (again).
EDITABLE_STATUSES = (StoryStatus.DRAFT, StoryStatus.SENT_BACK)


class Story(db.Model):  # type: ignore[name-defined]
    """A KUBE's success story, written by its facilitator and published by an operator."""

    __tablename__ = "stories"
    __table_args__ = (Index("ix_stories_status_published", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300), default="")
    # Plain text: paragraphs are separated by blank lines; never rendered as HTML.
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[StoryStatus] = mapped_column(_enum(StoryStatus, "story_status"), default=StoryStatus.DRAFT)
    review_note: Mapped[str] = mapped_column(Text, default="")  # why an operator sent it back or unpublished it
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last time it was published
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    kube: Mapped[Kube] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    photos: Mapped[list[StoryPhoto]] = relationship(
        back_populates="story", cascade="all, delete-orphan", order_by="StoryPhoto.position, StoryPhoto.id"
    )

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def main_photo(self) -> StoryPhoto | None:
        return self.photos[0] if self.photos else None

    @property
    def paragraphs(self) -> list[str]:
        """The body split at blank lines (single line breaks stay inside a paragraph)."""
        text = self.body.replace("\r\n", "\n").replace("\r", "\n")
        return [part.strip() for part in _BLANK_LINES.split(text) if part.strip()]

    def __repr__(self) -> str:
        return f"<Story {self.id} {self.slug} {self.status}>"


class StoryPhoto(db.Model):  # type: ignore[name-defined]
    """A photo of a story: public media (see marketplace.media), under a random key even while a draft."""

    __tablename__ = "story_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    caption: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    story: Mapped[Story] = relationship(back_populates="photos")
