"""My data: the JSON download of everything held about the signed-in user."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.auth import services as auth
from marketplace.orders import services as orders
from marketplace.privacy import services
from tests.factories import World
from tests.privacy.conftest import NIK_ANGGOTA_A, NIK_KETUA_A
from tests.privacy.support import ADDRESS, PHONE, delivered_order

Login = Callable[[str], FlaskClient]


def _download(client: FlaskClient) -> tuple[Any, dict[str, Any]]:
    response = client.get("/account/privacy/download")
    assert response.status_code == 200
    return response, json.loads(response.get_data(as_text=True))


def test_the_download_holds_everything_about_the_buyer(session: Session, login_as: Login, world: World) -> None:
    order = delivered_order(session, world)
    orders.add_to_cart(session, orders.CartOwner(user_id=world.buyer.id), world.product_b.id, 3)
    raw_token, _token = auth.issue_api_token(session, world.buyer)
    session.commit()
    response, data = _download(login_as("buyer"))
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert ".json" in response.headers["Content-Disposition"]
    assert response.mimetype == "application/json" and response.headers["Cache-Control"] == "no-store"
    assert data["profile"]["email"] == world.buyer.email and data["profile"]["name"] == world.buyer.name
    [mine] = data["orders"]
    assert mine["id"] == order.id and mine["total"] == order.total and mine["kube"] == world.kube_a.name
    assert mine["address"] == ADDRESS and mine["recipient_phone"] == PHONE
    assert mine["lines"][0]["product"] == world.product_a.name and mine["lines"][0]["quantity"] == 2
    assert data["cart"] == [{"product": world.product_b.name, "quantity": 3, "added_at": data["cart"][0]["added_at"]}]
    assert [r["body"] for r in data["kube_reviews"]] == ["Cepat dan rapi"]
    assert [r["body"] for r in data["product_reviews"]] == ["Harum"]
    assert [m["body"] for m in data["messages"]] == ["Tolong dibungkus rapi, rumah cat hijau."]
    assert data["notifications"] and all(n["text"] for n in data["notifications"])
    [token] = data["api_tokens"]
    assert set(token) == {"id", "created_at", "expires_at", "last_used_at", "revoked"}
    body = response.get_data(as_text=True)
    assert raw_token not in body and auth._hash_token(raw_token) not in body and "token_hash" not in body
    assert "password" not in body and world.buyer.password_hash not in body
    assert data["company_profile"] is None and data["kube_memberships"] == []
    assert data["search_log"] is None  # the search log keeps no user


def test_a_member_gets_their_own_nik_and_nobody_else_s(session: Session, login_as: Login, niks: World) -> None:
    _response, data = _download(login_as("anggota_a"))
    [membership] = data["kube_memberships"]
    assert membership == {"kube": niks.kube_a.name, "kube_slug": niks.kube_a.slug, "role": "anggota",
                          "nik": NIK_ANGGOTA_A, "joined_at": membership["joined_at"]}
    assert NIK_KETUA_A not in json.dumps(data)
    _response, buyer = _download(login_as("buyer"))
    assert NIK_ANGGOTA_A not in json.dumps(buyer)


def test_an_order_taker_gets_the_company_profile(login_as: Login, world: World) -> None:
    _response, data = _download(login_as("order_taker"))
    assert data["company_profile"]["company_name"] == "PT Sabun Ekspor"


def test_a_facilitator_gets_their_kubes_and_what_they_wrote(session: Session, login_as: Login,
                                                           world: World) -> None:
    from tests.stories.support import draft

    draft(session, world, "Dari sabut jadi penghasilan")
    session.commit()
    _response, data = _download(login_as("facilitator_a"))
    assert [k["kube"] for k in data["facilitator_of"]] == [world.kube_a.name]
    assert [s["title"] for s in data["stories_written"]] == ["Dari sabut jadi penghasilan"]


def test_the_download_runs_a_fixed_number_of_queries(session: Session, world: World,
                                                     count_queries: Callable[[], Any]) -> None:
    def measure() -> tuple[int, dict[str, Any]]:
        session.commit()
        buyer = session.get(type(world.buyer), world.buyer.id)  # loaded before counting, as a request's user is
        assert buyer is not None and buyer.email
        with count_queries() as counter:
            data = services.export_user_data(session, buyer)
        return counter.count, data

    delivered_order(session, world)
    one, _data = measure()
    for _ in range(4):
        delivered_order(session, world)
    five, data = measure()
    assert len(data["orders"]) == 5 and len(data["messages"]) == 5
    assert five == one
    assert five <= 25


@pytest.mark.parametrize("url", ["/account/privacy", "/account/privacy/download"])
def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_download_lists_the_audit_rows_about_the_user(session: Session, login_as: Login, world: World) -> None:
    audit = pytest.importorskip("marketplace.audit.services")
    audit.record(session, world.operator, "user.roles_changed", world.buyer)
    session.commit()
    _response, data = _download(login_as("buyer"))
    [row] = data["audit_log"]
    assert row["action"] == "user.roles_changed" and row["target_id"] == world.buyer.id and not row["by_you"]
    _response, other = _download(login_as("ketua_a"))
    assert other["audit_log"] == []
