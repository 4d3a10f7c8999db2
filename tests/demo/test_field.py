"""The demo's field work: visit reports (one in two versions, with a private photo), success stories, and the
ministry's sign-in, readable through the real services."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.common import utcnow
from marketplace.demo.loader import load_demo
from marketplace.facilitator.models import VisitPhoto, VisitReport
from marketplace.graduation import services as graduation
from marketplace.graduation.rules import Rules
from marketplace.media import image_path
from marketplace.stories import services as stories
from marketplace.stories.models import Story, StoryStatus


def test_visits_stories_and_the_ministry(app: Flask, session: Session) -> None:
    load_demo(session, app.config["MEDIA_ROOT"], image_scale=0.1,
              private_media_root=app.config["PRIVATE_MEDIA_ROOT"])
    session.commit()
    reports = list(session.scalars(select(VisitReport)))
    assert len({r.kube_id for r in reports}) >= 5 and all(r.business_monitored for r in reports)
    (second,) = [r for r in reports if r.version == 2]
    assert second.supersedes_id is not None and second.photos
    photo = session.scalars(select(VisitPhoto)).one()
    assert image_path(app.config["PRIVATE_MEDIA_ROOT"], photo.key).is_file()
    assert not image_path(app.config["MEDIA_ROOT"], photo.key).is_file()  # never under the public /media
    published = stories.latest_published(session)
    assert len(published) == 2 and all(s.photos for s in published)
    assert session.scalar(select(func.count(Story.id)).where(Story.status == StoryStatus.SUBMITTED)) == 1
    ministry = session.scalars(select(User).where(User.is_ministry.is_(True))).one()
    assert ministry.email == "kemensos@pasarkube.test"
    overview = graduation.readiness_for(session, ministry, graduation.Filters(), utcnow(), Rules())
    # Read from 18 months of history: some KUBEs are ready, some close, some not yet.
    assert all(overview.counts.values()), overview.counts
    # Loading again adds no second set.
    count = len(reports)
    load_demo(session, app.config["MEDIA_ROOT"], image_scale=0.1,
              private_media_root=Path(app.config["PRIVATE_MEDIA_ROOT"]))
    assert session.scalar(select(func.count(VisitReport.id))) == count
