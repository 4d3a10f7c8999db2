"""Field visit reports: writing, versions, photos kept privately and shown only to the KUBE's people,
bad input, and everyone who may not write or read them."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import KubeStatus, MemberRole
from marketplace.common import utcnow
from marketplace.facilitator import services
from marketplace.facilitator.models import VisitPhoto, VisitReport
from tests import factories
from tests.facilitator.support import visit
from tests.factories import World

pytestmark = pytest.mark.usefixtures("english")
Login = Callable[[str], FlaskClient]

FORM = {
    "visited_on": "2026-05-05", "notes": "Bimbingan pembukuan dan cek stok.", "guidance_given": "y",
    "bookkeeping_checked": "y", "follow_up": "Kunjungi lagi bulan depan.",
    "video_links": "https://youtu.be/abc\nhttp://example.org/video.mp4",
}


def _form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {**FORM, **changes}
    return {k: v for k, v in data.items() if v is not None}


def _photo(name: str = "foto.png", colour: tuple[int, int, int] = (10, 120, 40)) -> tuple[io.BytesIO, str]:
    return io.BytesIO(factories.png_bytes(colour=colour)), name


def _reports(session: Session) -> list[VisitReport]:
    session.expire_all()
    return list(session.scalars(select(VisitReport).order_by(VisitReport.id)))


def _private_files(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["PRIVATE_MEDIA_ROOT"]).rglob("*.jpg"))


def _new(client: FlaskClient, world: World, **data: object) -> object:
    return client.post(f"/facilitator/kubes/{world.kube_a.slug}/visits/new", data=data,
                       content_type="multipart/form-data")


# --- Writing ----------------------------------------------------------------------------------------


def test_new_report_with_photos(app: Flask, world: World, session: Session, login_as: Login) -> None:
    client = login_as("facilitator_a")
    page = client.get(f"/facilitator/kubes/{world.kube_a.slug}/visits/new").get_data(as_text=True)
    assert "Report a visit" in page and 'enctype="multipart/form-data"' in page
    response = client.post(f"/facilitator/kubes/{world.kube_a.slug}/visits/new",
                           data={**_form(), "photos": [_photo("a.png"), _photo("b.png", (200, 10, 10))]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    (report,) = _reports(session)
    assert response.headers["Location"] == f"/facilitator/visits/{report.id}"
    assert (report.kube_id, report.facilitator_id, report.version) == (world.kube_a.id, world.facilitator_a.id, 1)
    assert report.visited_on == date(2026, 5, 5) and report.guidance_given and report.bookkeeping_checked
    assert not report.business_monitored and not report.problems_found
    assert report.links == ["https://youtu.be/abc", "http://example.org/video.mp4"]
    assert len(report.photos) == 2
    assert len(_private_files(app)) == 4  # each photo and its thumbnail, in the private root
    assert not Path(app.config["MEDIA_ROOT"]).exists() or not list(Path(app.config["MEDIA_ROOT"]).rglob("*.jpg"))

    html = client.get(f"/facilitator/visits/{report.id}").get_data(as_text=True)
    assert "Bimbingan pembukuan dan cek stok." in html and "Version 1 of 1" in html
    assert f"/facilitator/visit-photos/{report.photos[0].key}?thumb=1" in html
    assert 'href="https://youtu.be/abc" rel="noopener noreferrer nofollow"' in html


def test_edit_makes_a_new_version_and_keeps_the_old(app: Flask, world: World, session: Session,
                                                    login_as: Login) -> None:
    client = login_as("facilitator_a")
    _new(client, world, **_form(), photos=[_photo("a.png"), _photo("b.png")])
    (first,) = _reports(session)
    keys = [p.key for p in first.photos]
    edit = client.get(f"/facilitator/visits/{first.id}/edit").get_data(as_text=True)
    assert "Bimbingan pembukuan dan cek stok." in edit and "Saving writes version 2" in edit
    response = client.post(f"/facilitator/visits/{first.id}/edit",
                           data={**_form(notes="Catatan diperbaiki.", problems_found="y", problems="Kemasan bocor"),
                                 "drop_photo": str(first.photos[0].id), "photos": [_photo("c.png")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    old, new = _reports(session)
    assert (old.version, new.version, new.supersedes_id, new.group_key) == (1, 2, old.id, old.group_key)
    assert old.notes == "Bimbingan pembukuan dan cek stok." and not old.problems_found  # kept as written
    assert new.notes == "Catatan diperbaiki." and new.problems == "Kemasan bocor" and new.problems_found
    assert [p.key for p in old.photos] == keys
    assert [p.key for p in new.photos] == [keys[1], new.photos[1].key] and new.photos[1].key not in keys
    assert len(_private_files(app)) == 6  # nothing deleted: the first version still shows its photos

    latest = client.get(f"/facilitator/visits/{new.id}").get_data(as_text=True)
    assert "Version 2 of 2" in latest and f'href="/facilitator/visits/{old.id}"' in latest
    earlier = client.get(f"/facilitator/visits/{old.id}").get_data(as_text=True)
    assert "Version 1 of 2" in earlier and "This is an earlier version" in earlier
    assert "Bimbingan pembukuan dan cek stok." in earlier and "Edit (new version)" not in earlier
    # The KUBE page lists the report once, at its latest version.
    page = client.get(f"/facilitator/kubes/{world.kube_a.slug}").get_data(as_text=True)
    assert page.count("/facilitator/visits/") == 1 and "Catatan diperbaiki." in page and "version 2" in page

    # Editing the earlier version is refused (it would fork the report); its edit page leads to the latest.
    response = client.post(f"/facilitator/visits/{old.id}/edit", data=_form(notes="Cabang"))
    assert response.status_code == 200 and "has a newer version" in response.get_data(as_text=True)
    assert len(_reports(session)) == 2
    response = client.get(f"/facilitator/visits/{old.id}/edit")
    assert response.status_code == 302 and response.headers["Location"] == f"/facilitator/visits/{new.id}/edit"


def test_another_assigned_facilitator_may_add_a_version(world: World, session: Session, login_as: Login) -> None:
    second = factories.make_user(session, "facilitator_a2", is_facilitator=True)
    session.add(factories.FacilitatorAssignment(kube_id=world.kube_a.id, facilitator_id=second.id))
    report = visit(session, world, date(2026, 5, 5))
    session.commit()
    response = login_as("facilitator_a2").post(f"/facilitator/visits/{report.id}/edit", data=_form(notes="Tambah"))
    assert response.status_code == 302
    assert _reports(session)[-1].facilitator_id == second.id


def test_service_refuses_unknown_photo_to_drop(world: World, session: Session) -> None:
    report = visit(session, world, date(2026, 5, 5))
    data = services.VisitInput(visited_on=date(2026, 5, 6), notes="x")
    with pytest.raises(services.ValidationError):
        services.revise_visit(session, world.facilitator_a, report.id, data, drop_photo_ids=["999"])


# --- Bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"visited_on": (utcnow() + timedelta(days=3)).date().isoformat()}, "cannot be in the future"),
        ({"visited_on": "1999-12-31"}, "too far in the past"),
        ({"visited_on": "kemarin"}, "Not a valid date value."),
        ({"visited_on": None}, "This field is required."),
        ({"notes": "   "}, "This field is required."),
        ({"notes": "x" * 5001}, "Field cannot be longer than 5000 characters."),
        ({"video_links": "javascript:alert(1)"}, "is not a web address"),
        ({"video_links": "ftp://example.org/a.mp4"}, "is not a web address"),
        ({"video_links": "youtu.be/abc"}, "is not a web address"),
        ({"video_links": "https://"}, "is not a web address"),
        ({"video_links": "\n".join(f"https://e.org/{i}" for i in range(11))}, "at most 10 video links"),
        ({"problems_found": "y", "problems": ""}, "Describe the problems found."),
    ],
)
def test_bad_input_is_a_form_error(app: Flask, world: World, session: Session, login_as: Login,
                                   changes: dict[str, object], message: str) -> None:
    response = _new(login_as("facilitator_a"), world, **_form(**changes), photos=[_photo()])
    assert response.status_code == 200  # type: ignore[attr-defined]
    html = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert message in html
    assert "Choose your photos again" in html
    if "notes" not in changes:
        assert "Bimbingan pembukuan dan cek stok." in html  # what was typed is kept
    assert _reports(session) == [] and _private_files(app) == []


@pytest.mark.parametrize(("upload", "message"), [
    (b"%PDF-1.4 not an image", "Upload a JPEG, PNG, WebP or GIF image."),
    (b"", None),  # an empty file input is no photo at all
])
def test_non_image_upload(app: Flask, world: World, session: Session, login_as: Login, upload: bytes,
                          message: str | None) -> None:
    # A good photo first: it is stored, then removed again when the second upload fails.
    photos = [_photo("good.png"), (io.BytesIO(upload), "laporan.pdf" if upload else "")]
    response = _new(login_as("facilitator_a"), world, **_form(), photos=photos)
    if message is None:
        assert response.status_code == 302  # type: ignore[attr-defined]
        assert len(_reports(session)[0].photos) == 1
        return
    html = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == 200 and message in html  # type: ignore[attr-defined]
    assert "Bimbingan pembukuan dan cek stok." in html and "https://youtu.be/abc" in html
    assert _reports(session) == [] and _private_files(app) == []


def test_too_many_photos(app: Flask, world: World, session: Session, login_as: Login) -> None:
    response = _new(login_as("facilitator_a"), world, **_form(), photos=[_photo(f"{i}.png") for i in range(11)])
    assert "at most 10 photos" in response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert _reports(session) == [] and _private_files(app) == []


def test_bad_edit_keeps_the_report_as_it_was(app: Flask, world: World, session: Session, login_as: Login) -> None:
    client = login_as("facilitator_a")
    _new(client, world, **_form(), photos=[_photo()])
    (report,) = _reports(session)
    response = client.post(f"/facilitator/visits/{report.id}/edit",
                           data={**_form(notes="Baru", video_links="javascript:x"), "photos": [_photo("n.png")]},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "is not a web address" in html and "Baru" in html
    assert len(_reports(session)) == 1 and len(_private_files(app)) == 2
    response = client.post(f"/facilitator/visits/{report.id}/edit", data={**_form(), "drop_photo": "abc"})
    assert response.status_code == 200 and "Choose photos of this report to remove." in response.get_data(
        as_text=True)


# --- Who may read and write -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a", "operator", "facilitator_a"])
def test_the_kubes_people_read_reports_and_photos(world: World, session: Session, login_as: Login,
                                                   who: str) -> None:
    _new(login_as("facilitator_a"), world, **_form(), photos=[_photo()])
    (report,) = _reports(session)
    key = report.photos[0].key
    client = login_as(who)
    html = client.get(f"/facilitator/visits/{report.id}").get_data(as_text=True)
    assert "Bimbingan pembukuan dan cek stok." in html
    assert ("Edit (new version)" in html) == (who == "facilitator_a")
    assert client.get(f"/facilitator/kubes/{world.kube_a.slug}").status_code == 200
    for thumb in ("", "?thumb=1"):
        response = client.get(f"/facilitator/visit-photos/{key}{thumb}")
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert "no-store" in response.headers["Cache-Control"]
        response.close()


@pytest.mark.parametrize("who", ["facilitator_b", "ketua_b", "buyer", "order_taker"])
def test_outsiders_see_no_report_nor_photo(world: World, session: Session, login_as: Login, who: str) -> None:
    _new(login_as("facilitator_a"), world, **_form(), photos=[_photo()])
    (report,) = _reports(session)
    client = login_as(who)
    assert client.get(f"/facilitator/visits/{report.id}").status_code == 404
    assert client.get(f"/facilitator/visit-photos/{report.photos[0].key}").status_code == 404
    assert client.get(f"/facilitator/visit-photos/{report.photos[0].key}?thumb=1").status_code == 404
    assert client.get(f"/facilitator/kubes/{world.kube_a.slug}").status_code == 403


@pytest.mark.parametrize(("who", "status"), [("facilitator_b", 403), ("ketua_a", 403), ("anggota_a", 403),
                                             ("operator", 403), ("buyer", 403), ("ketua_b", 403)])
def test_only_assigned_facilitators_write(world: World, session: Session, login_as: Login, who: str,
                                          status: int) -> None:
    report = visit(session, world, date(2026, 5, 5))
    session.commit()
    client = login_as(who)
    assert client.get(f"/facilitator/kubes/{world.kube_a.slug}/visits/new").status_code == status
    assert _new(client, world, **_form()).status_code == status  # type: ignore[attr-defined]
    assert client.get(f"/facilitator/visits/{report.id}/edit").status_code in (403, 404)
    assert client.post(f"/facilitator/visits/{report.id}/edit", data=_form(notes="Ubah")).status_code in (403, 404)
    assert len(_reports(session)) == 1 and _reports(session)[0].notes == "Kunjungan rutin."


def test_anonymous_is_sent_to_sign_in(world: World, session: Session, client: FlaskClient) -> None:
    report = visit(session, world, date(2026, 5, 5))
    session.commit()
    for url in (f"/facilitator/visits/{report.id}", f"/facilitator/visits/{report.id}/edit",
                f"/facilitator/kubes/{world.kube_a.slug}", f"/facilitator/kubes/{world.kube_a.slug}/visits/new",
                "/facilitator/visit-photos/" + "a" * 32):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url
    response = _new(client, world, **_form())
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert len(_reports(session)) == 1


def test_hidden_kube_reports_are_404_to_outsiders(world: World, session: Session, login_as: Login) -> None:
    kube = factories.make_kube(session, "KUBE Draf", status=KubeStatus.DRAFT,
                               members=[(factories.make_user(session, "ketua_d"), MemberRole.KETUA)],
                               facilitators=[world.facilitator_a])
    session.commit()
    assert login_as("facilitator_b").get(f"/facilitator/kubes/{kube.slug}").status_code == 404
    assert login_as("facilitator_b").get(f"/facilitator/kubes/{kube.slug}/visits/new").status_code == 404
    assert login_as("facilitator_a").get(f"/facilitator/kubes/{kube.slug}/visits/new").status_code == 200


def test_unknown_things_are_404(world: World, login_as: Login) -> None:
    client = login_as("facilitator_a")
    assert client.get("/facilitator/visits/999999").status_code == 404
    assert client.get("/facilitator/kubes/no-such-kube").status_code == 404
    assert client.get("/facilitator/visit-photos/" + "0" * 32).status_code == 404
    assert client.get("/facilitator/visit-photos/../../etc/passwd").status_code == 404
    assert client.get("/facilitator/visit-photos/ABC").status_code == 404


def test_photo_rows_exist_only_for_real_files(world: World, session: Session, login_as: Login) -> None:
    _new(login_as("facilitator_a"), world, **_form(), photos=[_photo()])
    session.expire_all()
    assert session.scalar(select(func.count(VisitPhoto.id))) == 1
