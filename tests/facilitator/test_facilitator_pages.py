"""Facilitator pages through the test client: review queue, approve / send back, verify, suspend, new KUBE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import (
    FacilitatorAssignment,
    Kube,
    KubeStatus,
    MemberRole,
    Product,
    ProductStatus,
)
from tests import factories
from tests.factories import World

Login = Callable[[str], FlaskClient]

# These tests check the English texts; tests/test_translations.py checks the Indonesian ones.
pytestmark = pytest.mark.usefixtures("english")


def _pending(session: Session, world: World, kube: Kube | None = None, name: str = "Sabun Kelapa") -> int:
    product = factories.make_product(session, kube or world.kube_a, world.category, name,
                                      status=ProductStatus.PENDING_REVIEW)
    session.commit()
    return product.id


def _draft_kube(session: Session, world: World, *, with_ketua: bool = True) -> int:
    members = [(factories.make_user(session, "ketua_c"), MemberRole.KETUA)] if with_ketua else []
    kube = factories.make_kube(session, "KUBE Baru C", status=KubeStatus.DRAFT, members=members,
                               facilitators=[world.facilitator_a])
    factories.add_households(session, kube, 4)
    session.commit()
    return kube.id


def _product(session: Session, product_id: int) -> Product:
    session.expire_all()
    product = session.get(Product, product_id)
    assert product is not None
    return product


def _kube(session: Session, kube_id: int) -> Kube:
    session.expire_all()
    kube = session.get(Kube, kube_id)
    assert kube is not None
    return kube


# --- The queue --------------------------------------------------------------------------------------


def test_queue_shows_own_kubes_and_products(world: World, session: Session, login_as: Login) -> None:
    _pending(session, world)
    _pending(session, world, world.kube_b, "Tikar Pandan B")
    _draft_kube(session, world)
    html = login_as("facilitator_a").get("/facilitator/").get_data(as_text=True)
    assert "Sabun Kelapa" in html and "Tikar Pandan B" not in html
    assert "KUBE Baru C" in html and "ready to verify" in html
    assert "KUBE Kelapa A" in html and "KUBE Anyaman B" not in html  # "my KUBEs"
    assert "<script>" not in html and 'style="' not in html


def test_operator_sees_every_kube(world: World, session: Session, login_as: Login) -> None:
    _pending(session, world, world.kube_b, "Tikar Pandan B")
    html = login_as("operator").get("/facilitator/").get_data(as_text=True)
    assert "Tikar Pandan B" in html and "KUBE Kelapa A" in html and "KUBE Anyaman B" in html


@pytest.mark.parametrize("who", ["buyer", "ketua_a", "anggota_a", "order_taker"])
@pytest.mark.parametrize("url", ["/facilitator/", "/facilitator/kubes/new"])
def test_pages_forbidden_to_others(world: World, login_as: Login, who: str, url: str) -> None:
    assert login_as(who).get(url).status_code == 403


def test_pages_need_sign_in(world: World, client: FlaskClient) -> None:
    response = client.get("/facilitator/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_queue_queries_do_not_grow(
    world: World, session: Session, login_as: Login, count_queries: Callable[[], Any]
) -> None:
    client = login_as("facilitator_a")
    _pending(session, world, name="P0")
    session.expire_all()
    with count_queries() as few:
        assert client.get("/facilitator/").status_code == 200
    for n in range(1, 6):
        _pending(session, world, name=f"P{n}")
    session.expire_all()
    with count_queries() as many:
        assert client.get("/facilitator/").status_code == 200
    assert many.count == few.count


# --- Products ---------------------------------------------------------------------------------------


def test_approve_product(world: World, session: Session, login_as: Login) -> None:
    product_id = _pending(session, world)
    response = login_as("facilitator_a").post(f"/facilitator/products/{product_id}/approve",
                                              follow_redirects=True)
    assert response.status_code == 200 and "approved" in response.get_data(as_text=True)
    product = _product(session, product_id)
    assert product.status == ProductStatus.PUBLISHED and product.reviewed_by_id == world.facilitator_a.id


def test_send_back_with_note(world: World, session: Session, login_as: Login) -> None:
    product_id = _pending(session, world)
    response = login_as("facilitator_a").post(f"/facilitator/products/{product_id}/send-back",
                                              data={"note": "Foto kurang jelas."})
    assert response.status_code == 302
    product = _product(session, product_id)
    assert product.status == ProductStatus.DRAFT and product.review_note == "Foto kurang jelas."


@pytest.mark.parametrize("note", ["", "   ", "x" * 1001])
def test_send_back_needs_a_note(world: World, session: Session, login_as: Login, note: str) -> None:
    product_id = _pending(session, world)
    response = login_as("facilitator_a").post(f"/facilitator/products/{product_id}/send-back",
                                              data={"note": note}, follow_redirects=True)
    assert response.status_code == 200 and "alert-danger" in response.get_data(as_text=True)
    assert _product(session, product_id).status == ProductStatus.PENDING_REVIEW


@pytest.mark.parametrize("who", ["facilitator_b", "ketua_a", "anggota_a", "buyer"])
def test_review_of_another_kube_is_forbidden(world: World, session: Session, login_as: Login, who: str) -> None:
    product_id = _pending(session, world)
    client = login_as(who)
    assert client.post(f"/facilitator/products/{product_id}/approve").status_code == 403
    assert client.post(f"/facilitator/products/{product_id}/send-back", data={"note": "no"}).status_code == 403
    assert _product(session, product_id).status == ProductStatus.PENDING_REVIEW


def test_approving_twice_is_a_message_not_an_error(world: World, session: Session, login_as: Login) -> None:
    response = login_as("facilitator_a").post(f"/facilitator/products/{world.product_a.id}/approve",
                                              follow_redirects=True)
    assert response.status_code == 200
    assert "Only a product waiting for review can be approved." in response.get_data(as_text=True)


def test_unknown_product_is_404(world: World, login_as: Login) -> None:
    assert login_as("facilitator_a").post("/facilitator/products/999999/approve").status_code == 404


# --- KUBEs ------------------------------------------------------------------------------------------


def test_verify_kube(world: World, session: Session, login_as: Login) -> None:
    kube_id = _draft_kube(session, world)
    assert login_as("facilitator_a").post(f"/facilitator/kubes/{kube_id}/verify").status_code == 302
    kube = _kube(session, kube_id)
    assert kube.status == KubeStatus.VERIFIED and kube.verified_by_id == world.facilitator_a.id


def test_verify_kube_without_ketua_is_refused(world: World, session: Session, login_as: Login) -> None:
    kube_id = _draft_kube(session, world, with_ketua=False)
    response = login_as("facilitator_a").post(f"/facilitator/kubes/{kube_id}/verify", follow_redirects=True)
    assert response.status_code == 200 and "ketua" in response.get_data(as_text=True)
    assert _kube(session, kube_id).status == KubeStatus.DRAFT


def test_verify_kube_of_another_facilitator_is_hidden(world: World, session: Session, login_as: Login) -> None:
    kube_id = _draft_kube(session, world)
    assert login_as("facilitator_b").post(f"/facilitator/kubes/{kube_id}/verify").status_code == 404
    assert login_as("buyer").post(f"/facilitator/kubes/{kube_id}/verify").status_code == 403
    assert _kube(session, kube_id).status == KubeStatus.DRAFT


def test_verify_kube_with_too_few_households_is_refused(world: World, session: Session,
                                                        login_as: Login) -> None:
    kube = factories.make_kube(session, "KUBE Kecil", status=KubeStatus.DRAFT,
                               members=[(factories.make_user(session, "ketua_small"), MemberRole.KETUA)],
                               facilitators=[world.facilitator_a])
    session.commit()
    client = login_as("facilitator_a")
    queue = client.get("/facilitator/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "A KUBE needs at least 5 member households before it is verified (it has 1)." in queue
    assert f'action="/facilitator/kubes/{kube.id}/verify"' in queue
    response = client.post(f"/facilitator/kubes/{kube.id}/verify", follow_redirects=True,
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "at least 5 member households" in response.get_data(as_text=True)
    assert _kube(session, kube.id).status == KubeStatus.DRAFT


def test_suspend_and_reinstate(world: World, session: Session, login_as: Login) -> None:
    kube_id = world.kube_a.id
    client = login_as("facilitator_a")
    assert client.post(f"/facilitator/kubes/{kube_id}/suspend").status_code == 302
    assert _kube(session, kube_id).status == KubeStatus.SUSPENDED
    assert "Reinstate" in client.get("/facilitator/").get_data(as_text=True)
    assert client.post(f"/facilitator/kubes/{kube_id}/reinstate").status_code == 302
    assert _kube(session, kube_id).status == KubeStatus.ACTIVE


@pytest.mark.parametrize("who", ["facilitator_b", "ketua_a"])
def test_suspend_forbidden(world: World, session: Session, login_as: Login, who: str) -> None:
    kube_id = world.kube_a.id
    assert login_as(who).post(f"/facilitator/kubes/{kube_id}/suspend").status_code == 403
    assert _kube(session, kube_id).status == KubeStatus.ACTIVE


# --- Registering a KUBE -----------------------------------------------------------------------------

NEW_KUBE = {
    "name": "KUBE Gula Aren", "business_kind": "production", "founded_on": "2020-01-15", "story": "Gula aren.",
    "phone": "0813", "address": "Dusun 1", "province_code": "72", "regency_code": "72.01",
    "district_code": "72.01.01", "village_code": "72.01.01.1006",
}


def test_new_kube(world: World, session: Session, login_as: Login) -> None:
    response = login_as("facilitator_a").post("/facilitator/kubes/new", data=NEW_KUBE)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/my-kube/kube-gula-aren/profile#members")
    session.expire_all()
    kube = session.scalar(select(Kube).where(Kube.name == "KUBE Gula Aren"))
    assert kube is not None and kube.status == KubeStatus.DRAFT
    assert (kube.province_code, kube.regency_code, kube.village_code) == ("72", "72.01", "72.01.01.1006")
    assigned = session.scalar(select(FacilitatorAssignment).where(FacilitatorAssignment.kube_id == kube.id))
    assert assigned is not None and assigned.facilitator_id == world.facilitator_a.id
    # The facilitator can go on to add members.
    assert login_as("facilitator_a").get("/my-kube/kube-gula-aren/profile").status_code == 200


def test_new_kube_region_picker(world: World, session: Session, login_as: Login) -> None:
    client = login_as("facilitator_a")
    html = client.get("/facilitator/kubes/new").get_data(as_text=True)
    assert "Sulawesi Tengah" in html and "Kabupaten Banggai" not in html
    response = client.post("/facilitator/kubes/new", data={"name": "X", "province_code": "72",
                                                           "refresh_regions": "1"})
    assert response.status_code == 200 and "Kabupaten Banggai" in response.get_data(as_text=True)
    # A kabupaten of another province is dropped when the province changes.
    response = client.post("/facilitator/kubes/new", data={"name": "X", "province_code": "32",
                                                           "regency_code": "72.01", "refresh_regions": "1"})
    html = response.get_data(as_text=True)
    assert "Kabupaten Bandung" in html and "Kabupaten Banggai" not in html
    session.expire_all()
    assert session.scalar(select(func.count(Kube.id))) == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"village_code": ""}, "Choose a village"),
        ({"village_code": "32.04.05.2001"}, "Choose a village"),  # not in the chosen kecamatan
        ({"business_kind": "mining"}, "Choose a business kind."),
        ({"founded_on": "2999-01-01"}, "cannot be in the future"),
        ({"founded_on": "kemarin"}, "Not a valid date value."),
    ],
)
def test_new_kube_bad_input(
    world: World, session: Session, login_as: Login, overrides: dict[str, str], message: str
) -> None:
    response = login_as("facilitator_a").post("/facilitator/kubes/new", data={**NEW_KUBE, **overrides})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count(Kube.id))) == 2


def test_new_kube_forbidden_post(world: World, session: Session, login_as: Login) -> None:
    assert login_as("ketua_a").post("/facilitator/kubes/new", data=NEW_KUBE).status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count(Kube.id))) == 2


# --- Reviewing from the product page ----------------------------------------------------------------


def test_reviewer_sees_approve_and_send_back_on_the_product_page(
    world: World, session: Session, login_as: Login
) -> None:
    product_id = _pending(session, world)
    url = f"/product/{product_id}/sabun-kelapa"
    for who in ("facilitator_a", "operator"):
        html = login_as(who).get(url).get_data(as_text=True)
        assert f'action="/facilitator/products/{product_id}/approve"' in html, who
        assert f'action="/facilitator/products/{product_id}/send-back"' in html, who
        assert 'name="note"' in html and "required" in html.split('name="note"', 1)[1][:120]
    for who in ("ketua_a", "anggota_a"):  # members see their product, but do not review it
        html = login_as(who).get(url).get_data(as_text=True)
        assert "/approve" not in html and "/send-back" not in html, who
    # A published product has nothing to review.
    html = login_as("facilitator_a").get(f"/product/{world.product_a.id}/{world.product_a.slug}").get_data(
        as_text=True)
    assert "/approve" not in html


def test_review_from_the_product_page_returns_there(world: World, session: Session, login_as: Login) -> None:
    client = login_as("facilitator_a")
    product_id = _pending(session, world)
    response = client.post(f"/facilitator/products/{product_id}/approve", data={"next": "product"})
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/product/{product_id}")
    page = client.get(response.headers["Location"], follow_redirects=True)
    assert page.status_code == 200 and "approved" in page.get_data(as_text=True)
    assert _product(session, product_id).status == ProductStatus.PUBLISHED

    other_id = _pending(session, world, name="Sabun Sereh")
    response = client.post(f"/facilitator/products/{other_id}/send-back",
                           data={"next": "product", "note": "Foto kurang jelas."}, follow_redirects=True)
    assert response.status_code == 200 and "sent back" in response.get_data(as_text=True)
    assert response.request.path.startswith(f"/product/{other_id}")
    assert _product(session, other_id).status == ProductStatus.DRAFT
    # Without "next" the queue is where the facilitator goes back to.
    third_id = _pending(session, world, name="Sabun Pandan")
    response = client.post(f"/facilitator/products/{third_id}/approve", data={"anchor": "#products"})
    assert response.headers["Location"] == "/facilitator/#products"


def test_suspend_asks_first(world: World, login_as: Login) -> None:
    html = login_as("facilitator_a").get("/facilitator/").get_data(as_text=True)
    assert 'data-confirm="Suspend KUBE Kelapa A?' in html
    assert 'aria-label="Suspend KUBE Kelapa A"' in html
