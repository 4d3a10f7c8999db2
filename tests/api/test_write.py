"""Writing products with a bearer token: who may, what is refused, and that refusals change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.auth.models import ApiToken
from marketplace.catalog.models import KubeStatus
from marketplace.common import utcnow
from tests import factories
from tests.api.support import assert_error, committed_product, committed_product_count

Bearer = Callable[[str], dict[str, str]]

NEW = {
    "kube": "kube-kelapa-a",
    "name": "Gula Semut Aren",
    "category": "coconut",
    "unit": "kg",
    "price": 25000,
    "stock": 40,
    "min_order_qty": 2,
    "weight_grams": 1000,
    "description": "Gula aren bubuk, tanpa pengawet.",
}


# --- Creating ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a", "facilitator_a", "operator"])
def test_kube_people_create_a_draft(
    client: FlaskClient, world: factories.World, bearer: Bearer, who: str
) -> None:
    headers = bearer(who)
    response = client.post("/api/v1/products", json=NEW, headers=headers)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert response.headers["Location"] == f"http://localhost/api/v1/products/{data['id']}"
    assert data["status"] == "draft"
    assert data["slug"] == "gula-semut-aren"
    assert data["kube"] == {"slug": "kube-kelapa-a", "name": "KUBE Kelapa A"}
    assert (data["price"], data["price_display"], data["unit"]) == (25000, "Rp25.000", "kg")
    assert (data["stock"], data["min_order_qty"], data["weight_grams"]) == (40, 2, 1000)
    assert data["photos"] == []
    row = committed_product(data["id"])
    assert row is not None and row["name"] == "Gula Semut Aren" and row["kube_id"] == world.kube_a.id
    assert row["created_by_id"] == getattr(world, who).id
    # A draft: the API shows it to its KUBE's people, not to anyone else.
    assert client.get(response.headers["Location"], headers=headers).status_code == 200
    assert_error(client.get(response.headers["Location"]), 404)


def test_create_with_only_the_required_fields_and_submit(
    client: FlaskClient, world: factories.World, bearer: Bearer
) -> None:
    body = {"kube": "kube-kelapa-a", "name": "Kopra", "category": "coconut", "unit": "karung",
            "price": 300000, "submit": True}
    response = client.post("/api/v1/products", json=body, headers=bearer("anggota_a"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert (data["status"], data["stock"], data["min_order_qty"], data["description"]) == (
        "pending_review", 0, 1, ""
    )
    row = committed_product(data["id"])
    assert row is not None and row["status"] == "pending_review" and row["submitted_at"] is not None


def test_same_name_gets_its_own_slug(client: FlaskClient, world: factories.World, bearer: Bearer) -> None:
    headers = bearer("ketua_a")
    body = {**NEW, "name": "Minyak Kelapa A"}
    response = client.post("/api/v1/products", json=body, headers=headers)
    assert response.get_json()["slug"] == "minyak-kelapa-a-2"


# --- Patching ---------------------------------------------------------------------------------------


def test_price_and_stock_change_keeps_a_product_published(
    client: FlaskClient, world: factories.World, bearer: Bearer
) -> None:
    pid = world.product_a.id
    response = client.patch(f"/api/v1/products/{pid}", json={"price": 17500, "stock": 3},
                            headers=bearer("anggota_a"))
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert (data["price"], data["price_display"], data["stock"], data["status"]) == (
        17500, "Rp17.500", 3, "published"
    )
    row = committed_product(pid)
    assert row is not None and (row["price"], row["stock"], row["status"]) == (17500, 3, "published")


def test_content_change_sends_a_product_back_to_review(
    client: FlaskClient, world: factories.World, session: Session, bearer: Bearer
) -> None:
    other = factories.make_category(session, "anyaman")
    session.commit()
    pid = world.product_a.id
    response = client.patch(f"/api/v1/products/{pid}", json={"name": "Minyak VCO", "category": "anyaman"},
                            headers=bearer("ketua_a"))
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["name"] == "Minyak VCO"
    assert data["category"]["slug"] == "anyaman"
    assert data["status"] == "pending_review"
    row = committed_product(pid)
    assert row is not None and row["category_id"] == other.id and row["status"] == "pending_review"


def test_status_changes(client: FlaskClient, world: factories.World, bearer: Bearer) -> None:
    headers = bearer("ketua_a")
    url = f"/api/v1/products/{world.product_a.id}"

    def patch(body: dict[str, Any]) -> Any:
        return client.patch(url, json=body, headers=headers)

    assert patch({"status": "archived"}).get_json()["status"] == "archived"
    assert_error(patch({"price": 1}), 409, "conflict")  # restore first
    restored = patch({"status": "draft", "price": 9000})
    assert restored.status_code == 200, restored.get_json()
    assert (restored.get_json()["status"], restored.get_json()["price"]) == ("draft", 9000)
    assert patch({"status": "pending_review"}).get_json()["status"] == "pending_review"
    row = committed_product(world.product_a.id)
    assert row is not None and (row["status"], row["price"]) == ("pending_review", 9000)


def test_a_failed_status_change_saves_nothing(
    client: FlaskClient, world: factories.World, bearer: Bearer
) -> None:
    before = committed_product(world.product_a.id)
    response = client.patch(f"/api/v1/products/{world.product_a.id}",
                            json={"price": 20000, "status": "pending_review"}, headers=bearer("ketua_a"))
    assert_error(response, 409, "conflict")  # already published: only a draft can be submitted
    assert committed_product(world.product_a.id) == before


def test_empty_patch_changes_nothing(client: FlaskClient, world: factories.World, bearer: Bearer) -> None:
    before = committed_product(world.product_a.id)
    response = client.patch(f"/api/v1/products/{world.product_a.id}", json={}, headers=bearer("ketua_a"))
    assert response.status_code == 200
    assert committed_product(world.product_a.id) == before


# --- Who may not ------------------------------------------------------------------------------------

UNAUTHENTICATED = ["no token", "bad token", "expired token", "revoked token", "basic auth", "empty bearer"]
OUTSIDERS = ["buyer", "order_taker", "ketua_b", "facilitator_b"]


def _headers(who: str, bearer: Bearer, session: Session) -> dict[str, str]:
    if who == "no token":
        return {}
    if who == "bad token":
        return {"Authorization": "Bearer pk_this-token-was-never-issued"}
    if who == "basic auth":
        return {"Authorization": "Basic a2V0dWFfYTpjb3JyZWN0LWhvcnNlLTk="}
    if who == "empty bearer":
        return {"Authorization": "Bearer "}
    if who in ("expired token", "revoked token"):
        headers = bearer("ketua_a")  # a member's own token, no longer valid
        token = session.scalars(select(ApiToken)).one()
        if who == "expired token":
            token.expires_at = utcnow() - timedelta(seconds=1)
        else:
            token.revoked = True
        session.commit()
        return headers
    return bearer(who)


def _expected_status(who: str) -> int:
    return 401 if who in UNAUTHENTICATED else 403


@pytest.mark.parametrize("who", UNAUTHENTICATED + OUTSIDERS)
def test_create_refused(
    client: FlaskClient, world: factories.World, session: Session, bearer: Bearer, who: str
) -> None:
    headers = _headers(who, bearer, session)
    count = committed_product_count()
    response = client.post("/api/v1/products", json=NEW, headers=headers)
    assert_error(response, _expected_status(who))
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert committed_product_count() == count


@pytest.mark.parametrize("who", UNAUTHENTICATED + OUTSIDERS)
def test_patch_refused(
    client: FlaskClient, world: factories.World, session: Session, bearer: Bearer, who: str
) -> None:
    headers = _headers(who, bearer, session)
    pid = world.product_a.id
    before = committed_product(pid)
    response = client.patch(f"/api/v1/products/{pid}", json={"name": "Dibajak", "price": 1}, headers=headers)
    assert_error(response, _expected_status(who))
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for status in ("archived", "pending_review", "draft"):
        assert client.patch(f"/api/v1/products/{pid}", json={"status": status}, headers=headers).status_code \
            == _expected_status(who)
    assert committed_product(pid) == before


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a", "facilitator_a", "buyer"])
def test_others_drafts_are_not_found(
    client: FlaskClient, world: factories.World, bearer: Bearer, who: str
) -> None:
    pid = world.draft_b.id
    before = committed_product(pid)
    response = client.patch(f"/api/v1/products/{pid}", json={"status": "pending_review"}, headers=bearer(who))
    assert_error(response, 404, "not_found")
    assert committed_product(pid) == before


def test_create_in_a_private_kube_of_others_is_not_found(
    client: FlaskClient, world: factories.World, session: Session, bearer: Bearer
) -> None:
    world.kube_b.status = KubeStatus.DRAFT
    session.commit()
    count = committed_product_count()
    headers = bearer("ketua_a")
    for slug in ("kube-anyaman-b", "no-such-kube"):
        response = client.post("/api/v1/products", json={**NEW, "kube": slug}, headers=headers)
        assert_error(response, 404, "not_found", "kube")
    assert committed_product_count() == count


def test_session_cookie_does_not_authorise_writes(
    world: factories.World, login_as: Callable[[str], FlaskClient]
) -> None:
    member = login_as("ketua_a")
    pid = world.product_a.id
    before, count = committed_product(pid), committed_product_count()
    response = member.post("/api/v1/products", json=NEW)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(member.patch(f"/api/v1/products/{pid}", json={"price": 1}), 401, "unauthorized")
    assert committed_product(pid) == before
    assert committed_product_count() == count


# --- Bad input --------------------------------------------------------------------------------------

BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"name": 12}, "name"),
    ({"price": -1}, "price"),
    ({"price": "abc"}, "price"),
    ({"price": 1.5}, "price"),
    ({"price": "15000"}, "price"),
    ({"price": True}, "price"),
    ({"price": None}, "price"),
    ({"price": 10**13}, "price"),
    ({"unit": "ton"}, "unit"),
    ({"category": "no-such-category"}, "category"),
    ({"colour": "merah"}, "colour"),
    ({"category_id": 1}, "category_id"),
    ({"stock": -1}, "stock"),
    ({"min_order_qty": 0}, "min_order_qty"),
    ({"weight_grams": -5}, "weight_grams"),
    ({"description": ["a"]}, "description"),
]


@pytest.mark.parametrize(("change", "field"), [
    *BAD_FIELDS,
    ({"submit": "yes"}, "submit"),
    ({"kube": ""}, "kube"),
    ({"kube": None}, "kube"),
    ({"status": "published"}, "status"),
])
def test_create_bad_input(
    client: FlaskClient, world: factories.World, bearer: Bearer, change: dict[str, Any], field: str
) -> None:
    headers = bearer("ketua_a")
    count = committed_product_count()
    response = client.post("/api/v1/products", json={**NEW, **change}, headers=headers)
    assert_error(response, 400, "invalid", field)
    assert committed_product_count() == count


@pytest.mark.parametrize("missing", ["kube", "name", "category", "unit", "price"])
def test_create_missing_field(
    client: FlaskClient, world: factories.World, bearer: Bearer, missing: str
) -> None:
    body = {k: v for k, v in NEW.items() if k != missing}
    response = client.post("/api/v1/products", json=body, headers=bearer("ketua_a"))
    assert_error(response, 400, "invalid", missing)


@pytest.mark.parametrize(("change", "field"), [
    *BAD_FIELDS,
    ({"price": 20000, "stock": -1}, "stock"),  # the good part is not saved either
    ({"kube": "kube-anyaman-b"}, "kube"),  # a product does not move between KUBEs
    ({"submit": True}, "submit"),
    ({"status": "published"}, "status"),  # approval is the reviewer's
    ({"status": 1}, "status"),
])
def test_patch_bad_input(
    client: FlaskClient, world: factories.World, bearer: Bearer, change: dict[str, Any], field: str
) -> None:
    headers = bearer("ketua_a")
    pid = world.product_a.id
    before = committed_product(pid)
    assert_error(client.patch(f"/api/v1/products/{pid}", json=change, headers=headers), 400, "invalid", field)
    assert committed_product(pid) == before


@pytest.mark.parametrize("kwargs", [
    {"data": "name=Gula&price=1"},
    {"data": "name=Gula&price=1", "content_type": "application/x-www-form-urlencoded"},
    {"data": "{not json", "content_type": "application/json"},
    {"json": ["kube-kelapa-a", "Gula"]},
    {"json": "Gula"},
    {"json": None},
])
def test_body_must_be_a_json_object(
    client: FlaskClient, world: factories.World, bearer: Bearer, kwargs: dict[str, Any]
) -> None:
    headers = bearer("ketua_a")
    count, before = committed_product_count(), committed_product(world.product_a.id)
    assert_error(client.post("/api/v1/products", headers=headers, **kwargs), 400, "invalid")
    assert_error(client.patch(f"/api/v1/products/{world.product_a.id}", headers=headers, **kwargs), 400)
    assert committed_product_count() == count
    assert committed_product(world.product_a.id) == before


def test_patch_unknown_product(client: FlaskClient, world: factories.World, bearer: Bearer) -> None:
    assert_error(client.patch("/api/v1/products/999999", json={"price": 1}, headers=bearer("operator")), 404)

