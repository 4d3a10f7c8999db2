"""Sign-up, sign-in, remember me, sign-out and the profile page through the test client."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.auth.models import OrderTakerProfile, User
from tests import factories
from tests.conftest import login
from tests.factories import World


def test_sign_up_signs_in(client: FlaskClient, session: Session) -> None:
    page = client.get("/auth/register")
    assert page.status_code == 200
    response = client.post("/auth/register", data={
        "name": "Dewi Lestari", "email": "Dewi@Example.com", "phone": "0812-1111-2222",
        "password": "kelapa-muda-1", "confirm": "kelapa-muda-1"})
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.email == "dewi@example.com"))
    assert user is not None and user.name == "Dewi Lestari"
    assert "Dewi Lestari" in client.get("/").get_data(as_text=True)


def test_sign_up_errors_keep_the_form(client: FlaskClient, session: Session, world: World) -> None:
    response = client.post("/auth/register", data={
        "name": "X", "email": world.buyer.email, "password": "kelapa-muda-1", "confirm": "kelapa-muda-1"})
    assert response.status_code == 200
    assert "already exists" in response.get_data(as_text=True) or "sudah" in response.get_data(as_text=True)
    response = client.post("/auth/register", data={
        "name": "", "email": "new@example.com", "password": "short", "confirm": "other"})
    assert response.status_code == 200
    assert session.scalar(select(User).where(User.email == "new@example.com")) is None


def test_sign_in_wrong_password(client: FlaskClient, world: World) -> None:
    response = client.post("/auth/login", data={"email": world.buyer.email, "password": "nope-nope"})
    assert response.status_code == 200
    assert client.get("/auth/profile").status_code == 302  # still signed out


def test_sign_in_remember_me_and_sign_out(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.post("/auth/login", data={"email": world.buyer.email, "password": factories.PASSWORD,
                                                "remember": "y"})
    assert response.status_code == 302
    assert client.get_cookie("remember_token") is not None
    cookie = client.get_cookie("session")
    assert cookie is not None
    profile = client.get("/auth/profile")
    assert profile.status_code == 200 and world.buyer.email in profile.get_data(as_text=True)
    client.post("/auth/logout")
    assert client.get("/auth/profile").status_code == 302


def test_sign_in_redirects_only_to_this_site(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.post("/auth/login?next=//evil.example/steal",
                           data={"email": world.buyer.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/"
    client = app.test_client()
    response = client.post("/auth/login?next=/kube",
                           data={"email": world.buyer.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/kube"


def test_profile_updates(app: Flask, session: Session, world: World) -> None:
    client = login(app.test_client(), world.buyer.email)
    response = client.post("/auth/profile", data={"action": "profile", "profile-name": "Rina B",
                                                  "profile-phone": "0813", "profile-locale": "en"})
    assert response.status_code == 302
    session.refresh(world.buyer)
    assert world.buyer.name == "Rina B" and world.buyer.locale == "en"
    response = client.post("/auth/profile", data={"action": "company", "company-company_name": "CV Kopra",
                                                  "company-npwp": "", "company-province_code": "72"})
    assert response.status_code == 302
    assert session.scalar(select(OrderTakerProfile).where(OrderTakerProfile.user_id == world.buyer.id))


def test_password_change_signs_out_other_devices(app: Flask, session: Session, world: World) -> None:
    laptop = login(app.test_client(), world.buyer.email)
    phone = login(app.test_client(), world.buyer.email)
    response = phone.post("/auth/profile", data={
        "action": "password", "password-current_password": factories.PASSWORD,
        "password-new_password": "baru-sekali-9", "password-confirm": "baru-sekali-9"})
    assert response.status_code == 302
    assert phone.get("/auth/profile").status_code == 200
    assert laptop.get("/auth/profile").status_code == 302


def test_profile_needs_sign_in(client: FlaskClient) -> None:
    response = client.get("/auth/profile")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_csrf_token_required_on_sign_in(csrf_app: Flask, session: Session) -> None:
    factories.make_user(session, "csrf")
    session.commit()
    client = csrf_app.test_client()
    response = client.post("/auth/login", data={"email": factories.email_of("csrf"),
                                                "password": factories.PASSWORD})
    assert response.status_code == 400
    assert client.get("/auth/profile").status_code == 302


def test_profile_forms_come_back_at_their_errors(app: Flask, world: World) -> None:
    client = login(app.test_client(), world.buyer.email)
    html = client.get("/auth/profile").get_data(as_text=True)
    for form_id in ("details-form", "password-form", "company-form"):
        assert f'id="{form_id}" method="post" action="#{form_id}"' in html
    response = client.post("/auth/profile", data={
        "action": "password", "password-current_password": factories.PASSWORD,
        "password-new_password": "short", "password-confirm": "short"})
    assert response.status_code == 200 and "invalid-feedback" in response.get_data(as_text=True)


@pytest.mark.parametrize(("website", "ok"), [
    ("not a url", False), ("www.example.co.id", False), ("https://localhost", False),
    ("https://www.kopra.co.id", True), ("", True),
])
def test_company_website_must_be_a_web_address(
    app: Flask, session: Session, world: World, website: str, ok: bool
) -> None:
    client = login(app.test_client(), world.buyer.email)
    response = client.post("/auth/profile", headers={"Accept-Language": "en"}, data={
        "action": "company", "company-company_name": "CV Kopra", "company-website": website})
    assert (response.status_code == 302) is ok
    if not ok:
        assert "Enter a full web address" in response.get_data(as_text=True)
    saved = session.scalar(select(OrderTakerProfile).where(OrderTakerProfile.user_id == world.buyer.id))
    assert (saved is not None) is ok


def test_sign_up_page_promises_nothing_that_does_not_exist(client: FlaskClient) -> None:
    html = client.get("/auth/register", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "orders" not in html.lower()


def test_backslash_next_is_not_followed(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.post("/auth/login?next=/%5Cevil.example",
                           data={"email": world.buyer.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/"


def test_form_validation_messages_follow_the_language(client: FlaskClient, session: Session) -> None:
    """WTForms' own messages come from our catalogue: Indonesian by default, English on request."""
    data = {"name": "", "email": "x@example.com", "password": "abc", "confirm": "abc"}
    indonesian = client.post("/auth/register", data=data).get_data(as_text=True)
    assert "Wajib diisi." in indonesian and "Panjangnya harus 8 sampai 200 karakter." in indonesian
    assert "This field is required." not in indonesian
    english = client.post("/auth/register", data=data, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This field is required." in english


def test_a_race_past_the_duplicate_check_is_a_409_not_a_500(
    client: FlaskClient, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from marketplace.auth import services

    monkeypatch.setattr(services, "user_by_email", lambda session, email: None)  # as if the other request won
    response = client.post("/auth/register", data={
        "name": "Dua Kali", "email": world.buyer.email, "password": "kelapa-muda-1", "confirm": "kelapa-muda-1"},
        headers={"Accept-Language": "en"})
    assert response.status_code == 409 and "at the same moment" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(User.id)).where(User.email == world.buyer.email)) == 1
