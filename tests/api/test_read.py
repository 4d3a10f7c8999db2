"""Reading the catalogue through the API, anonymously and with a token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.catalog.models import KubeStatus, ProductPhoto, ProductStatus
from tests import factories
from tests.api.support import assert_error

Bearer = Callable[[str], dict[str, str]]


# --- KUBEs ------------------------------------------------------------------------------------------


def test_kube_list_shows_public_kubes_with_counts(client: FlaskClient, world: factories.World) -> None:
    response = client.get("/api/v1/kubes")
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == 2 and data["page"] == 1 and data["per_page"] == 24
    by_slug = {k["slug"]: k for k in data["items"]}
    kube_a = by_slug[world.kube_a.slug]
    assert kube_a["product_count"] == 1
    assert kube_a["region"]["province"] == {"code": "72", "name": "Sulawesi Tengah"}
    assert kube_a["region"]["village"]["code"] == factories.BANGGAI_VILLAGE
    assert kube_a["url"].startswith("http://localhost/kube/")
    assert "members" not in kube_a and "bank_account" not in kube_a


def test_kube_list_filters(client: FlaskClient, world: factories.World, session: Session) -> None:
    factories.make_kube(session, "KUBE Draft", status=KubeStatus.DRAFT)
    session.commit()
    slugs = [k["slug"] for k in client.get("/api/v1/kubes?province=72").get_json()["items"]]
    assert slugs == [world.kube_a.slug]
    assert client.get("/api/v1/kubes?kind=trade").get_json()["total"] == 0
    assert client.get("/api/v1/kubes?kind=production&per_page=1").get_json()["total"] == 2
    assert "kube-draft" not in {k["slug"] for k in client.get("/api/v1/kubes").get_json()["items"]}


@pytest.mark.parametrize(
    ("query", "field"),
    [("province=99", "province"), ("province=abc", "province"), ("kind=zzz", "kind"),
     ("page=-1", "page"), ("page=x", "page"), ("per_page=0", "per_page"), ("per_page=1000", "per_page")],
)
def test_kube_list_bad_filters(client: FlaskClient, world: factories.World, query: str, field: str) -> None:
    assert_error(client.get(f"/api/v1/kubes?{query}"), 400, "invalid", field)


def test_kube_detail_public_fields_without_emails_or_bank(
    client: FlaskClient, world: factories.World
) -> None:
    response = client.get(f"/api/v1/kubes/{world.kube_a.slug}")
    assert response.status_code == 200
    data = response.get_json()
    assert data["name"] == "KUBE Kelapa A"
    assert data["business_kind"] == "production"
    assert data["story"] == "Kami mengolah kelapa."
    assert data["status"] == "active"
    assert data["photo_url"] is None
    assert data["member_count"] == 2 and "members" not in data  # names are not public
    assert "bank_account" not in data
    text = response.get_data(as_text=True)
    assert "@" not in text and "0123456789012" not in text


@pytest.mark.parametrize(
    ("who", "sees_bank"),
    [("ketua_a", True), ("facilitator_a", True), ("operator", True),
     ("anggota_a", False), ("ketua_b", False), ("facilitator_b", False), ("buyer", False)],
)
def test_kube_bank_account_only_for_those_allowed(
    client: FlaskClient, world: factories.World, bearer: Bearer, who: str, sees_bank: bool
) -> None:
    data = client.get(f"/api/v1/kubes/{world.kube_a.slug}", headers=bearer(who)).get_json()
    if sees_bank:
        # The whole number for the KUBE's officers; masked for the facilitator and operators.
        officer = who == "ketua_a"
        assert data["bank_account"] == {
            "bank_name": "BRI", "account_number": "0123456789012" if officer else "\u2022" * 9 + "9012",
            "account_number_masked": not officer, "account_holder": "KUBE Kelapa A group",
        }
    else:
        assert "bank_account" not in data


def test_kube_detail_ignores_the_session_cookie(
    world: factories.World, login_as: Callable[[str], FlaskClient]
) -> None:
    data = login_as("ketua_a").get(f"/api/v1/kubes/{world.kube_a.slug}").get_json()
    assert "bank_account" not in data


def test_draft_kube_hidden_from_outsiders(
    client: FlaskClient, world: factories.World, session: Session, bearer: Bearer
) -> None:
    world.kube_b.status = KubeStatus.DRAFT
    session.commit()
    assert_error(client.get("/api/v1/kubes/kube-anyaman-b"), 404, "not_found")
    assert_error(client.get("/api/v1/kubes/kube-anyaman-b", headers=bearer("ketua_a")), 404)
    assert client.get("/api/v1/kubes/kube-anyaman-b", headers=bearer("ketua_b")).status_code == 200
    assert_error(client.get("/api/v1/kubes/no-such-kube"), 404, "not_found")


# --- Products ---------------------------------------------------------------------------------------


def test_product_list_shape(client: FlaskClient, world: factories.World, session: Session) -> None:
    session.add(ProductPhoto(product_id=world.product_a.id, key="ab" + "0" * 30, width=800, height=600))
    session.commit()
    response = client.get("/api/v1/products?sort=name")
    assert response.status_code == 200
    data = response.get_json()
    assert (data["total"], data["page"], data["per_page"]) == (2, 1, 24)
    assert [p["name"] for p in data["items"]] == ["Minyak Kelapa A", "Tas Anyaman B"]
    item = data["items"][0]
    assert item == {
        "id": world.product_a.id,
        "slug": "minyak-kelapa-a",
        "name": "Minyak Kelapa A",
        "description": "Minyak Kelapa A dari KUBE Kelapa A",
        "kube": {"slug": "kube-kelapa-a", "name": "KUBE Kelapa A"},
        "category": {"slug": "coconut", "name_id": "Coconut", "name_en": "Coconut"},
        "unit": "botol",
        "price": 15000,
        "price_display": "Rp15.000",
        "stock": 10,
        "min_order_qty": 1,
        "weight_grams": 500,
        "status": "published",
        "photos": [{
            "url": "http://localhost/media/ab/ab" + "0" * 30 + ".jpg",
            "thumb_url": "http://localhost/media/ab/ab" + "0" * 30 + "_thumb.jpg",
            "width": 800,
            "height": 600,
        }],
        "url": f"http://localhost/product/{world.product_a.id}/minyak-kelapa-a",
    }


def test_product_list_filters(client: FlaskClient, world: factories.World, session: Session) -> None:
    cheap = factories.make_product(session, world.kube_a, world.category, "Gula Aren Murah", price=5000)
    sub = factories.make_category(session, "gula", parent=world.category)
    cheap.category_id = sub.id
    session.commit()

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/products?{query}")
        assert response.status_code == 200, response.get_json()
        return [p["name"] for p in response.get_json()["items"]]

    assert names("kube=kube-kelapa-a&sort=price_asc") == ["Gula Aren Murah", "Minyak Kelapa A"]
    assert names("category=gula") == ["Gula Aren Murah"]
    assert set(names("category=coconut")) == {"Gula Aren Murah", "Minyak Kelapa A", "Tas Anyaman B"}
    assert names("category=unknown") == []
    assert names("province=32") == ["Tas Anyaman B"]
    assert names("max_price=10000") == ["Gula Aren Murah"]
    assert names("min_price=10.000&sort=price_desc") == ["Tas Anyaman B", "Minyak Kelapa A"]  # tie: newest id
    assert names("q=anyaman") == ["Tas Anyaman B"]
    assert names("sort=price_asc&per_page=1&page=2") == ["Minyak Kelapa A"]
    assert "Draft B" not in names("per_page=100")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("min_price=abc", "min_price"),
        ("max_price=-5", "max_price"),
        ("min_price=1.5", "min_price"),
        ("per_page=0", "per_page"),
        ("per_page=1000", "per_page"),
        ("per_page=101", "per_page"),
        ("page=-1", "page"),
        ("page=0", "page"),
        ("sort=cheapest", "sort"),
        ("category=unknown&sort=cheapest", "sort"),
        ("province=7", "province"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_product_list_bad_filters(
    client: FlaskClient, world: factories.World, query: str, field: str
) -> None:
    assert_error(client.get(f"/api/v1/products?{query}"), 400, "invalid", field)


def test_product_detail_public(client: FlaskClient, world: factories.World) -> None:
    response = client.get(f"/api/v1/products/{world.product_b.id}")
    assert response.status_code == 200
    assert response.get_json()["kube"] == {"slug": "kube-anyaman-b", "name": "KUBE Anyaman B"}
    assert_error(client.get("/api/v1/products/999999"), 404, "not_found")


def test_drafts_hidden_anonymously_visible_to_their_kube(
    client: FlaskClient, world: factories.World, bearer: Bearer
) -> None:
    url = f"/api/v1/products/{world.draft_b.id}"
    assert_error(client.get(url), 404, "not_found")
    assert_error(client.get(url, headers=bearer("ketua_a")), 404, "not_found")
    assert_error(client.get(url, headers=bearer("buyer")), 404, "not_found")
    for who in ("ketua_b", "facilitator_b", "operator"):
        response = client.get(url, headers=bearer(who))
        assert response.status_code == 200, who
        assert response.get_json()["status"] == "draft"


def test_products_of_a_suspended_kube_are_hidden(
    client: FlaskClient, world: factories.World, session: Session
) -> None:
    world.kube_b.status = KubeStatus.SUSPENDED
    session.commit()
    assert_error(client.get(f"/api/v1/products/{world.product_b.id}"), 404)
    assert client.get("/api/v1/products").get_json()["total"] == 1


def test_a_bad_token_on_a_read_is_refused(client: FlaskClient, world: factories.World) -> None:
    response = client.get(f"/api/v1/products/{world.product_a.id}", headers={"Authorization": "Bearer nope"})
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_api_path_and_method_answer_json(client: FlaskClient, world: factories.World) -> None:
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.delete(f"/api/v1/products/{world.product_a.id}"), 405, "method_not_allowed")


def test_archived_product_is_not_public(
    client: FlaskClient, world: factories.World, session: Session
) -> None:
    world.product_a.status = ProductStatus.ARCHIVED
    session.commit()
    assert_error(client.get(f"/api/v1/products/{world.product_a.id}"), 404)


def test_nul_bytes_are_a_clear_400(client: FlaskClient) -> None:
    response = client.get("/api/v1/products?q=a%00b")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    response = client.post("/api/v1/auth/token", json={"email": "a\u0000@b.c", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize(("who", "sees_names"), [("anggota_a", True), ("facilitator_a", True), ("operator", True),
                                                 ("buyer", False), ("ketua_b", False)])
def test_member_names_only_for_the_kubes_own_people(client: FlaskClient, world: factories.World, who: str,
                                                    sees_names: bool) -> None:
    token = client.post("/api/v1/auth/token", json={"email": factories.email_of(who),
                                                    "password": factories.PASSWORD}).get_json()["token"]
    data = client.get(f"/api/v1/kubes/{world.kube_a.slug}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert ("members" in data) is sees_names
    if sees_names:
        assert data["members"] == [{"name": "Ketua A", "role": "ketua", "nik": None},
                                   {"name": "Anggota A", "role": "anggota", "nik": None}]
