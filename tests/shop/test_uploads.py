"""Uploads that are too big or not pictures get a clear message and save nothing."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, stream_encode_multipart

from marketplace.catalog.models import Product, ProductPhoto
from tests import factories
from tests.conftest import login
from tests.factories import World


def _form(world: World, upload: tuple[io.BytesIO, str]) -> dict[str, object]:
    photo = FileStorage(stream=upload[0], filename=upload[1], content_type="image/png")
    return {"name": "Gula Aren", "category_id": str(world.category.id), "unit": "kg", "price": "25000",
            "stock": "3", "min_order_qty": "1", "weight_grams": "1000", "save": "1", "photo": photo}


def _post_multipart(client: FlaskClient, url: str, data: dict[str, object]) -> TestResponse:
    """Encode in memory: the test client would spool a big body to a temp file it never closes."""
    stream, length, boundary = stream_encode_multipart(data, use_tempfile=False)
    return client.post(url, input_stream=stream, content_length=length,
                       content_type=f"multipart/form-data; boundary={boundary}",
                       headers={"Accept-Language": "en"})


def _counts(session: Session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(Product)) or 0,
            session.scalar(select(func.count()).select_from(ProductPhoto)) or 0)


def test_a_20_mb_upload_is_refused_with_a_message(app: Flask, session: Session, world: World) -> None:
    client = login(app.test_client(), world.ketua_a.email)
    before = _counts(session)
    big = io.BytesIO(factories.png_bytes() + b"\0" * (20 * 1024 * 1024))
    response = _post_multipart(client, f"/my-kube/{world.kube_a.slug}/products/new", _form(world, (big, "big.png")))
    assert response.status_code == 200
    assert "too large" in response.get_data(as_text=True)
    assert _counts(session) == before


def test_a_request_over_the_hard_limit_is_a_413_page(app: Flask, session: Session, world: World) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # small, so the test client keeps the body in memory
    client = login(app.test_client(), world.ketua_a.email)
    before = _counts(session)
    big = io.BytesIO(b"\0" * (128 * 1024))
    response = _post_multipart(client, f"/my-kube/{world.kube_a.slug}/products/new", _form(world, (big, "big.png")))
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert _counts(session) == before


def test_a_text_file_named_png_is_refused(app: Flask, session: Session, world: World) -> None:
    client = login(app.test_client(), world.ketua_a.email)
    before = _counts(session)
    fake = io.BytesIO(b"I am only text pretending to be a picture")
    response = client.post(f"/my-kube/{world.kube_a.slug}/products/new", data=_form(world, (fake, "foto.png")),
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "JPEG, PNG, WebP or GIF" in response.get_data(as_text=True)
    assert _counts(session) == before


def test_a_bad_second_photo_leaves_no_file_of_the_first(app: Flask, session: Session, world: World) -> None:
    from pathlib import Path

    client = login(app.test_client(), world.ketua_a.email)
    before = _counts(session)
    good = FileStorage(stream=io.BytesIO(factories.png_bytes()), filename="ok.png", content_type="image/png")
    bad = FileStorage(stream=io.BytesIO(b"not a picture"), filename="bad.png", content_type="image/png")
    data = _form(world, (io.BytesIO(b""), "unused.png")) | {"photo": [good, bad]}
    response = client.post(f"/my-kube/{world.kube_a.slug}/products/new", data=data,
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "JPEG, PNG, WebP or GIF" in response.get_data(as_text=True)
    assert _counts(session) == before
    assert list(Path(app.config["MEDIA_ROOT"]).rglob("*.jpg")) == []


def test_make_a_photo_the_main_one_from_the_form(app: Flask, session: Session, world: World) -> None:
    from marketplace.catalog import services
    from marketplace.web import image_limits

    with app.test_request_context():
        limits = image_limits()
    photos = [services.add_product_photo(session, world.ketua_a, world.product_a.id, factories.png_bytes(), limits)
              for _ in range(2)]
    session.commit()
    client = login(app.test_client(), world.anggota_a.email)
    base = f"/my-kube/{world.kube_a.slug}/products/{world.product_a.id}"
    html = client.get(f"{base}/edit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Main photo" in html and f"/photos/{photos[1].id}/main" in html
    response = client.post(f"{base}/photos/{photos[1].id}/main")
    assert response.status_code == 302 and response.headers["Location"].endswith("/edit#photos")
    session.expire_all()
    assert world.product_a.photos[0].id == photos[1].id
    # A photo of another product is not found through this product's URL.
    other = services.add_product_photo(session, world.ketua_b, world.product_b.id, factories.png_bytes(), limits)
    session.commit()
    assert client.post(f"{base}/photos/{other.id}/main").status_code == 404
