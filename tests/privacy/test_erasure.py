"""Deletion requests and erase_user: what refuses it, what it keeps for the KUBEs' books, what it removes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.auth import services as auth
from marketplace.auth.models import ApiToken, User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import KubeMember, KubeStatus, MemberRole
from marketplace.common import ConflictError, NotFoundError, PermissionDenied, ValidationError, utcnow
from marketplace.orders import services as orders
from marketplace.orders.models import CartItem, Notification, Order, OrderMessage, OrderStatus
from marketplace.privacy import services
from marketplace.privacy.models import ErasureRequest, ErasureStatus
from marketplace.reviews.models import KubeReview, ProductReview
from marketplace.sourcing import services as sourcing
from tests import factories
from tests.conftest import login
from tests.factories import World
from tests.privacy.conftest import NIK_ANGGOTA_A, member_of
from tests.privacy.support import ADDRESS, PHONE, delivered_order, open_order

Login = Callable[[str], FlaskClient]


def _request(session: Session, user: User) -> ErasureRequest:
    return services.request_erasure(session, user, factories.PASSWORD)


# --- Asking --------------------------------------------------------------------------------------------


def test_asking_needs_the_password_and_only_once(session: Session, world: World) -> None:
    with pytest.raises(ValidationError) as wrong:
        services.request_erasure(session, world.buyer, "not-my-password")
    assert wrong.value.field == "password"
    request = _request(session, world.buyer)
    assert request.status == ErasureStatus.REQUESTED
    with pytest.raises(ConflictError):
        _request(session, world.buyer)


def test_the_user_withdraws_their_own_waiting_request(session: Session, world: World) -> None:
    request = _request(session, world.buyer)
    with pytest.raises(NotFoundError):
        services.withdraw_request(session, world.anggota_a, request.id)
    services.withdraw_request(session, world.buyer, request.id)
    assert request.status == ErasureStatus.WITHDRAWN
    with pytest.raises(ConflictError):
        services.withdraw_request(session, world.buyer, request.id)
    _request(session, world.buyer)  # and may ask again later


def test_the_privacy_page_asks_shows_and_withdraws(session: Session, login_as: Login, world: World) -> None:
    client = login_as("buyer")
    page = client.get("/account/privacy").get_data(as_text=True)
    assert "/account/privacy/download" in page and 'name="password"' in page
    wrong = client.post("/account/privacy/erasure", data={"password": "nope-nope-nope"})
    assert wrong.status_code == 200 and 'is-invalid' in wrong.get_data(as_text=True)
    assert session.scalar(select(func.count(ErasureRequest.id))) == 0
    assert client.post("/account/privacy/erasure", data={"password": factories.PASSWORD}).status_code == 302
    request = session.scalars(select(ErasureRequest)).one()
    page = client.get("/account/privacy").get_data(as_text=True)
    assert f"/account/privacy/erasure/{request.id}/withdraw" in page and 'name="password"' not in page
    assert client.post(f"/account/privacy/erasure/{request.id}/withdraw").status_code == 302
    session.expire_all()
    assert session.get(ErasureRequest, request.id).status == ErasureStatus.WITHDRAWN  # type: ignore[union-attr]


def test_the_profile_page_links_to_my_data(login_as: Login, world: World) -> None:
    assert "/account/privacy" in login_as("buyer").get("/auth/profile").get_data(as_text=True)


# --- Refused -------------------------------------------------------------------------------------------


def _refused(session: Session, world: World, user: User, words: str) -> None:
    with pytest.raises(ConflictError) as refused:
        services.erase_user(session, world.operator, user.id)
    assert words in refused.value.message
    session.rollback()
    session.expire_all()
    assert session.get(User, user.id).is_disabled is False  # type: ignore[union-attr]


def test_refused_while_the_user_is_the_ketua_of_an_active_kube(session: Session, world: World) -> None:
    session.commit()
    _refused(session, world, world.ketua_a, "ketua")


def test_refused_while_the_user_is_the_only_officer(session: Session, world: World) -> None:
    member = member_of(session, world.ketua_b.id)
    member.role = MemberRole.SEKRETARIS  # KUBE B's only officer, with no ketua
    session.commit()
    _refused(session, world, world.ketua_b, "only officer")


def test_refused_while_an_order_is_open(session: Session, world: World) -> None:
    open_order(session, world)
    session.commit()
    _refused(session, world, world.buyer, "orders")


def test_refused_while_a_shipped_order_is_not_yet_received(session: Session, world: World) -> None:
    order = open_order(session, world)
    orders.confirm_payment(session, world.operator, order.checkout_id)
    orders.accept_order(session, world.ketua_a, order.id)
    orders.ship_order(session, world.ketua_a, order.id)
    session.commit()
    _refused(session, world, world.buyer, "orders")


def test_refused_while_a_refund_is_not_paid_out(session: Session, world: World) -> None:
    order = open_order(session, world)
    orders.confirm_payment(session, world.operator, order.checkout_id)
    orders.cancel_order(session, world.ketua_a, order.id, "Stok rusak")
    session.commit()
    assert order.status == OrderStatus.REFUNDED or order.status == OrderStatus.CANCELLED
    _refused(session, world, world.buyer, "refund")


def test_refused_while_a_supply_contract_runs(session: Session, world: World) -> None:
    from datetime import date

    request = sourcing.create_request(session, world.order_taker, sourcing.RequestInput(
        item_name="Arang tempurung", quantity="100", unit="kg", schedule="once", starts_on=date.today(),
        until=None, province_code="72"))
    quote = sourcing.make_quote(session, world.ketua_a, request.id, price_per_unit=20_000, quantity="100",
                                kube_id=world.kube_a.id)
    sourcing.accept_quote(session, world.order_taker, quote.id, 200)
    session.commit()
    _refused(session, world, world.order_taker, "contracts")


def test_only_operators_erase_and_never_themselves(session: Session, world: World) -> None:
    for who in (world.buyer, world.ketua_a, world.facilitator_a):
        with pytest.raises(PermissionDenied):
            services.erase_user(session, who, world.anggota_a.id)
    with pytest.raises(PermissionDenied):
        services.erase_user(session, world.operator, world.operator.id)
    with pytest.raises(NotFoundError):
        services.erase_user(session, world.operator, 999_999)


# --- Carried out ---------------------------------------------------------------------------------------


def test_erasure_keeps_orders_for_the_books_and_removes_the_person(app: Flask, session: Session,
                                                                   world: World) -> None:
    buyer = world.buyer
    email, uid = buyer.email, buyer.id
    order = delivered_order(session, world)
    total, goods, order_id = order.total, order.goods_total, order.id
    orders.add_to_cart(session, orders.CartOwner(user_id=uid), world.product_b.id, 1)
    raw_token, _token = auth.issue_api_token(session, buyer)
    draft = factories.make_kube(session, "KUBE Draf", status=KubeStatus.DRAFT, members=[(buyer, MemberRole.ANGGOTA)])
    request = _request(session, buyer)
    session.commit()
    api = app.test_client()
    assert api.get("/api/v1/orders", headers={"Authorization": f"Bearer {raw_token}"}).status_code == 200

    services.carry_out_request(session, world.operator, request.id)
    session.commit()
    session.expire_all()

    kept = session.get(Order, order_id)
    assert kept is not None and kept.total == total and kept.goods_total == goods and kept.buyer_id == uid
    assert kept.recipient_name == services.DELETED_NAME and kept.recipient_phone == "" and kept.address == ""
    assert len(kept.lines) == 1 and kept.status == OrderStatus.DELIVERED
    assert session.scalar(select(func.count(KubeReview.id))) == 1
    assert session.scalars(select(KubeReview.buyer_id)).one() is None
    assert session.scalars(select(ProductReview.buyer_id)).one() is None
    message = session.scalars(select(OrderMessage)).one()
    assert message.author_id is None and message.body == ""
    assert session.scalar(select(func.count(CartItem.id)).where(CartItem.user_id == uid)) == 0
    assert session.scalar(select(func.count(Notification.id)).where(Notification.user_id == uid)) == 0
    assert session.scalar(select(KubeMember.id).where(KubeMember.kube_id == draft.id)) is None
    assert all(t.revoked for t in session.scalars(select(ApiToken).where(ApiToken.user_id == uid)))
    user = session.get(User, uid)
    assert user is not None and user.email == f"deleted-{uid}@invalid" and user.name == services.DELETED_NAME
    assert user.phone is None and user.is_disabled and user.auth_version == 2
    assert session.get(ErasureRequest, request.id).status == ErasureStatus.DONE  # type: ignore[union-attr]

    # Nothing of the person is left on the KUBE's pages.
    ketua = login(app.test_client(), world.ketua_a.email)
    for url in (f"/my-kube/{world.kube_a.slug}/orders", f"/my-kube/{world.kube_a.slug}/orders/{order_id}",
                f"/kube/{world.kube_a.slug}"):
        html = ketua.get(url).get_data(as_text=True)
        assert ADDRESS not in html and PHONE not in html and email not in html, url
    # No sign-in with the old password or e-mail, no API token; the e-mail is free to sign up again.
    assert app.test_client().post("/auth/login", data={"email": email, "password": factories.PASSWORD}
                                  ).status_code == 200
    assert auth.authenticate(session, f"deleted-{uid}@invalid", factories.PASSWORD) is None
    assert api.get("/api/v1/orders", headers={"Authorization": f"Bearer {raw_token}"}).status_code == 401
    again = auth.register_user(session, email=email, password="a-new-password-1", name="Budi Baru")
    assert again.id != uid


def test_erasure_keeps_the_membership_of_an_active_kube_without_its_nik(session: Session, niks: World) -> None:
    services.erase_user(session, niks.operator, niks.anggota_a.id)
    session.commit()
    member = member_of(session, niks.anggota_a.id)
    assert member.nik is None and member.kube_id == niks.kube_a.id
    assert NIK_ANGGOTA_A not in catalog.member_niks(session, niks.ketua_a, niks.kube_a).values()


def test_a_signed_in_session_ends_with_the_erasure(app: Flask, session: Session, world: World,
                                                   login_as: Login) -> None:
    client = login_as("buyer")
    assert client.get("/account/privacy").status_code == 200
    services.erase_user(session, world.operator, world.buyer.id)
    session.commit()
    response = client.get("/account/privacy")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- The operators' list -------------------------------------------------------------------------------


def test_operators_see_age_overdue_and_blockers(session: Session, login_as: Login, world: World) -> None:
    old = services.request_erasure(session, world.anggota_a, factories.PASSWORD,
                                   now=utcnow() - timedelta(hours=80))
    fresh = _request(session, world.ketua_a)
    session.commit()
    page = services.requests_for_operators(session, world.operator)
    rows = {row.request.id: row for row in page.items}
    assert rows[old.id].overdue and rows[old.id].hours >= 79 and rows[old.id].blockers == []
    assert not rows[fresh.id].overdue and rows[fresh.id].blockers  # the ketua must hand over first
    assert services.overdue_count(session, world.operator) == 1
    html = login_as("operator").get("/admin/privacy/requests").get_data(as_text=True)
    assert world.anggota_a.email in html and "badge text-bg-danger" in html
    with pytest.raises(PermissionDenied):
        services.requests_for_operators(session, world.ketua_a)


def test_operators_carry_out_or_refuse_from_the_list(session: Session, login_as: Login, world: World) -> None:
    erase = _request(session, world.anggota_a)
    refuse = _request(session, world.buyer)
    session.commit()
    operator = login_as("operator")
    assert operator.post(f"/admin/privacy/requests/{refuse.id}/refuse", data={"reason": ""}).status_code == 302
    session.expire_all()
    assert session.get(ErasureRequest, refuse.id).status == ErasureStatus.REQUESTED  # type: ignore[union-attr]
    assert operator.post(f"/admin/privacy/requests/{refuse.id}/refuse",
                         data={"reason": "Pesanan Anda masih diproses."}).status_code == 302
    assert operator.post(f"/admin/privacy/requests/{erase.id}/erase").status_code == 302
    session.expire_all()
    assert session.get(ErasureRequest, erase.id).status == ErasureStatus.DONE  # type: ignore[union-attr]
    assert session.get(User, world.anggota_a.id).is_disabled  # type: ignore[union-attr]
    # The buyer reads the refusal and its reason on their privacy page.
    page = login_as("buyer").get("/account/privacy").get_data(as_text=True)
    assert "Pesanan Anda masih diproses." in page
    # A handled request is not handled twice.
    assert operator.post(f"/admin/privacy/requests/{erase.id}/erase").status_code == 302
    with pytest.raises(ConflictError):
        services.carry_out_request(session, world.operator, erase.id)
