"""Account lockout after repeated failed sign-ins: the service, the sign-in page, the API token and the operator's
unlock."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditEvent
from marketplace.auth import services
from marketplace.auth.models import ApiToken, User
from marketplace.common import PermissionDenied, utcnow
from tests import factories
from tests.conftest import login
from tests.factories import World

POLICY = services.LockoutPolicy(attempts=3, window=timedelta(minutes=10), duration=timedelta(minutes=15))
WRONG = "wrong-password"
EN = {"Accept-Language": "en"}


def _fail(session: Session, email: str, times: int, **kwargs: object) -> None:
    for _ in range(times):
        assert services.authenticate(session, email, WRONG, policy=POLICY, **kwargs) is None  # type: ignore[arg-type]


# --- The service -------------------------------------------------------------------------------------


def test_the_last_allowed_failure_locks_and_the_right_password_waits(session: Session, world: World) -> None:
    now = utcnow()
    _fail(session, world.buyer.email, 2, now=now)
    assert world.buyer.failed_logins == 2 and world.buyer.locked_until is None
    with pytest.raises(services.AccountLocked) as locked:
        services.authenticate(session, world.buyer.email, WRONG, policy=POLICY, now=now)
    assert locked.value.locked_until == now + POLICY.duration == world.buyer.locked_until
    assert locked.value.code == "account_locked"
    # While locked, the right password is refused too, and no failure is counted.
    with pytest.raises(services.AccountLocked):
        services.authenticate(session, world.buyer.email, factories.PASSWORD, policy=POLICY,
                              now=now + timedelta(minutes=14))
    assert world.buyer.failed_logins == POLICY.attempts  # the failures that locked it, none since
    # Once the time is up the right password works and the slate is clean.
    user = services.authenticate(session, world.buyer.email, factories.PASSWORD, policy=POLICY,
                                 now=now + timedelta(minutes=16))
    assert user is world.buyer
    assert (user.failed_logins, user.failed_logins_since, user.locked_until) == (0, None, None)


def test_a_successful_sign_in_resets_the_count(session: Session, world: World) -> None:
    _fail(session, world.buyer.email, 2)
    assert services.authenticate(session, world.buyer.email, factories.PASSWORD, policy=POLICY) is world.buyer
    assert world.buyer.failed_logins == 0
    _fail(session, world.buyer.email, 2)  # two more are allowed again
    assert world.buyer.locked_until is None


def test_failures_outside_the_window_start_a_new_count(session: Session, world: World) -> None:
    start = utcnow()
    _fail(session, world.buyer.email, 2, now=start)
    _fail(session, world.buyer.email, 2, now=start + timedelta(minutes=11))
    assert world.buyer.failed_logins == 2 and world.buyer.locked_until is None


def test_unknown_addresses_never_lock(session: Session, world: World) -> None:
    for _ in range(10):
        assert services.authenticate(session, "nobody@example.com", WRONG, policy=POLICY) is None


def test_disabled_accounts_stay_refused_without_a_hint(session: Session, world: World) -> None:
    world.buyer.is_disabled = True
    assert services.authenticate(session, world.buyer.email, factories.PASSWORD, policy=POLICY) is None


def test_policy_from_settings(app: Flask) -> None:
    policy = services.LockoutPolicy.from_config(app.config)
    assert policy == services.LockoutPolicy(attempts=5, window=timedelta(minutes=15),
                                            duration=timedelta(minutes=15))


def test_only_operators_unlock(session: Session, world: World) -> None:
    world.buyer.locked_until = utcnow() + timedelta(minutes=5)
    with pytest.raises(PermissionDenied):
        services.unlock_user(session, world.facilitator_a, world.buyer.id)
    assert world.buyer.is_locked
    services.unlock_user(session, world.operator, world.buyer.id)
    assert not world.buyer.is_locked and world.buyer.locked_until is None
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.unlocked")).all()
    assert (event.actor_id, event.target_type, event.target_id) == (world.operator.id, "user", world.buyer.id)


def test_a_lock_that_ran_out_starts_a_new_count(session: Session, world: World) -> None:
    policy = services.LockoutPolicy(attempts=3, window=timedelta(hours=1), duration=timedelta(minutes=15))
    now = utcnow()
    with pytest.raises(services.AccountLocked):
        for _ in range(3):
            services.authenticate(session, world.buyer.email, WRONG, policy=policy, now=now)
    # Still inside the hour's window, but the lock is over: one more failure is the first of a new count.
    later = now + timedelta(minutes=16)
    assert services.authenticate(session, world.buyer.email, WRONG, policy=policy, now=later) is None
    assert (world.buyer.failed_logins, world.buyer.failed_logins_since, world.buyer.locked_until) == (1, later, None)


# --- Parallel guesses --------------------------------------------------------------------------------


def _guess(db_session: Session, email: str, policy: services.LockoutPolicy) -> bool:
    """One wrong sign-in in its own transaction, committed as the view does; True when it was told "locked"."""
    try:
        assert services.authenticate(db_session, email, WRONG, policy=policy) is None
        return False
    except services.AccountLocked:
        return True
    finally:
        db_session.commit()


def test_guesses_from_sessions_that_read_the_account_first_all_count(session: Session, world: World) -> None:
    """Five sign-ins that all read the account before any of them saved its failure (what parallel requests do)
    each count: a count kept in Python would have them all write 1 and never lock."""
    engine = session.get_bind()
    others = [Session(engine) for _ in range(5)]
    try:
        # Held, so that each session keeps the account as it read it (the identity map holds it only weakly).
        read = [other.get(User, world.buyer.id) for other in others]
        assert [user.failed_logins for user in read if user is not None] == [0] * 5
        told_locked = [_guess(other, world.buyer.email, POLICY) for other in others]
    finally:
        for other in others:
            other.close()
    assert told_locked == [False, False, True, True, True]
    session.expire_all()
    assert world.buyer.failed_logins == 5 and world.buyer.is_locked


def test_parallel_guesses_on_separate_connections_all_count(app: Flask, session: Session, world: World) -> None:
    """Real concurrent connections (on PostgreSQL; SQLite runs one writer at a time): as many failures as guesses,
    and the account ends locked."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("needs a database that runs transactions concurrently (PostgreSQL)")
    engine = session.get_bind()
    guesses = 5
    policy = services.LockoutPolicy(attempts=guesses, window=timedelta(minutes=10), duration=timedelta(minutes=15))
    start = threading.Barrier(guesses)

    def attempt() -> bool:
        with app.app_context(), Session(engine) as own:
            start.wait()
            return _guess(own, world.buyer.email, policy)

    with ThreadPoolExecutor(guesses) as pool:
        told_locked = list(pool.map(lambda _: attempt(), range(guesses)))
    assert told_locked.count(True) == 1  # the one whose failure reached the limit
    session.expire_all()
    assert world.buyer.failed_logins == guesses and world.buyer.is_locked


# --- The sign-in page --------------------------------------------------------------------------------


def _post_sign_in(client: FlaskClient, email: str, password: str = WRONG) -> str:
    response = client.post("/auth/login", data={"email": email, "password": password}, headers=EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_page_locks_after_failures_and_says_until_when(app: Flask, session: Session, world: World,
                                                       client: FlaskClient) -> None:
    app.config["LOCKOUT_ATTEMPTS"] = 3
    for _ in range(2):
        assert "Wrong e-mail or password." in _post_sign_in(client, world.buyer.email)
    html = _post_sign_in(client, world.buyer.email)
    assert "this account is locked until" in html and "Wrong e-mail or password." not in html
    session.expire_all()
    assert world.buyer.is_locked  # committed, though the sign-in failed
    html = _post_sign_in(client, world.buyer.email, factories.PASSWORD)
    assert "this account is locked until" in html
    assert client.get("/auth/profile").status_code == 302  # still signed out


def test_page_gives_unknown_addresses_the_generic_answer(app: Flask, world: World, client: FlaskClient) -> None:
    app.config["LOCKOUT_ATTEMPTS"] = 3
    for _ in range(6):
        html = _post_sign_in(client, "nobody@example.com")
        assert "Wrong e-mail or password." in html and "locked" not in html


def test_page_sign_in_clears_the_count(app: Flask, session: Session, world: World) -> None:
    app.config["LOCKOUT_ATTEMPTS"] = 3
    client = app.test_client()
    _post_sign_in(client, world.buyer.email)
    _post_sign_in(client, world.buyer.email)
    session.expire_all()
    assert world.buyer.failed_logins == 2
    login(client, world.buyer.email)
    session.expire_all()
    assert world.buyer.failed_logins == 0


# --- The API token -----------------------------------------------------------------------------------


def test_token_endpoint_shares_the_lockout(app: Flask, session: Session, world: World, client: FlaskClient) -> None:
    app.config["LOCKOUT_ATTEMPTS"] = 3
    _post_sign_in(client, world.ketua_a.email)  # one failure on the web page ...
    body = {"email": world.ketua_a.email, "password": WRONG}
    assert client.post("/api/v1/auth/token", json=body).status_code == 401  # ... one through the API ...
    response = client.post("/api/v1/auth/token", json=body, headers=EN)  # ... and the third locks
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "account_locked" and "locked until" in error["message"]
    assert 14 * 60 <= int(response.headers["Retry-After"]) <= 15 * 60
    right = client.post("/api/v1/auth/token", json={"email": world.ketua_a.email, "password": factories.PASSWORD})
    assert right.status_code == 403 and right.get_json()["error"]["code"] == "account_locked"
    assert session.scalars(select(ApiToken)).first() is None
    # Unknown addresses keep getting the generic 401.
    for _ in range(4):
        unknown = client.post("/api/v1/auth/token", json={"email": "nobody@example.com", "password": WRONG})
        assert unknown.status_code == 401 and unknown.get_json()["error"]["code"] == "unauthorized"


# --- The operator's unlock ---------------------------------------------------------------------------


def test_operator_unlocks_from_the_users_page(app: Flask, session: Session, world: World) -> None:
    world.buyer.locked_until = utcnow() + timedelta(minutes=10)
    session.commit()
    operator = login(app.test_client(), world.operator.email)
    html = operator.get("/admin/users", headers=EN).get_data(as_text=True)
    assert "Locked until" in html and 'name="action" value="unlock"' in html
    response = operator.post("/admin/users", data={"action": "unlock", "user_id": str(world.buyer.id)},
                             headers=EN)
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, world.buyer.id).locked_until is None  # type: ignore[union-attr]
    html = operator.get("/admin/users", headers=EN).get_data(as_text=True)
    assert "can sign in again" in html and 'value="unlock"' not in html
    login(app.test_client(), world.buyer.email)


def test_users_page_queries_do_not_grow_with_locked_accounts(app: Flask, session: Session, world: World,
                                                             count_queries: object) -> None:
    operator = login(app.test_client(), world.operator.email)
    operator.get("/admin/users")
    with count_queries() as before:  # type: ignore[operator]
        operator.get("/admin/users")
    for n in range(5):
        factories.make_user(session, f"locked{n}", locked_until=utcnow() + timedelta(minutes=10))
    session.commit()
    with count_queries() as after:  # type: ignore[operator]
        html = operator.get("/admin/users").get_data(as_text=True)
    assert html.count('value="unlock"') == 5
    assert after.count == before.count
