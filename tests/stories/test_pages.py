"""The stories pages: writing, review, the public list and story pages, and who may see or do what."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import KubeStatus
from marketplace.media import image_path
from marketplace.stories import services
from marketplace.stories.models import Story, StoryPhoto, StoryStatus
from tests import factories
from tests.factories import World
from tests.stories.support import draft, published

Login = Callable[[str], FlaskClient]

# These tests check the English texts; tests/test_translations.py checks the Indonesian ones.
pytestmark = pytest.mark.usefixtures("english")
NEW = "/stories/new?kube=kube-kelapa-a"


def _form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {"title": "From husk to income", "summary": "Coconut husk became money.",
                               "body": "We started with five households.\n\nNow we sell coir.", "save": "1"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _photo(data: bytes | None = None, name: str = "kube.png") -> tuple[io.BytesIO, str]:
    return io.BytesIO(factories.png_bytes() if data is None else data), name


def _counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count(Story.id))) or 0,
            session.scalar(select(func.count(StoryPhoto.id))) or 0)


def _clean_html(html: str) -> None:
    assert "<script>" not in html and 'style="' not in html  # strict CSP: no inline script or style


# --- The whole round -------------------------------------------------------------------------------------


def test_write_upload_submit_publish_and_read(app: Flask, session: Session, world: World, login_as: Login) -> None:
    writer = login_as("facilitator_a")
    page = writer.get(NEW)
    assert page.status_code == 200 and "Write a success story" in page.get_data(as_text=True)
    response = writer.post(NEW, data=_form(photo=_photo(), caption="The group at work"),
                           content_type="multipart/form-data")
    assert response.status_code == 302 and response.location.endswith("/stories/from-husk-to-income/edit")
    story = session.scalars(select(Story)).one()
    assert story.status == StoryStatus.DRAFT and len(story.photos) == 1
    key = story.photos[0].key
    assert image_path(app.config["MEDIA_ROOT"], key).exists()
    edit = writer.get("/stories/from-husk-to-income/edit").get_data(as_text=True)
    assert "saved as a draft" in edit and "The group at work" in edit and "(1/6)" in edit
    # Not public yet.
    assert app.test_client().get("/stories/from-husk-to-income").status_code == 404

    response = writer.post("/stories/from-husk-to-income/submit")
    assert response.status_code == 302
    session.expire_all()
    assert story.status == StoryStatus.SUBMITTED

    operator = login_as("operator")
    queue = operator.get("/stories/review").get_data(as_text=True)
    assert "From husk to income" in queue and "1 photo" in queue
    page_html = operator.get("/stories/from-husk-to-income").get_data(as_text=True)
    assert "/stories/from-husk-to-income/publish" in page_html and "Send back" in page_html
    response = operator.post("/stories/from-husk-to-income/publish", data={"next": "/stories/review"})
    assert response.status_code == 302 and response.location.endswith("/stories/review")
    assert "The story is published." in operator.get("/stories/review").get_data(as_text=True)

    public = app.test_client()
    listing = public.get("/stories").get_data(as_text=True)
    _clean_html(listing)
    assert "From husk to income" in listing and "KUBE Kelapa A" in listing and "Banggai" in listing
    assert key in listing  # the photo's thumbnail
    page_html = public.get("/stories/from-husk-to-income").get_data(as_text=True)
    _clean_html(page_html)
    assert "<p class=\"pre-line\">We started with five households.</p>" in page_html
    assert "<p class=\"pre-line\">Now we sell coir.</p>" in page_html
    assert "The group at work" in page_html and "Told by Facilitator A, facilitator" in page_html
    assert "/publish" not in page_html and "/edit" not in page_html


def test_save_and_send_at_once(session: Session, world: World, login_as: Login) -> None:
    response = login_as("facilitator_a").post(NEW, data=_form(save=None, send="1"))
    assert response.status_code == 302 and response.location.endswith("/stories/from-husk-to-income")
    assert session.scalars(select(Story)).one().status == StoryStatus.SUBMITTED


def test_send_back_with_a_note_then_edit_and_send_again(session: Session, world: World, login_as: Login) -> None:
    story = draft(session, world, "Cerita Kelapa")
    services.submit_story(session, world.facilitator_a, story.id)
    session.commit()
    operator = login_as("operator")
    refused = operator.post("/stories/cerita-kelapa/send-back", data={"note": " "}, follow_redirects=True)
    assert "Tell the facilitator what to change." in refused.get_data(as_text=True)
    operator.post("/stories/cerita-kelapa/send-back", data={"note": "Add <b>sales</b> figures."})
    session.expire_all()
    assert story.status == StoryStatus.SENT_BACK
    writer = login_as("facilitator_a")
    edit = writer.get("/stories/cerita-kelapa/edit").get_data(as_text=True)
    assert "Add &lt;b&gt;sales&lt;/b&gt; figures." in edit
    response = writer.post("/stories/cerita-kelapa/edit", data=_form(title="Cerita Kelapa", save=None, send="1"))
    assert response.status_code == 302
    session.expire_all()
    assert story.status == StoryStatus.SUBMITTED and story.body.startswith("We started")


def test_unpublish(session: Session, world: World, login_as: Login, app: Flask) -> None:
    story = published(session, world, "Cerita Kelapa")
    session.commit()
    response = login_as("operator").post("/stories/cerita-kelapa/unpublish", data={"note": "Photo consent?"})
    assert response.status_code == 302
    session.expire_all()
    assert story.status == StoryStatus.SENT_BACK and story.review_note == "Photo consent?"
    assert app.test_client().get("/stories/cerita-kelapa").status_code == 404
    assert "Cerita Kelapa" not in app.test_client().get("/stories").get_data(as_text=True)


def test_delete_a_photo(app: Flask, session: Session, world: World, login_as: Login) -> None:
    writer = login_as("facilitator_a")
    writer.post(NEW, data=_form(photo=_photo()), content_type="multipart/form-data")
    photo = session.scalars(select(StoryPhoto)).one()
    key, photo_id = photo.key, photo.id
    assert login_as("ketua_a").post(f"/stories/from-husk-to-income/photos/{photo_id}/delete").status_code == 403
    response = writer.post(f"/stories/from-husk-to-income/photos/{photo_id}/delete")
    assert response.status_code == 302 and response.location.endswith("/edit#photos")
    assert _counts(session) == (1, 0)
    assert not image_path(app.config["MEDIA_ROOT"], key).exists()


# --- Forbidden ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["facilitator_b", "ketua_a", "anggota_a", "buyer", "order_taker", "operator"])
def test_only_the_kubes_facilitator_writes(session: Session, world: World, login_as: Login, who: str) -> None:
    client = login_as(who)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, data=_form()).status_code == 403
    assert _counts(session) == (0, 0)


def test_anonymous_is_sent_to_sign_in(session: Session, world: World, client: FlaskClient) -> None:
    story = draft(session, world, "Cerita")
    services.submit_story(session, world.facilitator_a, story.id)
    session.commit()
    for method, url in [("get", NEW), ("post", NEW), ("get", "/stories/mine"), ("get", "/stories/review"),
                        ("get", "/stories/cerita/edit"), ("post", "/stories/cerita/edit"),
                        ("post", "/stories/cerita/submit"), ("post", "/stories/cerita/publish"),
                        ("post", "/stories/cerita/send-back"), ("post", "/stories/cerita/unpublish"),
                        ("post", "/stories/cerita/photos/1/delete")]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/auth/login" in response.location, url
    session.expire_all()
    assert story.status == StoryStatus.SUBMITTED


def test_unknown_kubes_and_stories_are_not_found(world: World, login_as: Login) -> None:
    client = login_as("facilitator_a")
    assert client.get("/stories/new").status_code == 404
    assert client.get("/stories/new?kube=no-such").status_code == 404
    assert client.get("/stories/no-such-story").status_code == 404
    assert client.get("/stories/no-such-story/edit").status_code == 404
    assert client.post("/stories/no-such-story/publish").status_code == 404


@pytest.mark.parametrize("who, status", [("facilitator_b", 404), ("ketua_b", 404), ("buyer", 404),
                                         ("ketua_a", 200), ("anggota_a", 200), ("operator", 200),
                                         ("facilitator_a", 200)])
def test_who_sees_a_draft(session: Session, world: World, login_as: Login, who: str, status: int) -> None:
    draft(session, world, "Cerita")
    session.commit()
    response = login_as(who).get("/stories/cerita")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert "Only the KUBE's members, its facilitators and operators see this story" in html
        # Members read it; only the facilitator gets the buttons.
        assert ("/stories/cerita/edit" in html) == (who == "facilitator_a")


@pytest.mark.parametrize("who, status", [("facilitator_b", 404), ("ketua_a", 403), ("anggota_a", 403),
                                         ("buyer", 404), ("operator", 403)])
def test_others_cannot_edit_or_send(session: Session, world: World, login_as: Login, who: str,
                                    status: int) -> None:
    story = draft(session, world, "Cerita")
    session.commit()
    client = login_as(who)
    assert client.get("/stories/cerita/edit").status_code == status
    assert client.post("/stories/cerita/edit", data=_form(title="Hacked")).status_code == status
    assert client.post("/stories/cerita/submit").status_code == status
    session.expire_all()
    assert story.title == "Cerita" and story.status == StoryStatus.DRAFT


@pytest.mark.parametrize("who", ["facilitator_a", "ketua_a", "buyer"])
def test_only_operators_publish(session: Session, world: World, login_as: Login, who: str) -> None:
    story = draft(session, world, "Cerita")
    services.submit_story(session, world.facilitator_a, story.id)
    session.commit()
    client = login_as(who)
    expected = 404 if who == "buyer" else 403  # a buyer cannot even see a story not yet published
    assert client.get("/stories/review").status_code == 403
    assert client.post("/stories/cerita/publish").status_code == expected
    assert client.post("/stories/cerita/send-back", data={"note": "no"}).status_code == expected
    session.expire_all()
    assert story.status == StoryStatus.SUBMITTED
    services.publish_story(session, world.operator, story.id)
    session.commit()
    assert client.post("/stories/cerita/unpublish").status_code == 403
    session.expire_all()
    assert story.status == StoryStatus.PUBLISHED


def test_a_published_story_cannot_be_edited(session: Session, world: World, login_as: Login) -> None:
    story = published(session, world, "Cerita")
    session.commit()
    client = login_as("facilitator_a")
    response = client.get("/stories/cerita/edit")
    assert response.status_code == 409 and "cannot be changed" in response.get_data(as_text=True)
    assert client.post("/stories/cerita/edit", data=_form(title="Changed")).status_code == 409
    session.expire_all()
    assert story.title == "Cerita" and story.status == StoryStatus.PUBLISHED
    refused = client.post("/stories/cerita/submit", follow_redirects=True)
    assert "cannot be changed" in refused.get_data(as_text=True)


def test_the_forms_need_the_csrf_token(csrf_app: Flask, session: Session, world: World) -> None:
    story = draft(session, world, "Cerita")
    services.submit_story(session, world.facilitator_a, story.id)
    session.commit()
    operator = csrf_app.test_client()
    page = operator.get("/auth/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    assert token
    response = operator.post("/auth/login", data={"email": world.operator.email, "password": factories.PASSWORD,
                                                  "csrf_token": token.group(1)})
    assert response.status_code == 302
    assert operator.post("/stories/cerita/publish").status_code == 400
    session.expire_all()
    assert story.status == StoryStatus.SUBMITTED
    html = operator.get("/stories/cerita").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= 2  # publish and send back


# --- Bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes, message", [
    ({"title": ""}, "This field is required."),
    ({"title": "x" * 121}, "Field cannot be longer than 120 characters."),
    ({"summary": "x" * 301}, "Field cannot be longer than 300 characters."),
    ({"body": "x" * 20_001}, "Field cannot be longer than 20000 characters."),
    ({"caption": "x" * 201}, "Field cannot be longer than 200 characters."),
])
def test_bad_input_is_a_form_error(session: Session, world: World, login_as: Login, changes: dict[str, str],
                                   message: str) -> None:
    response = login_as("facilitator_a").post(NEW, data=_form(**changes))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "is-invalid" in html
    assert "We started with five households." in html or "body" in changes  # what was typed is still there
    assert _counts(session) == (0, 0)


def test_sending_without_a_summary_puts_the_error_on_the_field(session: Session, world: World,
                                                                login_as: Login) -> None:
    response = login_as("facilitator_a").post(NEW, data=_form(summary="", save=None, send="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Write a short summary before sending the story." in html
    assert "We started with five households." in html
    assert _counts(session) == (0, 0)


def test_a_file_that_is_no_image_loses_nothing(app: Flask, session: Session, world: World,
                                               login_as: Login) -> None:
    client = login_as("facilitator_a")
    response = client.post(NEW, data=_form(photo=_photo(b"just some text", "notes.png")),
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Upload a JPEG, PNG, WebP or GIF image." in html and "Choose your photo again" in html
    assert 'value="From husk to income"' in html and "We started with five households." in html
    assert _counts(session) == (0, 0)
    media = Path(app.config["MEDIA_ROOT"])
    assert not media.exists() or not any(media.rglob("*.jpg"))

    # On the edit page: the typed changes stay in the form, the saved story is unchanged.
    story = draft(session, world, "Cerita")
    session.commit()
    response = client.post("/stories/cerita/edit", data=_form(title="Cerita", body="New words",
                                                              photo=_photo(b"%PDF-1.4", "x.pdf")),
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Upload a JPEG, PNG, WebP or GIF image." in html and "New words" in html
    session.expire_all()
    assert story.body.startswith("Kami mulai") and story.photos == []


def test_the_seventh_photo_is_refused(session: Session, world: World, login_as: Login, app: Flask) -> None:
    story = draft(session, world, "Cerita")
    for _ in range(services.MAX_PHOTOS):
        services.add_photo(session, world.facilitator_a, story.id, factories.png_bytes(),
                           services.ImageLimits(app.config["MEDIA_ROOT"], 5_000_000, 20_000_000))
    session.commit()
    client = login_as("facilitator_a")
    assert 'name="photo"' not in client.get("/stories/cerita/edit").get_data(as_text=True)
    response = client.post("/stories/cerita/edit", data=_form(title="Cerita", photo=_photo()),
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "A story has at most 6 photos." in response.get_data(as_text=True)
    assert _counts(session) == (1, 6)


def test_html_in_a_story_is_shown_as_text(session: Session, world: World, login_as: Login, app: Flask) -> None:
    client = login_as("facilitator_a")
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    client.post(NEW, data=_form(title=f"Story {attack}", summary=attack, body=f"Hello\n\n{attack}"))
    story = session.scalars(select(Story)).one()
    services.submit_story(session, world.facilitator_a, story.id)
    services.publish_story(session, world.operator, story.id)
    session.commit()
    for url in ("/stories", f"/stories/{story.slug}"):
        html = app.test_client().get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html and "<img src=x" not in html


# --- Lists ------------------------------------------------------------------------------------------------------


def test_the_list_runs_the_same_queries_for_more_stories(session: Session, world: World, app: Flask,
                                                         count_queries: Callable[[], Any]) -> None:
    client = app.test_client()

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            published(session, world, f"Cerita {i}", media_root=app.config["MEDIA_ROOT"], photos=1)
        story = draft(session, world, f"Draf {start}")  # never shown
        assert story.status == StoryStatus.DRAFT
        session.commit()

    add(2, 0)
    client.get("/stories")  # warm up
    with count_queries() as few:
        html = client.get("/stories").get_data(as_text=True)
    assert html.count('class="card story-card') == 2
    add(7, 2)
    with count_queries() as many:
        html = client.get("/stories").get_data(as_text=True)
    assert html.count('class="card story-card') == 9
    assert many.count == few.count <= 4


def test_the_list_is_paginated_and_newest_first(session: Session, world: World, app: Flask) -> None:
    for i in range(13):
        published(session, world, f"Cerita {i:02d}")
    session.commit()
    client = app.test_client()
    first = client.get("/stories").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'href="/stories?page=2"' in first
    assert first.index("Cerita 12") < first.index("Cerita 11")
    second = client.get("/stories?page=2").get_data(as_text=True)
    assert second.count('class="card story-card') == 1 and "Cerita 00" in second
    assert client.get("/stories?page=junk").status_code == 200


def test_an_empty_list(world: World, client: FlaskClient) -> None:
    assert "No stories yet." in client.get("/stories").get_data(as_text=True)


def test_the_home_page_partial(session: Session, world: World, app: Flask) -> None:
    for i in range(4):
        published(session, world, f"Cerita {i}")
    session.commit()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        html = render_template("stories/_latest.html", stories=services.latest_published(session))
        assert html.count('class="card story-card') == 3 and "Success stories" in html
        assert "Cerita 3" in html and "Cerita 0" not in html
        assert render_template("stories/_latest.html", stories=[]).strip() == ""


def test_a_suspended_kubes_stories_disappear(session: Session, world: World, app: Flask, login_as: Login) -> None:
    published(session, world, "Cerita")
    world.kube_a.status = KubeStatus.SUSPENDED
    session.commit()
    assert app.test_client().get("/stories/cerita").status_code == 404
    assert "Cerita" not in app.test_client().get("/stories").get_data(as_text=True)
    html = login_as("facilitator_a").get("/stories/cerita").get_data(as_text=True)
    assert "not shown on the site while the KUBE is not public" in html


def test_the_facilitators_desk(session: Session, world: World, login_as: Login) -> None:
    draft(session, world, "Cerita")
    session.commit()
    html = login_as("facilitator_a").get("/stories/mine").get_data(as_text=True)
    assert "/stories/new?kube=kube-kelapa-a" in html and "Cerita" in html and "/stories/cerita/edit" in html
    assert "/stories/new?kube=kube-anyaman-b" not in html
    assert login_as("buyer").get("/stories/mine").status_code == 403
