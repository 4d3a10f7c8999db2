"""Success stories (no flask here). Permensos 2/2019 seed articles: success stories are documented to inspire
other groups.

Who does what:
- A facilitator assigned to the KUBE writes its stories, edits them while they are a draft or sent back, adds
  and removes photos, and sends them to the operators. Any facilitator assigned to the KUBE may do so, not only
  the author (a KUBE may change facilitators). Operators do not write stories: they only review them.
- An operator publishes a sent story, sends it back with a note, or takes a published story off the site
  (it is then "sent back" again, with an optional note, and may be edited and sent again).
- The public sees published stories of public KUBEs only.
- A story in any other state (or of a KUBE that is not public) is seen by its author, the KUBE's facilitators,
  operators and, read-only, the KUBE's own members: it is their story, and they should be able to check what
  is told and which photos of them are shown before it goes public. Everyone else gets "not found".

Photos are public media (published stories are public) stored under random keys, so a draft's photo cannot
be found by guessing. A story has at most MAX_PHOTOS photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from marketplace import media
from marketplace.auth.models import User
from marketplace.catalog.models import PUBLIC_KUBE_STATUSES, FacilitatorAssignment, Kube
from marketplace.catalog.permissions import is_assigned_facilitator, member_role
from marketplace.catalog.services import ImageLimits
from marketplace.common import (
    N_,
    ConflictError,
    NotFoundError,
    Page,
    PermissionDenied,
    ValidationError,
    clean_text,
    slugify,
    utcnow,
)
from marketplace.stories.models import EDITABLE_STATUSES, Story, StoryPhoto, StoryStatus

MAX_PHOTOS = 6
TITLE_MAX = 120
SUMMARY_MAX = 300
BODY_MAX = 20_000
CAPTION_MAX = 200
NOTE_MAX = 1000
# Slugs that are pages of the stories blueprint: a story may not take them.
RESERVED_SLUGS = frozenset({"new", "review", "mine"})


class StoryAction(StrEnum):
    """What a viewer may do to a story (shown as buttons; enforced by the functions below)."""

    EDIT = "edit"
    SUBMIT = "submit"
    PUBLISH = "publish"
    SEND_BACK = "send_back"
    UNPUBLISH = "unpublish"


@dataclass(frozen=True)
class StoryInput:
    title: str
    summary: str = ""
    body: str = ""


def _signed_in(user: User | None) -> bool:
    return user is not None and bool(user.is_authenticated) and not user.is_disabled


def _is_operator(user: User | None) -> bool:
    return _signed_in(user) and bool(user and user.is_operator)


def _is_writer(session: Session, user: User | None, kube_id: int) -> bool:
    """A facilitator assigned to the KUBE (operators review stories, they do not write them)."""
    return _signed_in(user) and is_assigned_facilitator(session, user, kube_id)


def _clean(values: StoryInput) -> StoryInput:
    title = clean_text(values.title, field="title", max_length=TITLE_MAX)
    summary = clean_text(values.summary, field="summary", max_length=SUMMARY_MAX, required=False)
    # Keep the writer's line breaks (paragraphs), only trim the ends.
    body = clean_text(values.body, field="body", max_length=BODY_MAX, required=False)
    return StoryInput(title=title, summary=" ".join(summary.split()), body=body)


def _unique_slug(session: Session, title: str, story_id: int | None = None) -> str:
    base = slugify(title, max_length=100)
    taken = set(session.scalars(select(Story.slug).where(
        or_(Story.slug == base, Story.slug.like(f"{base}-%")),
        Story.id != (story_id or 0),
    )))
    taken |= RESERVED_SLUGS
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _kube(session: Session, kube_id: int) -> Kube:
    kube = session.get(Kube, kube_id)
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    return kube


def _refuse_writer(session: Session, actor: User | None, kube: Kube) -> None:
    """Raise unless `actor` may write the KUBE's stories (outsiders to a non-public KUBE get 404)."""
    if _is_writer(session, actor, kube.id):
        return
    if not kube.is_public and not _is_operator(actor) and member_role(session, actor, kube.id) is None:
        raise NotFoundError(N_("KUBE not found."))
    raise PermissionDenied(N_("Only a facilitator assigned to this KUBE writes its stories."))


def writable_kube(session: Session, actor: User | None, kube_slug: str) -> Kube:
    """The KUBE of a new story, when `actor` may write its stories."""
    kube = session.scalar(select(Kube).where(Kube.slug == kube_slug)) if kube_slug else None
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    _refuse_writer(session, actor, kube)
    return kube


# --- Reading ------------------------------------------------------------------------------------------


def can_read(session: Session, viewer: User | None, story: Story) -> bool:
    """Published stories of public KUBEs for everyone; any other story for its insiders (see the module)."""
    if story.status == StoryStatus.PUBLISHED and story.kube.is_public:
        return True
    if not _signed_in(viewer) or viewer is None:
        return False
    if viewer.is_operator or story.author_id == viewer.id:
        return True
    return is_assigned_facilitator(session, viewer, story.kube_id) or (
        member_role(session, viewer, story.kube_id) is not None)


def allowed_story_actions(session: Session, viewer: User | None, story: Story) -> frozenset[StoryAction]:
    actions: set[StoryAction] = set()
    if _is_operator(viewer):
        if story.status == StoryStatus.SUBMITTED:
            actions |= {StoryAction.PUBLISH, StoryAction.SEND_BACK}
        elif story.status == StoryStatus.PUBLISHED:
            actions.add(StoryAction.UNPUBLISH)
    if story.status in EDITABLE_STATUSES and _is_writer(session, viewer, story.kube_id):
        actions |= {StoryAction.EDIT, StoryAction.SUBMIT}
    return frozenset(actions)


def _story_stmt() -> Select[Story]:
    return select(Story).options(joinedload(Story.kube), joinedload(Story.author), selectinload(Story.photos))


def story_by_slug(session: Session, viewer: User | None, slug: str) -> Story:
    """A story page: 404 for a story the viewer may not read."""
    story = session.scalar(_story_stmt().where(Story.slug == slug))
    if story is None or not can_read(session, viewer, story):
        raise NotFoundError(N_("Story not found."))
    return story


def _published_stmt() -> Select[Story]:
    return (
        select(Story)
        .join(Story.kube)
        .where(Story.status == StoryStatus.PUBLISHED, Kube.status.in_(PUBLIC_KUBE_STATUSES))
    )


def public_stories(session: Session, *, page: int = 1, per_page: int = 12) -> Page[Story]:
    """Published stories of public KUBEs, newest first (three queries whatever the page size)."""
    page, per_page = max(1, page), min(max(1, per_page), 100)
    stmt = _published_stmt()
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = list(session.scalars(
        stmt.options(contains_eager(Story.kube), selectinload(Story.photos))
        .order_by(Story.published_at.desc(), Story.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ))
    return Page(items=items, total=total, page=page, per_page=per_page)


def latest_published(session: Session, limit: int = 3) -> list[Story]:
    """The newest published stories for the home page (two queries: stories with their KUBE, then photos)."""
    return list(session.scalars(
        _published_stmt()
        .options(contains_eager(Story.kube), selectinload(Story.photos))
        .order_by(Story.published_at.desc(), Story.id.desc())
        .limit(max(0, limit))
    ))


def review_queue(session: Session, actor: User | None) -> list[Story]:
    """Operators: the stories waiting for publication, the longest waiting first."""
    if not _is_operator(actor):
        raise PermissionDenied(N_("Only operators review stories."))
    return list(session.scalars(
        _story_stmt().where(Story.status == StoryStatus.SUBMITTED)
        .order_by(Story.submitted_at, Story.id)
    ).unique())


@dataclass(frozen=True)
class FacilitatorStories:
    kubes: list[Kube]  # the KUBEs the facilitator may write about
    stories: list[Story]  # their stories in every state, the latest changed first


def facilitator_stories(session: Session, actor: User | None) -> FacilitatorStories:
    """A facilitator's desk: the assigned KUBEs and their stories (three queries)."""
    if not _signed_in(actor) or actor is None or not actor.is_facilitator:
        raise PermissionDenied(N_("Only facilitators write stories."))
    kube_ids = select(FacilitatorAssignment.kube_id).where(FacilitatorAssignment.facilitator_id == actor.id)
    kubes = list(session.scalars(select(Kube).where(Kube.id.in_(kube_ids)).order_by(Kube.name)))
    stories = list(session.scalars(
        _story_stmt().where(Story.kube_id.in_(kube_ids)).order_by(Story.updated_at.desc(), Story.id.desc())
    ).unique())
    return FacilitatorStories(kubes=kubes, stories=stories)


# --- Writing ------------------------------------------------------------------------------------------


def _get(session: Session, story_id: int) -> Story:
    story = session.get(Story, story_id)
    if story is None:
        raise NotFoundError(N_("Story not found."))
    return story


def _editable(session: Session, actor: User | None, story_id: int) -> Story:
    story = _get(session, story_id)
    if not can_read(session, actor, story):
        raise NotFoundError(N_("Story not found."))
    _refuse_writer(session, actor, story.kube)
    if story.status == StoryStatus.PUBLISHED:
        raise ConflictError(N_("A published story cannot be changed. Ask an operator to take it off the site "
                               "first."))
    if story.status == StoryStatus.SUBMITTED:
        raise ConflictError(N_("This story is waiting for an operator and cannot be changed now."))
    return story


def story_for_edit(session: Session, actor: User | None, slug: str) -> Story:
    """The story of an edit page, when `actor` may change it now (404, 403 or 409 otherwise)."""
    story = story_by_slug(session, actor, slug)
    return _editable(session, actor, story.id)


def create_story(session: Session, actor: User, kube_id: int, values: StoryInput) -> Story:
    kube = _kube(session, kube_id)
    _refuse_writer(session, actor, kube)
    clean = _clean(values)
    story = Story(kube_id=kube.id, author_id=actor.id, title=clean.title, summary=clean.summary, body=clean.body,
                  slug=_unique_slug(session, clean.title), status=StoryStatus.DRAFT, review_note="")
    session.add(story)
    session.flush()
    return story


def update_story(session: Session, actor: User, story_id: int, values: StoryInput) -> Story:
    story = _editable(session, actor, story_id)
    clean = _clean(values)
    if clean.title != story.title and story.published_at is None:
        # Never public yet: the address may still follow the title (a published address stays put).
        story.slug = _unique_slug(session, clean.title, story.id)
    story.title, story.summary, story.body = clean.title, clean.summary, clean.body
    story.updated_at = utcnow()
    session.flush()
    return story


def add_photo(session: Session, actor: User, story_id: int, data: bytes, limits: ImageLimits,
              caption: str = "") -> StoryPhoto:
    story = _editable(session, actor, story_id)
    caption = clean_text(caption, field="caption", max_length=CAPTION_MAX, required=False)
    if len(story.photos) >= MAX_PHOTOS:
        raise ConflictError(N_("A story has at most %(n)d photos."), field="photo", n=MAX_PHOTOS)
    stored = media.store_image(data, limits.media_root, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels,
                               field="photo")
    media.keep_if_committed(session, limits.media_root, stored.key)
    position = max((p.position for p in story.photos), default=-1) + 1
    photo = StoryPhoto(key=stored.key, width=stored.width, height=stored.height, caption=caption,
                       position=position)
    story.photos.append(photo)
    story.updated_at = utcnow()
    session.flush()
    return photo


def remove_photo(session: Session, actor: User, story_id: int, photo_id: int, media_root: str | Path) -> None:
    story = _editable(session, actor, story_id)
    photo = next((p for p in story.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFoundError(N_("Photo not found."))
    media.delete_when_committed(session, media_root, photo.key)
    story.photos.remove(photo)
    story.updated_at = utcnow()
    session.flush()


def submit_story(session: Session, actor: User, story_id: int) -> Story:
    """The facilitator sends the story to the operators (a summary and a body are needed by then)."""
    story = _editable(session, actor, story_id)
    if not story.summary.strip():
        raise ValidationError(N_("Write a short summary before sending the story."), field="summary")
    if not story.body.strip():
        raise ValidationError(N_("Write the story before sending it."), field="body")
    story.status = StoryStatus.SUBMITTED
    story.submitted_at = utcnow()
    story.updated_at = story.submitted_at
    session.flush()
    return story


# --- Reviewing (operators) ----------------------------------------------------------------------------


def _reviewable(session: Session, actor: User | None, story_id: int, status: StoryStatus) -> Story:
    if not _is_operator(actor):
        raise PermissionDenied(N_("Only operators publish stories."))
    story = _get(session, story_id)
    if story.status != status:
        if status == StoryStatus.SUBMITTED:
            raise ConflictError(N_("This story is not waiting for review."))
        raise ConflictError(N_("This story is not published."))
    return story


def publish_story(session: Session, actor: User, story_id: int) -> Story:
    story = _reviewable(session, actor, story_id, StoryStatus.SUBMITTED)
    if not story.kube.is_public:
        raise ConflictError(N_("This KUBE is not public yet, so its story cannot be published."))
    now = utcnow()
    story.status = StoryStatus.PUBLISHED
    story.published_at = now
    story.published_by_id = actor.id
    story.review_note = ""
    story.updated_at = now
    session.flush()
    return story


def send_back_story(session: Session, actor: User, story_id: int, note: str) -> Story:
    """Back to the facilitator, with what to change."""
    story = _reviewable(session, actor, story_id, StoryStatus.SUBMITTED)
    if not (note or "").strip():
        raise ValidationError(N_("Tell the facilitator what to change."), field="note")
    story.review_note = clean_text(note, field="note", max_length=NOTE_MAX)
    story.status = StoryStatus.SENT_BACK
    story.updated_at = utcnow()
    session.flush()
    return story


def unpublish_story(session: Session, actor: User, story_id: int, note: str = "") -> Story:
    """Off the site: back to the facilitator (sent back), with an optional note on why."""
    story = _reviewable(session, actor, story_id, StoryStatus.PUBLISHED)
    story.review_note = clean_text(note, field="note", max_length=NOTE_MAX, required=False)
    story.status = StoryStatus.SENT_BACK
    story.updated_at = utcnow()
    session.flush()
    return story
