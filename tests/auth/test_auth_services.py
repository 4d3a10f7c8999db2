"""Account rules, tested without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from marketplace.auth import services
from marketplace.common import ConflictError, PermissionDenied, ValidationError, utcnow
from tests import factories


def test_register_normalises_and_hashes(session: Session) -> None:
    user = services.register_user(session, email="  Siti@Example.COM ", password="rahasia-123", name=" Siti ")
    assert user.email == "siti@example.com"
    assert user.name == "Siti"
    assert user.password_hash != "rahasia-123" and len(user.password_hash) > 40
    assert services.authenticate(session, "SITI@example.com", "rahasia-123") is user
    assert services.authenticate(session, "siti@example.com", "wrong-password") is None
    assert services.authenticate(session, "nobody@example.com", "rahasia-123") is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
    ],
)
def test_register_rejects_bad_input(session: Session, fields: dict[str, str], field: str) -> None:
    data = {"email": "ok@example.com", "password": "long-enough-1", "name": "Ok"} | fields
    with pytest.raises(ValidationError) as caught:
        services.register_user(session, **data)
    assert caught.value.field == field
    assert services.user_by_email(session, "ok@example.com") is None


def test_register_refuses_duplicate_email(session: Session) -> None:
    services.register_user(session, email="a@example.com", password="long-enough-1", name="A")
    with pytest.raises(ConflictError):
        services.register_user(session, email="A@example.com", password="long-enough-2", name="B")


def test_disabled_user_cannot_sign_in(session: Session) -> None:
    user = factories.make_user(session, "gone", is_disabled=True)
    assert services.authenticate(session, user.email, factories.PASSWORD) is None


def test_password_change_invalidates_sessions_and_tokens(session: Session) -> None:
    user = factories.make_user(session, "rina")
    raw, _ = services.issue_api_token(session, user)
    old_id = user.get_id()
    assert services.load_user(session, old_id) is user
    with pytest.raises(ValidationError):
        services.change_password(session, user, "wrong", "new-password-1")
    services.change_password(session, user, factories.PASSWORD, "new-password-1")
    assert services.load_user(session, old_id) is None
    assert services.load_user(session, user.get_id()) is user
    assert services.user_for_token(session, raw) is None
    assert services.authenticate(session, user.email, "new-password-1") is user


def test_api_tokens_expire_and_store_only_a_hash(session: Session) -> None:
    user = factories.make_user(session, "api")
    raw, token = services.issue_api_token(session, user, days=1)
    assert raw not in token.token_hash
    assert services.user_for_token(session, raw) is user
    assert services.user_for_token(session, raw, now=utcnow() + timedelta(days=2)) is None
    assert services.user_for_token(session, "pk_forged") is None
    assert services.user_for_token(session, "") is None


def test_load_user_rejects_garbage(session: Session) -> None:
    assert services.load_user(session, "abc") is None
    assert services.load_user(session, "1") is None
    assert services.load_user(session, "999.1") is None


def test_order_taker_profile(session: Session) -> None:
    user = factories.make_user(session, "buyer_co")
    assert not user.is_order_taker
    services.save_order_taker_profile(
        session, user, services.OrderTakerInput(company_name="PT Arang Jaya", npwp="01.234.567.8-901.000",
                                                province_code="72"))
    assert user.is_order_taker
    with pytest.raises(ValidationError) as caught:
        services.save_order_taker_profile(session, user, services.OrderTakerInput(company_name="X", npwp="123"))
    assert caught.value.field == "npwp"
    with pytest.raises(ValidationError):
        services.save_order_taker_profile(session, user, services.OrderTakerInput(company_name="X",
                                                                                  province_code="99"))


def test_only_operators_change_roles(session: Session) -> None:
    operator = factories.make_user(session, "op", is_operator=True)
    someone = factories.make_user(session, "someone")
    with pytest.raises(PermissionDenied):
        services.set_user_roles(session, someone, operator.id, is_operator=False, is_facilitator=False,
                                is_disabled=True)
    assert operator.is_operator and not operator.is_disabled
    version = someone.auth_version
    services.set_user_roles(session, operator, someone.id, is_operator=False, is_facilitator=True,
                            is_disabled=True)
    assert someone.is_facilitator and someone.is_disabled and someone.auth_version == version + 1
    with pytest.raises(ValidationError):
        services.set_user_roles(session, operator, operator.id, is_operator=False, is_facilitator=False,
                                is_disabled=False)
    page = services.list_users(session, operator, q="some")
    assert [u.email for u in page.items] == [someone.email]


def test_user_search_treats_wildcards_as_text(session: Session) -> None:
    operator = factories.make_user(session, "op2", is_operator=True)
    factories.make_user(session, "plain")
    factories.make_user(session, "with_underscore")
    assert services.list_users(session, operator, q="%").total == 0
    assert [u.email for u in services.list_users(session, operator, q="h_u").items] == [
        factories.email_of("with_underscore")]
