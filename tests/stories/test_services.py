"""The rules of success stories, without HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.catalog.models import FacilitatorAssignment, KubeStatus
from marketplace.common import ConflictError, NotFoundError, PermissionDenied, ValidationError
from marketplace.stories import services
from marketplace.stories.models import StoryStatus
from marketplace.stories.services import StoryAction, StoryInput
from tests import factories
from tests.factories import World
from tests.stories.support import draft, limits, published


def _user(world: World, who: str) -> User:
    user: User = getattr(world, who)
    return user


# --- Who writes -------------------------------------------------------------------------------------------


def test_the_assigned_facilitator_writes_a_draft(session: Session, world: World) -> None:
    story = draft(session, world)
    assert story.status == StoryStatus.DRAFT and story.author_id == world.facilitator_a.id
    assert story.slug == "dari-sabut-jadi-penghasilan"
    assert story.paragraphs == ["Kami mulai dengan lima kepala keluarga.",
                                "Sekarang sabut kelapa kami dijual ke pabrik."]


@pytest.mark.parametrize("who", ["facilitator_b", "ketua_a", "anggota_a", "buyer", "order_taker", "operator"])
def test_nobody_else_writes(session: Session, world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.create_story(session, _user(world, who), world.kube_a.id, StoryInput(title="Cerita"))
    with pytest.raises(PermissionDenied):
        services.writable_kube(session, _user(world, who), world.kube_a.slug)


def test_outsiders_to_a_hidden_kube_get_not_found(session: Session, world: World) -> None:
    world.kube_a.status = KubeStatus.DRAFT
    session.flush()
    with pytest.raises(NotFoundError):
        services.writable_kube(session, world.facilitator_b, world.kube_a.slug)
    with pytest.raises(PermissionDenied):  # its own members know it exists
        services.writable_kube(session, world.ketua_a, world.kube_a.slug)
    assert services.writable_kube(session, world.facilitator_a, world.kube_a.slug) == world.kube_a
    with pytest.raises(NotFoundError):
        services.writable_kube(session, world.facilitator_a, "no-such-kube")


def test_a_disabled_facilitator_writes_nothing(session: Session, world: World) -> None:
    world.facilitator_a.is_disabled = True
    session.flush()
    with pytest.raises(PermissionDenied):
        draft(session, world)


def test_another_facilitator_of_the_same_kube_may_edit(session: Session, world: World) -> None:
    story = draft(session, world)
    second = factories.make_user(session, "facilitator_a2", is_facilitator=True)
    session.add(FacilitatorAssignment(kube_id=world.kube_a.id, facilitator_id=second.id))
    session.flush()
    services.update_story(session, second, story.id, StoryInput(title="Judul baru", summary="s", body="b"))
    assert story.title == "Judul baru" and story.author_id == world.facilitator_a.id


# --- Input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values, field", [
    (StoryInput(title=""), "title"),
    (StoryInput(title="   "), "title"),
    (StoryInput(title="x" * 121), "title"),
    (StoryInput(title="Cerita", summary="x" * 301), "summary"),
    (StoryInput(title="Cerita", body="x" * 20_001), "body"),
])
def test_bad_input_names_the_field(session: Session, world: World, values: StoryInput, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_story(session, world.facilitator_a, world.kube_a.id, values)
    assert caught.value.field == field


def test_a_story_needs_a_summary_and_a_body_to_be_sent(session: Session, world: World) -> None:
    story = draft(session, world, summary="", body="")
    with pytest.raises(ValidationError) as caught:
        services.submit_story(session, world.facilitator_a, story.id)
    assert caught.value.field == "summary"
    services.update_story(session, world.facilitator_a, story.id, StoryInput(title=story.title, summary="Singkat"))
    with pytest.raises(ValidationError) as caught:
        services.submit_story(session, world.facilitator_a, story.id)
    assert caught.value.field == "body"
    assert story.status == StoryStatus.DRAFT


def test_slugs_are_unique_and_never_a_page(session: Session, world: World) -> None:
    first = draft(session, world, "Kisah Kelapa")
    second = draft(session, world, "Kisah Kelapa")
    assert (first.slug, second.slug) == ("kisah-kelapa", "kisah-kelapa-2")
    assert draft(session, world, "New").slug == "new-2"
    assert draft(session, world, "Review!").slug == "review-2"


def test_the_slug_follows_the_title_until_published(session: Session, world: World) -> None:
    story = draft(session, world, "Draf")
    services.update_story(session, world.facilitator_a, story.id, StoryInput(title="Judul Akhir", summary="s",
                                                                              body="b"))
    assert story.slug == "judul-akhir"
    services.submit_story(session, world.facilitator_a, story.id)
    services.publish_story(session, world.operator, story.id)
    services.unpublish_story(session, world.operator, story.id, "Foto kurang jelas")
    services.update_story(session, world.facilitator_a, story.id, StoryInput(title="Lain", summary="s", body="b"))
    assert story.slug == "judul-akhir"  # once public, its address stays


# --- Photos ---------------------------------------------------------------------------------------------------


def test_at_most_six_photos(session: Session, world: World, tmp_path: Path) -> None:
    story = draft(session, world)
    for n in range(services.MAX_PHOTOS):
        photo = services.add_photo(session, world.facilitator_a, story.id, factories.png_bytes(), limits(tmp_path),
                                   caption=f"Foto {n}")
        assert photo.position == n and len(photo.key) == 32  # a random key, even for a draft
    with pytest.raises(ConflictError) as caught:
        services.add_photo(session, world.facilitator_a, story.id, factories.png_bytes(), limits(tmp_path))
    assert caught.value.field == "photo"
    assert [p.caption for p in story.photos] == [f"Foto {n}" for n in range(6)]


def test_a_photo_must_be_an_image_and_a_caption_short(session: Session, world: World, tmp_path: Path) -> None:
    story = draft(session, world)
    with pytest.raises(ValidationError) as caught:
        services.add_photo(session, world.facilitator_a, story.id, b"not an image", limits(tmp_path))
    assert caught.value.field == "photo"
    with pytest.raises(ValidationError) as caught:
        services.add_photo(session, world.facilitator_a, story.id, factories.png_bytes(), limits(tmp_path),
                           caption="x" * 201)
    assert caught.value.field == "caption"
    assert story.photos == []


def test_photos_are_removed_by_a_writer_only(session: Session, world: World, tmp_path: Path) -> None:
    story = draft(session, world)
    photo = services.add_photo(session, world.facilitator_a, story.id, factories.png_bytes(), limits(tmp_path))
    with pytest.raises(PermissionDenied):
        services.remove_photo(session, world.ketua_a, story.id, photo.id, tmp_path)
    with pytest.raises(NotFoundError):
        services.remove_photo(session, world.facilitator_a, story.id, photo.id + 1000, tmp_path)
    services.remove_photo(session, world.facilitator_a, story.id, photo.id, tmp_path)
    assert story.photos == []


# --- Review ---------------------------------------------------------------------------------------------------


def test_the_whole_round(session: Session, world: World) -> None:
    story = draft(session, world)
    services.submit_story(session, world.facilitator_a, story.id)
    assert story.status == StoryStatus.SUBMITTED and story.submitted_at is not None
    assert services.review_queue(session, world.operator) == [story]
    services.send_back_story(session, world.operator, story.id, "Tambahkan angka penjualan.")
    assert story.status == StoryStatus.SENT_BACK and story.review_note == "Tambahkan angka penjualan."
    services.update_story(session, world.facilitator_a, story.id,
                          StoryInput(title=story.title, summary=story.summary, body=story.body + "\n\nRp2 juta."))
    services.submit_story(session, world.facilitator_a, story.id)
    services.publish_story(session, world.operator, story.id)
    assert story.status == StoryStatus.PUBLISHED and story.published_by_id == world.operator.id
    assert story.published_at is not None and story.review_note == ""
    assert services.public_stories(session).items == [story]
    services.unpublish_story(session, world.operator, story.id)
    assert story.status == StoryStatus.SENT_BACK and services.public_stories(session).items == []


@pytest.mark.parametrize("who", ["facilitator_a", "facilitator_b", "ketua_a", "buyer"])
def test_only_operators_review(session: Session, world: World, who: str) -> None:
    story = draft(session, world)
    services.submit_story(session, world.facilitator_a, story.id)
    actor = _user(world, who)
    for step in (lambda: services.publish_story(session, actor, story.id),
                 lambda: services.send_back_story(session, actor, story.id, "Ubah"),
                 lambda: services.review_queue(session, actor)):
        with pytest.raises(PermissionDenied):
            step()
    services.publish_story(session, world.operator, story.id)
    with pytest.raises(PermissionDenied):
        services.unpublish_story(session, actor, story.id)
    assert story.status == StoryStatus.PUBLISHED


def test_review_steps_need_the_right_state(session: Session, world: World) -> None:
    story = draft(session, world)
    with pytest.raises(ConflictError):
        services.publish_story(session, world.operator, story.id)
    with pytest.raises(ConflictError):
        services.unpublish_story(session, world.operator, story.id)
    services.submit_story(session, world.facilitator_a, story.id)
    with pytest.raises(ValidationError) as caught:
        services.send_back_story(session, world.operator, story.id, "  ")
    assert caught.value.field == "note"
    with pytest.raises(ValidationError):
        services.send_back_story(session, world.operator, story.id, "x" * 1001)


def test_a_story_of_a_hidden_kube_is_not_published(session: Session, world: World) -> None:
    story = draft(session, world)
    services.submit_story(session, world.facilitator_a, story.id)
    world.kube_a.status = KubeStatus.DRAFT
    session.flush()
    with pytest.raises(ConflictError):
        services.publish_story(session, world.operator, story.id)


@pytest.mark.parametrize("step", ["submitted", "published"])
def test_a_sent_or_published_story_is_not_changed(session: Session, world: World, tmp_path: Path,
                                                  step: str) -> None:
    story = draft(session, world)
    services.submit_story(session, world.facilitator_a, story.id)
    if step == "published":
        services.publish_story(session, world.operator, story.id)
    changes: list[Callable[[], Any]] = [
        lambda: services.update_story(session, world.facilitator_a, story.id, StoryInput(title="Lain")),
        lambda: services.add_photo(session, world.facilitator_a, story.id, factories.png_bytes(), limits(tmp_path)),
        lambda: services.submit_story(session, world.facilitator_a, story.id),
    ]
    for change in changes:
        with pytest.raises(ConflictError):
            change()
    assert story.title == "Dari sabut jadi penghasilan"


# --- Reading ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who, sees", [
    (None, False), ("buyer", False), ("facilitator_b", False), ("ketua_b", False), ("order_taker", False),
    ("facilitator_a", True), ("ketua_a", True), ("anggota_a", True), ("operator", True),
])
def test_who_reads_a_draft(session: Session, world: World, who: str | None, sees: bool) -> None:
    story = draft(session, world)
    viewer = _user(world, who) if who else None
    assert services.can_read(session, viewer, story) is sees
    if not sees:
        with pytest.raises(NotFoundError):
            services.story_by_slug(session, viewer, story.slug)
    # Members read it, but only the facilitator may change or send it.
    expected = {StoryAction.EDIT, StoryAction.SUBMIT} if who == "facilitator_a" else set()
    assert services.allowed_story_actions(session, viewer, story) == expected


def test_everyone_reads_a_published_story_of_a_public_kube(session: Session, world: World) -> None:
    story = published(session, world)
    assert services.story_by_slug(session, None, story.slug) == story
    assert services.allowed_story_actions(session, world.operator, story) == {StoryAction.UNPUBLISH}
    assert services.allowed_story_actions(session, world.facilitator_a, story) == set()
    world.kube_a.status = KubeStatus.SUSPENDED
    session.flush()
    with pytest.raises(NotFoundError):
        services.story_by_slug(session, world.buyer, story.slug)
    assert services.story_by_slug(session, world.ketua_a, story.slug) == story
    assert services.public_stories(session).items == [] and services.latest_published(session) == []


def test_public_lists_show_published_stories_newest_first(session: Session, world: World) -> None:
    older = published(session, world, "Satu")
    newer = published(session, world, "Dua")
    draft(session, world, "Draf")
    sent = draft(session, world, "Terkirim")
    services.submit_story(session, world.facilitator_a, sent.id)
    assert older.published_at and newer.published_at
    older.published_at = newer.published_at.replace(year=newer.published_at.year - 1)
    session.flush()
    assert services.public_stories(session).items == [newer, older]
    assert services.latest_published(session, limit=1) == [newer]
    page = services.public_stories(session, page=2, per_page=1)
    assert page.items == [older] and page.total == 2 and page.pages == 2


def test_latest_published_takes_two_queries(session: Session, world: World, tmp_path: Path,
                                            count_queries: Callable[[], Any]) -> None:
    for n in range(4):
        published(session, world, f"Cerita {n}", media_root=tmp_path, photos=2)
    session.commit()
    session.expire_all()
    with count_queries() as counter:
        stories = services.latest_published(session, limit=3)
        shown = [(s.title, s.kube.name, s.main_photo.key if s.main_photo else None) for s in stories]
    assert len(shown) == 3 and all(key for _title, _kube, key in shown)
    assert counter.count == 2


def test_a_facilitators_desk(session: Session, world: World) -> None:
    mine = draft(session, world)
    services.create_story(session, world.facilitator_b, world.kube_b.id, StoryInput(title="Anyaman"))
    desk = services.facilitator_stories(session, world.facilitator_a)
    assert desk.kubes == [world.kube_a] and desk.stories == [mine]
    for who in ("buyer", "operator", "ketua_a"):
        with pytest.raises(PermissionDenied):
            services.facilitator_stories(session, _user(world, who))
