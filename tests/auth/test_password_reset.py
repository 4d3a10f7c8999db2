"""Password reset by e-mail: the request page, the mailed link, the token's rules and the new password."""

from __future__ import annotations

import logging
import re
import socket
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.auth import services
from marketplace.auth.models import ApiToken, User
from marketplace.common import ValidationError, utcnow
from tests import factories
from tests.conftest import login
from tests.factories import World
from tests.other_app import other_app
from tests.smtp_sink import SmtpSink

EN = {"Accept-Language": "en"}
NEW = "kelapa-baru-77"
HOUR = timedelta(hours=1)
SAME_ANSWER = "If an account exists for"


def _outbox(app: Flask) -> list[EmailMessage]:
    return list(app.extensions["mail"].outbox)


def _link(message: EmailMessage) -> str:
    body = message.get_content()  # type: ignore[attr-defined]
    found = re.search(r"(\S+/auth/reset/\S+)", body)
    assert found, body
    return str(found.group(1))


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]  # the path, for the test client


def _ask(client: FlaskClient, email: str) -> Any:
    return client.post("/auth/reset", data={"email": email}, headers=EN, follow_redirects=True)


def _secret(app: Flask) -> str:
    return str(app.config["SECRET_KEY"])


# --- The pages ---------------------------------------------------------------------------------------


def test_sign_in_page_links_to_the_reset(client: FlaskClient) -> None:
    html = client.get("/auth/login", headers=EN).get_data(as_text=True)
    assert 'href="/auth/reset"' in html and "Forgot password?" in html
    assert client.get("/auth/reset").status_code == 200


def test_whole_reset_round_trip(app: Flask, session: Session, world: World, tmp_path: Path) -> None:
    laptop = login(app.test_client(), world.buyer.email)  # signed in elsewhere: will be signed out
    api_token, _ = services.issue_api_token(session, world.buyer)
    world.buyer.locked_until = utcnow() + timedelta(minutes=10)  # a lockout ends with the reset
    world.buyer.failed_logins = 2
    session.commit()
    client = app.test_client()
    response = _ask(client, "  Buyer@Test.PasarKube ")
    assert response.status_code == 200 and SAME_ANSWER in response.get_data(as_text=True)
    [mail] = _outbox(app)
    assert mail["To"] == world.buyer.email and mail["Content-Language"] == "id"  # no language chosen: Indonesian
    assert list((tmp_path / "mail").glob("*.eml"))  # `make run` users open these
    link = _link(mail)
    assert link.startswith("http://localhost/auth/reset/")
    page = client.get(_path(link), headers=EN)
    assert page.status_code == 200 and world.buyer.email in page.get_data(as_text=True)
    response = client.post(_path(link), data={"password": NEW, "confirm": NEW}, headers=EN)
    assert response.status_code == 302
    assert client.get("/auth/profile").status_code == 200  # signed in with the new password
    assert laptop.get("/auth/profile").status_code == 302  # every other session is gone
    session.expire_all()
    user = session.get(User, world.buyer.id)
    assert user is not None and user.locked_until is None and user.failed_logins == 0
    assert services.authenticate(session, world.buyer.email, NEW) is not None
    assert services.authenticate(session, world.buyer.email, factories.PASSWORD) is None
    assert session.scalars(select(ApiToken.revoked)).all() == [True]
    assert services.user_for_token(session, api_token) is None
    # The link worked once.
    again = app.test_client().get(_path(link), headers=EN)
    assert again.status_code == 400 and "invalid, already used or expired" in again.get_data(as_text=True)
    assert app.test_client().post(_path(link), data={"password": "other-pass-9", "confirm": "other-pass-9"}
                                  ).status_code == 400


def test_unknown_and_disabled_addresses_get_the_same_answer_and_no_mail(
    app: Flask, session: Session, world: World
) -> None:
    world.ketua_b.is_disabled = True
    session.commit()
    answers = []
    for email in ("nobody@example.com", world.ketua_b.email, "not an address"):
        response = _ask(app.test_client(), email)
        assert response.status_code == 200
        answers.append(response.get_data(as_text=True).replace(email, "EMAIL"))
    known = _ask(app.test_client(), world.buyer.email).get_data(as_text=True).replace(world.buyer.email, "EMAIL")
    assert SAME_ANSWER in known
    assert answers[0] == answers[1] == known  # nothing tells an account from no account
    assert [m["To"] for m in _outbox(app)] == [world.buyer.email]


def test_mail_follows_the_users_language(app: Flask, session: Session, world: World) -> None:
    world.buyer.locale = "en"
    session.commit()
    _ask(app.test_client(), world.buyer.email)
    [mail] = _outbox(app)
    assert mail["Content-Language"] == "en"
    assert mail["Subject"] == "Reset your Pasar KUBE password"
    body = mail.get_content()  # type: ignore[attr-defined]
    assert "Hello Buyer," in body and "within 60 minutes" in body


def test_links_use_the_base_url_not_the_requests_host(app: Flask, world: World) -> None:
    """Password-reset poisoning: a forged Host header must not put an attacker's site into the victim's mail."""
    app.config["BASE_URL"] = "https://pasarkube.example"
    app.test_client().post("/auth/reset", data={"email": world.buyer.email}, headers={"Host": "evil.example"})
    [mail] = _outbox(app)
    assert _link(mail).startswith("https://pasarkube.example/auth/reset/")


def test_a_proxys_forwarded_host_never_makes_the_link(database_url: str, tmp_path: Path, world: World) -> None:
    """Behind a proxy, X-Forwarded-For and -Proto are trusted but X-Forwarded-Host is not: a client can send any."""
    with other_app(database_url, tmp_path, PROXY_FIX=1) as app:
        app.test_client().post("/auth/reset", data={"email": world.buyer.email},
                               headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"})
        [mail] = _outbox(app)
    assert _link(mail).startswith("https://localhost/auth/reset/")


def test_development_without_a_base_url_links_to_the_requests_host(app: Flask, world: World) -> None:
    assert app.config["BASE_URL"] == ""  # production refuses to start like this (tests/test_config.py)
    app.test_client().post("/auth/reset", data={"email": world.buyer.email}, base_url="http://127.0.0.1:5000")
    [mail] = _outbox(app)
    assert _link(mail).startswith("http://127.0.0.1:5000/auth/reset/")


def test_new_password_form_errors_keep_the_link_usable(app: Flask, world: World) -> None:
    token = services.password_reset_token(world.buyer, secret_key=_secret(app))
    client = app.test_client()
    response = client.post(f"/auth/reset/{token}", data={"password": "short", "confirm": "short"}, headers=EN)
    assert response.status_code == 200 and "invalid-feedback" in response.get_data(as_text=True)
    response = client.post(f"/auth/reset/{token}", data={"password": NEW, "confirm": "different-1"}, headers=EN)
    assert response.status_code == 200 and "The passwords differ." in response.get_data(as_text=True)
    assert client.post(f"/auth/reset/{token}", data={"password": NEW, "confirm": NEW}).status_code == 302


def test_mail_failure_still_gives_the_same_answer(database_url: str, tmp_path: Path, world: World,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with other_app(database_url, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                   SMTP_TIMEOUT=2) as app, caplog.at_level(logging.ERROR):
        response = _ask(app.test_client(), world.buyer.email)
    assert response.status_code == 200 and SAME_ANSWER in response.get_data(as_text=True)
    assert "could not be sent" in caplog.text


def test_reset_mail_through_smtp(database_url: str, tmp_path: Path, world: World, session: Session) -> None:
    with SmtpSink() as sink, other_app(
        database_url, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, SMTP_STARTTLS=False,
        SMTP_USER="mailer", SMTP_PASSWORD="s3cret", MAIL_FROM="Pasar KUBE <halo@pasarkube.id>",
    ) as app:
        _ask(app.test_client(), world.buyer.email)
        received = sink.messages
        assert len(received) == 1 and received[0].recipients == [world.buyer.email]
        assert received[0].login == ("mailer", "s3cret") and received[0].sender == "halo@pasarkube.id"
        link = _link(received[0].message)
        response = app.test_client().post(_path(link), data={"password": NEW, "confirm": NEW})
        assert response.status_code == 302
    session.expire_all()
    assert services.authenticate(session, world.buyer.email, NEW) is not None


# --- The token's rules -------------------------------------------------------------------------------


def test_token_stops_working_when_the_password_changes(app: Flask, session: Session, world: World) -> None:
    token = services.password_reset_token(world.buyer, secret_key=_secret(app))
    assert services.user_for_reset_token(session, token, secret_key=_secret(app), max_age=HOUR) is world.buyer
    services.change_password(session, world.buyer, factories.PASSWORD, NEW)
    with pytest.raises(ValidationError):
        services.user_for_reset_token(session, token, secret_key=_secret(app), max_age=HOUR)


def test_token_stops_working_when_signed_out_everywhere(app: Flask, session: Session, world: World) -> None:
    token = services.password_reset_token(world.buyer, secret_key=_secret(app))
    world.buyer.auth_version += 1
    with pytest.raises(ValidationError):
        services.user_for_reset_token(session, token, secret_key=_secret(app), max_age=HOUR)


def test_token_expires(app: Flask, session: Session, world: World) -> None:
    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600

    token = services.password_reset_token(world.buyer, secret_key=_secret(app))
    payload = URLSafeTimedSerializer(_secret(app), salt=services.RESET_SALT).loads(token)
    old = URLSafeTimedSerializer(_secret(app), salt=services.RESET_SALT, signer=TwoHoursAgo).dumps(payload)
    with pytest.raises(ValidationError):
        services.user_for_reset_token(session, str(old), secret_key=_secret(app), max_age=HOUR)
    assert services.user_for_reset_token(session, str(old), secret_key=_secret(app),
                                         max_age=timedelta(hours=3)) is world.buyer
    app.config["PASSWORD_RESET_MINUTES"] = 60
    assert app.test_client().get(f"/auth/reset/{old}").status_code == 400


@pytest.mark.parametrize("payload", [["1", "x"], [True, "x"], [2**40, "x"], {"u": 1}, [1], "x", None])
def test_signed_nonsense_is_refused_not_a_crash(app: Flask, session: Session, world: World, payload: Any) -> None:
    token = URLSafeTimedSerializer(_secret(app), salt=services.RESET_SALT).dumps(payload)
    with pytest.raises(ValidationError):
        services.user_for_reset_token(session, str(token), secret_key=_secret(app), max_age=HOUR)
    assert app.test_client().get(f"/auth/reset/{token}").status_code == 400


def test_forged_or_foreign_tokens_are_refused(app: Flask, session: Session, world: World) -> None:
    fingerprint_of_buyer = URLSafeTimedSerializer(_secret(app), salt=services.RESET_SALT).loads(
        services.password_reset_token(world.buyer, secret_key=_secret(app)))[1]
    forged = [
        URLSafeTimedSerializer("another-secret", salt=services.RESET_SALT).dumps(
            [world.buyer.id, fingerprint_of_buyer]),
        # Signed for another purpose (another salt) with the right secret.
        URLSafeTimedSerializer(_secret(app), salt="something-else").dumps([world.buyer.id, fingerprint_of_buyer]),
        # Another user's id with the buyer's fingerprint.
        URLSafeTimedSerializer(_secret(app), salt=services.RESET_SALT).dumps(
            [world.operator.id, fingerprint_of_buyer]),
        "garbage", "",
    ]
    for token in forged:
        with pytest.raises(ValidationError):
            services.user_for_reset_token(session, str(token), secret_key=_secret(app), max_age=HOUR)


def test_disabled_accounts_cannot_reset(app: Flask, session: Session, world: World) -> None:
    token = services.password_reset_token(world.buyer, secret_key=_secret(app))
    world.buyer.is_disabled = True
    with pytest.raises(ValidationError):
        services.reset_password(session, token, NEW, secret_key=_secret(app), max_age=HOUR)
    assert services.user_for_password_reset(session, world.buyer.email) is None


def test_reset_checks_the_new_password(app: Flask, session: Session, world: World) -> None:
    token = services.password_reset_token(world.buyer, secret_key=_secret(app))
    with pytest.raises(ValidationError) as error:
        services.reset_password(session, token, "short", secret_key=_secret(app), max_age=HOUR)
    assert error.value.field == "password"


def test_addresses_on_special_use_domains_get_their_link(session: Session, world: World) -> None:
    # email-validator refuses .test (the demo's accounts), which sign-in accepts: the reset must find them too.
    world.buyer.email = "rina.pembeli@pasarkube.test"
    session.flush()
    with pytest.raises(ValidationError):
        services.normalize_email("rina.pembeli@pasarkube.test")
    assert services.user_for_password_reset(session, " Rina.Pembeli@pasarkube.test ") is world.buyer
    assert services.user_for_password_reset(session, "nobody@pasarkube.test") is None
