"""Every privacy route for every role, CSRF on the new forms, and places a NIK must never reach."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.privacy import services
from marketplace.privacy.models import ErasureRequest
from marketplace.search.runtime import SearchRuntime
from tests import factories
from tests.factories import World
from tests.privacy.conftest import NIK_ANGGOTA_A, NIK_KETUA_A, member_of
from tests.privacy.support import delivered_order

Login = Callable[[str], FlaskClient]
ROLES = ["buyer", "order_taker", "anggota_a", "ketua_a", "ketua_b", "facilitator_a", "facilitator_b", "operator"]


@pytest.mark.parametrize("who", ROLES)
def test_every_user_has_my_data(login_as: Login, world: World, who: str) -> None:
    client = login_as(who)
    assert client.get("/account/privacy").status_code == 200
    download = client.get("/account/privacy/download")
    assert download.status_code == 200 and download.get_json()["profile"]["email"] == factories.email_of(who)


@pytest.mark.parametrize("who", ROLES)
def test_only_operators_list_the_requests(login_as: Login, world: World, who: str) -> None:
    status = login_as(who).get("/admin/privacy/requests").status_code
    assert status == (200 if who == "operator" else 403)


@pytest.mark.parametrize("url", ["/admin/privacy/requests", "/account/privacy", "/account/privacy/download"])
def test_signed_out_visitors_sign_in_first(client: FlaskClient, world: World, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("who", [r for r in ROLES if r != "operator"])
def test_only_operators_carry_out_or_refuse(session: Session, login_as: Login, world: World, who: str) -> None:
    request = services.request_erasure(session, world.anggota_a, factories.PASSWORD)
    session.commit()
    client = login_as(who)
    assert client.post(f"/admin/privacy/requests/{request.id}/erase").status_code == 403
    assert client.post(f"/admin/privacy/requests/{request.id}/refuse", data={"reason": "x"}).status_code == 403
    session.expire_all()
    assert session.get(ErasureRequest, request.id).status == "requested"  # type: ignore[union-attr]


def test_the_operator_list_runs_a_fixed_number_of_queries(session: Session, world: World,
                                                          count_queries: Callable[[], object]) -> None:
    services.request_erasure(session, world.buyer, factories.PASSWORD)
    session.commit()
    counting: Callable[[], object] = count_queries
    with counting() as one:  # type: ignore[attr-defined]
        services.requests_for_operators(session, world.operator)
    for who in (world.anggota_a, world.ketua_a, world.order_taker, world.facilitator_b):
        services.request_erasure(session, who, factories.PASSWORD)
    session.commit()
    with counting() as five:  # type: ignore[attr-defined]
        page = services.requests_for_operators(session, world.operator)
    assert page.total == 5 and five.count == one.count  # type: ignore[attr-defined]


def _csrf_token(client: FlaskClient, url: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert found
    return found.group(1)


def test_the_privacy_forms_need_their_csrf_token(csrf_app: Flask, session: Session) -> None:
    world = factories.build_world(session)
    session.commit()
    client = csrf_app.test_client()
    token = _csrf_token(client, "/auth/login")
    assert client.post("/auth/login", data={"email": world.buyer.email, "password": factories.PASSWORD,
                                            "csrf_token": token}).status_code == 302
    assert client.post("/account/privacy/erasure", data={"password": factories.PASSWORD}).status_code == 400
    assert session.scalar(select(func.count(ErasureRequest.id))) == 0
    token = _csrf_token(client, "/account/privacy")
    assert client.post("/account/privacy/erasure",
                       data={"password": factories.PASSWORD, "csrf_token": token}).status_code == 302
    request_id = session.scalars(select(ErasureRequest.id)).one()
    assert client.post(f"/account/privacy/erasure/{request_id}/withdraw").status_code == 400
    operator = csrf_app.test_client()
    token = _csrf_token(operator, "/auth/login")
    operator.post("/auth/login", data={"email": world.operator.email, "password": factories.PASSWORD,
                                       "csrf_token": token})
    assert operator.post(f"/admin/privacy/requests/{request_id}/erase").status_code == 400
    assert operator.post(f"/admin/privacy/requests/{request_id}/refuse", data={"reason": "x"}).status_code == 400
    member = member_of(session, world.anggota_a.id)
    ketua = csrf_app.test_client()
    token = _csrf_token(ketua, "/auth/login")
    ketua.post("/auth/login", data={"email": world.ketua_a.email, "password": factories.PASSWORD,
                                    "csrf_token": token})
    assert ketua.post(f"/my-kube/{world.kube_a.slug}/members/{member.id}/nik",
                      data={f"nik{member.id}-nik": NIK_ANGGOTA_A}).status_code == 400
    session.expire_all()
    assert session.scalars(select(ErasureRequest.status)).one() == "requested"
    assert member_of(session, world.anggota_a.id).nik is None


# --- Where a NIK never goes ---------------------------------------------------------------------------


def test_no_nik_in_search_reports_insights_or_logs(app: Flask, session: Session, login_as: Login, niks: World,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    delivered_order(session, niks)
    session.commit()
    caplog.set_level(logging.DEBUG)
    runtime: SearchRuntime = app.extensions["search"]
    runtime.indexer.run_once(wait=True)
    facilitator, operator, ketua = login_as("facilitator_a"), login_as("operator"), login_as("ketua_a")
    # Entering a NIK through the members page, as ketua: the request is logged nowhere with it.
    member = member_of(session, niks.ketua_b.id)
    login_as("ketua_b").post(f"/my-kube/{niks.kube_b.slug}/members/{member.id}/nik",
                             data={f"nik{member.id}-nik": "3204054101800009"})
    responses = {
        "search kube": operator.get(f"/search?q={niks.kube_a.name}"),
        "search api": operator.get("/api/v1/search?q=kelapa"),
        "kube report csv": facilitator.get(f"/facilitator/kubes/{niks.kube_a.slug}/report.csv"),
        "kube report pdf": facilitator.get(f"/facilitator/kubes/{niks.kube_a.slug}/report.pdf"),
        "facilitator csv": facilitator.get("/facilitator/report.csv"),
        "facilitator kube": facilitator.get(f"/facilitator/kubes/{niks.kube_a.slug}"),
        "insights": operator.get("/insights"),
        "insights csv": operator.get("/insights.csv"),
        "kube dashboard": ketua.get(f"/my-kube/{niks.kube_a.slug}"),
        "kube orders": ketua.get(f"/my-kube/{niks.kube_a.slug}/orders"),
        "admin users": operator.get("/admin/users"),
        "graduation": operator.get(f"/graduation/{niks.kube_a.slug}"),
        "products api": operator.get("/api/v1/products"),
        "kubes api": operator.get("/api/v1/kubes"),
    }
    for name, response in responses.items():
        body = response.get_data()
        response.close()
        assert response.status_code in (200, 404), (name, response.status_code)
        for nik in (NIK_KETUA_A, NIK_ANGGOTA_A, "3204054101800009"):
            assert nik.encode() not in body, name
            assert (nik[:4] + "\u2022").encode() not in body, name
    # The NIK is not in the index: searching for it finds nothing (the page only repeats what was typed).
    found = operator.get(f"/api/v1/search?q={NIK_KETUA_A}").get_json()
    assert found["total"] == 0
    assert responses["kube report csv"].status_code == 200
    assert niks.kube_a.name.encode() in responses["kube report csv"].get_data()  # the report itself is there
    for record in caplog.records:
        for nik in (NIK_KETUA_A, NIK_ANGGOTA_A, "3204054101800009"):
            assert nik not in record.getMessage()
    search_dir = app.config["SEARCH_DIR"]
    import pathlib

    for path in pathlib.Path(search_dir).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert NIK_KETUA_A.encode() not in data and NIK_ANGGOTA_A.encode() not in data, path
