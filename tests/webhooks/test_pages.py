"""The operator's webhook pages: endpoints and their secrets, the delivery log, who may see them, bad URLs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.factories import World
from tests.webhooks.support import make_delivery, make_endpoint

Login = Callable[[str], FlaskClient]
pytestmark = pytest.mark.usefixtures("english")


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"url": "https://127.0.0.1:8443/hooks", "description": "Mitra logistik",
                            "events": ["order.paid", "contract.created"]}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _secret_in(html: str) -> str:
    start = html.index("whsec_")
    return html[start:html.index("<", start)]


def test_add_endpoint_shows_the_secret_once(session: Session, world: World, login_as: Login) -> None:
    operator = login_as("operator")
    page = operator.get("/admin/webhooks/new")
    assert page.status_code == 200 and 'name="events"' in page.get_data(as_text=True)
    response = operator.post("/admin/webhooks/new", data=_form())
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = _secret_in(html)
    endpoint = session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.secret == secret and len(secret) > 40
    assert endpoint.events == ["order.paid", "contract.created"] and endpoint.is_active
    assert endpoint.created_by_id == world.operator.id
    # Never shown again: not on the list, the endpoint's page or its edit form.
    for url in ("/admin/webhooks/", f"/admin/webhooks/{endpoint.id}", f"/admin/webhooks/{endpoint.id}/edit"):
        body = operator.get(url).get_data(as_text=True)
        assert secret not in body and "127.0.0.1:8443" in body

    rotated = operator.post(f"/admin/webhooks/{endpoint.id}/rotate").get_data(as_text=True)
    new_secret = _secret_in(rotated)
    session.expire_all()
    assert new_secret != secret and session.get(WebhookEndpoint, endpoint.id).secret == new_secret  # type: ignore[union-attr]


def test_edit_deactivate_test_event_and_retry(session: Session, world: World, login_as: Login) -> None:
    endpoint = make_endpoint(session)
    dead = make_delivery(session, endpoint, status=DeliveryStatus.DEAD, attempts=8)
    session.commit()
    operator = login_as("operator")
    response = operator.post(f"/admin/webhooks/{endpoint.id}/edit",
                             data=_form(url="http://localhost:9000/in", events=["order.placed"]))
    assert response.status_code == 302
    session.expire_all()
    assert (endpoint.url, endpoint.events) == ("http://localhost:9000/in", ["order.placed"])

    assert operator.post(f"/admin/webhooks/{endpoint.id}/deactivate").status_code == 302
    session.expire_all()
    assert endpoint.is_active is False
    assert "inactive" in operator.get("/admin/webhooks/").get_data(as_text=True)
    assert operator.post(f"/admin/webhooks/{endpoint.id}/activate").status_code == 302
    session.expire_all()
    assert endpoint.is_active is True

    assert operator.post(f"/admin/webhooks/{endpoint.id}/test").status_code == 302
    test_event = session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_type == "webhook.test")).one()
    assert test_event.status == DeliveryStatus.PENDING and json.loads(test_event.payload)["type"] == "webhook.test"

    page = operator.get(f"/admin/webhooks/deliveries/{dead.id}").get_data(as_text=True)
    assert "Retry now" in page and "HTTP 500" in page and "order_id" in page
    assert operator.post(f"/admin/webhooks/deliveries/{dead.id}/retry").status_code == 302
    session.expire_all()
    assert dead.status == DeliveryStatus.PENDING and dead.attempts == 8
    # Retrying what is not failed or dead is refused with a message, and changes nothing.
    response = operator.post(f"/admin/webhooks/deliveries/{dead.id}/retry", follow_redirects=True)
    assert "Only failed or dead deliveries can be retried." in response.get_data(as_text=True)


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.com/hook", "must start with https://"),
    ("https://", "needs a host name"),
    ("https:///path", "needs a host name"),
    ("example.com/hook", "must start with https://"),
    ("https://user:pass@127.0.0.1/hook", "user name or password"),
    ("https://127.0.0.1:99999/hook", "not a valid web address"),
    ("https://10.1.2.3/hook", "private network"),
    ("https://127.0.0.1/hook", "private network"),
    ("https://169.254.169.254/latest/meta-data", "private network"),
    ("https://[::1]/hook", "private network"),
    ("https://[::ffff:192.168.1.1]/hook", "private network"),
    ("https://localhost/hook", "private network"),
    ("https://nonexistent.invalid/hook", "cannot be found"),
    ("http://93.184.216.34/hook", "must start with https://"),
    ("https://exa mple.com/", "without spaces"),
])
def test_bad_urls_give_form_errors(app: Flask, session: Session, world: World, login_as: Login, url: str,
                                   message: str) -> None:
    # As in production: no private addresses, no plain http.
    app.config["WEBHOOKS"] = {**app.config["WEBHOOKS"], "ALLOW_PRIVATE": False, "ALLOW_HTTP": False}
    response = login_as("operator").post("/admin/webhooks/new", data=_form(url=url))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 0


def test_events_are_required_and_checked(session: Session, world: World, login_as: Login) -> None:
    operator = login_as("operator")
    assert "Choose at least one event." in operator.post("/admin/webhooks/new", data=_form(events=None)).get_data(
        as_text=True)
    assert "Choose events from the list." in operator.post(
        "/admin/webhooks/new", data=_form(events=["order.paid", "user.deleted"])).get_data(as_text=True)
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 0


def test_development_allows_a_receiver_on_this_computer(session: Session, world: World, login_as: Login) -> None:
    response = login_as("operator").post("/admin/webhooks/new", data=_form(url="http://127.0.0.1:8000/in"))
    assert response.status_code == 200 and "whsec_" in response.get_data(as_text=True)


def test_only_operators_see_the_pages(session: Session, world: World, login_as: Login, client: FlaskClient) -> None:
    endpoint = make_endpoint(session)
    delivery = make_delivery(session, endpoint)
    session.commit()
    urls = ["/admin/webhooks/", "/admin/webhooks/new", f"/admin/webhooks/{endpoint.id}",
            f"/admin/webhooks/{endpoint.id}/edit", "/admin/webhooks/deliveries",
            f"/admin/webhooks/deliveries/{delivery.id}"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
        for who in ("buyer", "ketua_a", "facilitator_a", "order_taker"):
            assert login_as(who).get(url).status_code == 403, (who, url)
        assert login_as("operator").get(url).status_code == 200, url
    operator = login_as("operator")
    assert operator.get("/admin/webhooks/999").status_code == 404
    assert operator.get("/admin/webhooks/deliveries/999").status_code == 404


def test_log_filters_and_pages(session: Session, world: World, login_as: Login) -> None:
    first = make_endpoint(session, "https://127.0.0.1/one")
    second = make_endpoint(session, "https://127.0.0.1/two")
    for n in range(30):
        make_delivery(session, first, n=n, status=DeliveryStatus.FAILED if n % 3 == 0 else DeliveryStatus.PENDING,
                      attempts=1 if n % 3 == 0 else 0)
    make_delivery(session, second, n=99, event_type="contract.created")
    session.commit()
    operator = login_as("operator")
    html = operator.get("/admin/webhooks/deliveries").get_data(as_text=True)
    assert "(31)" in html and "Page 1 of 2" in html and "#31 contract.created" in html  # newest first
    assert "#1 order.paid" not in html
    assert "#1 order.paid" in operator.get("/admin/webhooks/deliveries?page=2").get_data(as_text=True)
    failed = operator.get("/admin/webhooks/deliveries?status=failed").get_data(as_text=True)
    assert "(10)" in failed and "contract.created" not in failed.split("<table")[1]
    by_event = operator.get("/admin/webhooks/deliveries?event=contract.created").get_data(as_text=True)
    assert "(1)" in by_event
    assert "(1)" in operator.get(f"/admin/webhooks/{second.id}").get_data(as_text=True)
    # Unknown filters are ignored, never a 500.
    assert "(31)" in operator.get("/admin/webhooks/deliveries?status=nope&event=user.deleted").get_data(as_text=True)
    # Pagination keeps the filters.
    page = operator.get(f"/admin/webhooks/{first.id}?event=order.paid").get_data(as_text=True)
    assert "(30)" in page and f"/admin/webhooks/{first.id}?event=order.paid&amp;page=2" in page


def test_log_and_list_pages_run_constant_queries(session: Session, world: World, login_as: Login,
                                                 count_queries: Any) -> None:
    operator = login_as("operator")

    def counts() -> tuple[int, int, int]:
        found = []
        for url in ("/admin/webhooks/deliveries", f"/admin/webhooks/{endpoint.id}", "/admin/webhooks/"):
            with count_queries() as counter:
                assert operator.get(url).status_code == 200
            found.append(counter.count)
        return found[0], found[1], found[2]

    endpoint = make_endpoint(session)
    make_delivery(session, endpoint, n=0)
    session.commit()
    small = counts()
    for n in range(1, 20):
        make_delivery(session, make_endpoint(session, f"https://127.0.0.1/{n}"), n=n)
    session.commit()
    assert counts() == small
