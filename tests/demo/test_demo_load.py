"""`flask demo load`: real regions, enough KUBEs and products, working sign-ins, pictures on disk."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import media, regions
from marketplace.auth.models import User
from marketplace.auth.services import authenticate
from marketplace.catalog.models import (
    Category,
    FacilitatorAssignment,
    Kube,
    KubeMember,
    KubeStatus,
    MemberRole,
    Product,
    ProductPhoto,
    ProductStatus,
)
from marketplace.common import ValidationError, slugify, utcnow
from marketplace.demo import data
from marketplace.demo.loader import DemoSummary, load_demo
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Order, OrderStatus
from marketplace.reviews import services as reviews
from marketplace.reviews.models import KubeReview, ProductReview

SCALE = 0.2  # small pictures keep the test fast; the counts are the real ones
SIGN_INS = ("pembeli", "ketua", "anggota", "pendamping", "offtaker", "admin")


def _load(app: Flask, session: Session) -> DemoSummary:
    summary = load_demo(session, app.config["MEDIA_ROOT"], image_scale=SCALE)
    session.commit()
    return summary


def _counts(session: Session) -> dict[str, int]:
    models = {
        "users": User.id,
        "kubes": Kube.id,
        "members": KubeMember.id,
        "products": Product.id,
        "photos": ProductPhoto.id,
        "categories": Category.id,
        "assignments": FacilitatorAssignment.id,
        "orders": Order.id,
        "product_reviews": ProductReview.id,
        "kube_reviews": KubeReview.id,
        "ledger_entries": LedgerEntry.id,
    }
    return {name: session.scalar(select(func.count(column))) or 0 for name, column in models.items()}


def _files(root: str) -> set[Path]:
    return set(Path(root).rglob("*.jpg"))


def test_the_demo_data_is_consistent() -> None:
    kube_slugs = [slugify(k.name) for k in data.KUBES]
    assert len(set(kube_slugs)) == len(kube_slugs)
    category_slugs = {c.slug for top in data.CATEGORIES for c in (top, *top.children)}
    for kube in data.KUBES:
        assert regions.resolve_village(kube.village_code).village_code == kube.village_code
        assert 5 <= len(kube.members) <= 10, kube.name
        assert len({m.name for m in kube.members}) == len(kube.members)
        assert 2 <= len(kube.story.split(". ")) <= 5, kube.name
        product_slugs = [slugify(p.name) for p in kube.products]
        assert len(set(product_slugs)) == len(product_slugs), kube.name
        for product in kube.products:
            assert product.category in category_slugs, product.name
            assert isinstance(product.price, int) and product.price > 0
            assert product.min_order_qty >= 1 and product.weight_grams >= 0
    for top in data.CATEGORIES:
        assert all(len(c.icon) <= 8 for c in (top, *top.children))
    buyers = {u.email for u in data.PLATFORM_USERS}
    kubes = {k.name: k for k in data.KUBES}
    for order in data.DEMO_ORDERS:
        assert order.buyer in buyers and order.buyer in data.BUYER_ADDRESSES
        assert kubes[order.kube].status == "active", order.kube
        on_sale = {p.name: p for p in kubes[order.kube].products if p.status == "published"}
        for name, quantity in order.items:
            assert name in on_sale and on_sale[name].min_order_qty <= quantity <= on_sale[name].stock, name
        assert order.product_reviews == () or len(order.product_reviews) == len(order.items)
        assert order.status in ("shipped", "delivered")
        if order.status == "shipped":
            assert order.kube_review is None and not order.product_reviews
        for review in (order.kube_review, *order.product_reviews):
            assert review is None or (1 <= review[0] <= 5 and len(review[1]) <= 2000)


def test_demo_orders_went_through_the_services_and_have_reviews(app: Flask, session: Session) -> None:
    _load(app, session)
    buyer = session.scalar(select(User).where(User.email == data.BUYER_SIGN_IN))
    assert buyer is not None
    mine = list(session.scalars(select(Order).where(Order.buyer_id == buyer.id)))
    statuses = [o.status for o in mine]
    assert OrderStatus.SHIPPED in statuses and statuses.count(OrderStatus.DELIVERED) >= 3
    # One of the demo buyer's received orders is still waiting for their rating.
    assert any(reviews.reviewable(session, buyer, o.id).anything_left
               for o in mine if o.status == OrderStatus.DELIVERED)
    now = utcnow()
    # Every order but those cancelled before payment (some of the 18 months of history) was paid.
    for order in session.scalars(select(Order).where(Order.status != OrderStatus.CANCELLED)):
        assert order.paid_at is not None and order.created_at <= order.paid_at <= now
        times = [e.created_at for e in order.events]
        assert times == sorted(times) and times[-1] <= now, order.id
    # Paid orders are in the KUBEs' ledger.
    assert session.scalar(select(func.count(LedgerEntry.id))) >= len(data.DEMO_ORDERS)
    # A product and a KUBE with reviews from several buyers.
    vco = session.scalar(select(Product).where(Product.name == "VCO Botol 250 ml"))
    assert vco is not None
    found = reviews.product_reviews(session, vco.id)
    assert found.summary.count >= 2 and len({r.reviewer for r in found.page.items}) >= 2
    assert all(r.reviewer and r.reviewer.endswith(".") for r in found.page.items)
    kube = session.scalar(select(Kube).where(Kube.slug == "kube-getas-bahari"))
    assert kube is not None and reviews.kube_reviews(session, kube.id).summary.count >= 3


def test_load_creates_kubes_products_and_sign_ins(app: Flask, session: Session) -> None:
    summary = _load(app, session)

    assert summary.kubes >= 12 and summary.products >= 80
    assert summary.created["kubes"] == summary.kubes
    statuses = {k.status for k in session.scalars(select(Kube))}
    assert {KubeStatus.ACTIVE, KubeStatus.VERIFIED, KubeStatus.DRAFT, KubeStatus.SUSPENDED} <= statuses
    product_statuses = {p.status for p in session.scalars(select(Product))}
    assert product_statuses == set(ProductStatus)

    for kube in session.scalars(select(Kube)):
        path = regions.resolve_village(kube.village_code)
        assert (path.province_code, path.regency_code, path.district_code) == (
            kube.province_code,
            kube.regency_code,
            kube.district_code,
        )
        roles = [m.role for m in kube.members]
        assert 5 <= len(roles) <= 10
        for officer in (MemberRole.KETUA, MemberRole.SEKRETARIS, MemberRole.BENDAHARA):
            assert roles.count(officer) == 1, kube.name
        assert kube.facilitator_assignments and kube.photo_key

    now = utcnow()
    for product in session.scalars(select(Product).where(Product.status == ProductStatus.PUBLISHED)):
        assert product.published_at is not None
        assert now - timedelta(days=60) <= product.published_at <= now
        assert product.created_at <= product.published_at


def test_the_six_sign_ins_work_with_their_roles(app: Flask, session: Session) -> None:
    _load(app, session)
    users = {}
    for who in SIGN_INS:
        user = authenticate(session, f"{who}@pasarkube.test", data.DEMO_PASSWORD)
        assert user is not None, who
        users[who] = user

    ketua = [m for m in users["ketua"].memberships if m.role == MemberRole.KETUA]
    assert len(ketua) == 1 and ketua[0].kube.regency_code == "72.01"
    anggota = users["anggota"].memberships
    assert [m.role for m in anggota] == [MemberRole.ANGGOTA]
    assert anggota[0].kube_id != ketua[0].kube_id

    assigned = [a.kube for a in users["pendamping"].facilitator_assignments]
    assert users["pendamping"].is_facilitator and len(assigned) >= 2
    assert any(k.status == KubeStatus.DRAFT for k in assigned)
    assert any(k.regency_code == "72.01" for k in assigned)
    profile = users["offtaker"].order_taker_profile
    assert profile is not None and profile.company_name == "PT Sabun Nusantara Ekspor"
    assert users["admin"].is_operator
    assert not (users["pembeli"].is_operator or users["pembeli"].is_facilitator or users["pembeli"].memberships)
    assert authenticate(session, "pembeli@pasarkube.test", "wrong-password") is None


def test_pictures_are_stored_as_jpegs_with_thumbnails(app: Flask, session: Session) -> None:
    _load(app, session)
    root = app.config["MEDIA_ROOT"]
    products = list(session.scalars(select(Product)))
    assert all(1 <= len(p.photos) <= 2 for p in products)
    keys = [photo.key for p in products for photo in p.photos]
    keys += [k.photo_key for k in session.scalars(select(Kube)) if k.photo_key]
    for key in keys:
        for thumb in (False, True):
            path = media.image_path(root, key, thumb=thumb)
            assert path.is_file(), path
            with Image.open(path) as img:
                assert img.format == "JPEG"
                img.verify()


def test_loading_twice_creates_nothing_new(app: Flask, session: Session) -> None:
    _load(app, session)
    before, files = _counts(session), _files(app.config["MEDIA_ROOT"])

    again = _load(app, session)

    assert not again.created_anything
    assert _counts(session) == before
    assert _files(app.config["MEDIA_ROOT"]) == files


def test_the_command_loads_once_and_respects_if_empty(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(args=["demo", "load", "--image-scale", str(SCALE)])
    assert result.exit_code == 0, result.output
    assert "pembeli@pasarkube.test" in result.output and "pasarkube-demo" in result.output
    session.expire_all()
    loaded = _counts(session)
    assert loaded["kubes"] >= 12 and loaded["products"] >= 80

    skipped = runner.invoke(args=["demo", "load", "--if-empty"])
    assert skipped.exit_code == 0, skipped.output
    assert "already has users" in skipped.output

    again = runner.invoke(args=["demo", "load", "--image-scale", str(SCALE)])
    assert again.exit_code == 0, again.output
    assert "Nothing was missing" in again.output
    session.expire_all()
    assert _counts(session) == loaded


def test_if_empty_loads_an_empty_database(app: Flask, session: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty", "--image-scale", str(SCALE)])
    assert result.exit_code == 0, result.output
    assert (session.scalar(select(func.count(Kube.id))) or 0) >= 12


def test_a_failed_load_removes_the_pictures_it_wrote(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = replace(data.KUBES[1], village_code="72.01.99.9999")  # no such desa
    monkeypatch.setattr(data, "KUBES", (data.KUBES[0], broken))

    with pytest.raises(ValidationError):
        load_demo(session, app.config["MEDIA_ROOT"], image_scale=SCALE)
    assert _files(app.config["MEDIA_ROOT"]) != set()  # written, not yet committed
    session.rollback()
    assert _files(app.config["MEDIA_ROOT"]) == set()


def test_production_refuses_demo_data_without_force(app: Flask, session: Session) -> None:
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "load", "--image-scale", str(SCALE)])
    assert result.exit_code != 0 and "production" in result.output
    assert session.scalar(select(func.count(User.id))) == 0
