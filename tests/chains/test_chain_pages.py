"""The pages where facilitators and operators build chains, through the test client."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.chains import services
from marketplace.chains.models import ChainProcess, ProcessFlow, ProcessKube, SupplyChain
from marketplace.demo.loader import load_demo
from tests import factories
from tests.conftest import login
from tests.factories import CHAIN_SLUG, World

Login = Callable[[str], FlaskClient]

# These tests check the English texts; tests/test_translations.py checks the Indonesian ones.
pytestmark = pytest.mark.usefixtures("english")
EDIT = f"/chains/{CHAIN_SLUG}/edit"


@pytest.fixture
def chain(session: Session, world: World) -> SupplyChain:
    found = factories.make_chain(session, world)
    session.commit()
    return found


def _pid(session: Session, key: str) -> int:
    return factories.chain_process_id(session, key)


def _counts(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(model)) or 0
                 for model in (SupplyChain, ChainProcess, ProcessFlow, ProcessKube))


def test_facilitators_and_operators_see_new_chain(world: World, client: FlaskClient, login_as: Login) -> None:
    for who in ("facilitator_a", "facilitator_b", "operator"):
        assert 'href="/chains/new"' in login_as(who).get("/chains").get_data(as_text=True), who
    for who in ("buyer", "ketua_a", "order_taker"):
        assert 'href="/chains/new"' not in login_as(who).get("/chains").get_data(as_text=True), who
    assert 'href="/chains/new"' not in client.get("/chains").get_data(as_text=True)


def test_the_chain_page_links_to_edit_for_its_managers(chain: SupplyChain, client: FlaskClient,
                                                       login_as: Login) -> None:
    for who in ("facilitator_a", "operator"):
        assert f'href="{EDIT}"' in login_as(who).get(f"/chains/{CHAIN_SLUG}").get_data(as_text=True), who
    for who in ("facilitator_b", "buyer", "ketua_a", "anggota_a"):
        assert f'href="{EDIT}"' not in login_as(who).get(f"/chains/{CHAIN_SLUG}").get_data(as_text=True), who
    assert f'href="{EDIT}"' not in client.get(f"/chains/{CHAIN_SLUG}").get_data(as_text=True)


def test_starting_a_chain(session: Session, world: World, client: FlaskClient, login_as: Login) -> None:
    facilitator = login_as("facilitator_a")
    page = facilitator.get("/chains/new").get_data(as_text=True)
    assert 'name="name"' in page and 'name="regency_code"' in page
    # The region picker: choosing the province lists its kabupaten without saving anything.
    page = facilitator.post("/chains/new", data={"name": "Kelapa Batui", "province_code": "72",
                                                 "refresh_regions": "1"}).get_data(as_text=True)
    assert "Kabupaten Banggai" in page and _counts(session)[0] == 0
    response = facilitator.post("/chains/new", data={"name": "Kelapa Batui", "description": "Dari kebun.",
                                                     "province_code": "72", "regency_code": "72.01"})
    assert response.status_code == 302 and response.headers["Location"] == "/chains/kelapa-batui/edit"
    made = services.chain_by_slug(session, "kelapa-batui")
    assert (made.regency_code, made.created_by_id) == ("72.01", world.facilitator_a.id)
    page = facilitator.get(response.headers["Location"]).get_data(as_text=True)
    assert "is started" in page and "No process yet" in page
    # A name is needed; the form comes back with the error and nothing is saved.
    page = facilitator.post("/chains/new", data={"name": ""}).get_data(as_text=True)
    assert "This field is required." in page and _counts(session)[0] == 1
    assert login_as("buyer").get("/chains/new").status_code == 403
    assert login_as("ketua_a").post("/chains/new", data={"name": "Punya saya"}).status_code == 403
    response = client.get("/chains/new")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_edit_page_is_for_the_chains_managers(chain: SupplyChain, client: FlaskClient, login_as: Login) -> None:
    page = login_as("facilitator_a").get(EDIT).get_data(as_text=True)
    assert "Kupas kelapa" in page and "Arang tempurung" in page
    assert 'value="0,4375"' in page and 'value="1.000"' in page  # amounts and capacities as people write them
    assert "Add a KUBE" in page and "KUBE Kelapa A" in page
    assert 'id="process-' in page and "<script>" not in page and "style=" not in page
    for who in ("facilitator_b", "buyer", "ketua_a", "anggota_a"):
        assert login_as(who).get(EDIT).status_code == 403, who
    assert client.get(EDIT).status_code == 302
    assert login_as("operator").get("/chains/tidak-ada/edit").status_code == 404


def test_editing_the_chain(session: Session, chain: SupplyChain, login_as: Login) -> None:
    editor = login_as("facilitator_a")
    response = editor.post(EDIT, data={"chain-name": "Kelapa Batui", "chain-description": "Baru",
                                       "chain-province_code": "72", "chain-regency_code": "72.01"})
    assert response.status_code == 302
    session.expire_all()
    assert services.chain_by_slug(session, CHAIN_SLUG).name == "Kelapa Batui"
    page = editor.post(EDIT, data={"chain-name": "", "chain-province_code": "72"}).get_data(as_text=True)
    assert "This field is required." in page and re.search(r"<details[^>]*chain-edit[^>]*open", page)


def test_processes_flows_and_kubes_through_the_page(session: Session, world: World, chain: SupplyChain,
                                                    login_as: Login) -> None:
    editor = login_as("facilitator_a")
    base = f"/chains/{CHAIN_SLUG}/processes"
    response = editor.post(base, data={"np-name": "Serat sabut", "np-yield_source": "75 %"})
    assert response.status_code == 302
    fibre = _pid(session, "serat-sabut")
    assert response.headers["Location"] == f"{EDIT}#process-{fibre}"
    assert "The process is added." in editor.get(EDIT).get_data(as_text=True)
    # The fibre takes the husk in by its name, and makes fibre at a chain price.
    assert editor.post(f"{base}/{fibre}/flows", data={
        f"nf{fibre}-direction": "in", f"nf{fibre}-item_name": "Sabut kelapa", f"nf{fibre}-unit": "kg",
        f"nf{fibre}-amount": "1"}).status_code == 302
    assert editor.post(f"{base}/{fibre}/flows", data={
        f"nf{fibre}-direction": "out", f"nf{fibre}-item_name": "Serat sabut", f"nf{fibre}-unit": "kg",
        f"nf{fibre}-amount": "0,75", f"nf{fibre}-price": "3.000"}).status_code == 302
    flow = session.scalars(select(ProcessFlow).where(ProcessFlow.item == "serat-sabut")).one()
    assert (str(flow.amount), flow.price) == ("0.750000", 3000)
    assert editor.post(f"{base}/{fibre}/flows/{flow.id}", data={
        f"f{flow.id}-direction": "out", f"f{flow.id}-item_name": "Serat sabut", f"f{flow.id}-item": "serat-sabut",
        f"f{flow.id}-unit": "kg", f"f{flow.id}-amount": "0.8", f"f{flow.id}-price": ""}).status_code == 302
    session.expire_all()
    changed = session.get(ProcessFlow, flow.id)
    assert changed is not None and (str(changed.amount), changed.price) == ("0.800000", None)
    assert editor.post(f"{base}/{fibre}/kubes", data={f"a{fibre}-kube": world.kube_a.slug,
                                                      f"a{fibre}-capacity": "250"}).status_code == 302
    assert editor.post(f"{base}/{fibre}/kubes/{world.kube_a.id}",
                       data={f"k{fibre}-{world.kube_a.id}-capacity": "300,5"}).status_code == 302
    session.expire_all()
    link = session.scalars(select(ProcessKube).where(ProcessKube.process_id == fibre)).one()
    assert str(link.capacity_per_week) == "300.500000"
    assert editor.post(f"{base}/{fibre}", data={f"p{fibre}-name": "Serat", f"p{fibre}-key": "serat",
                                                f"p{fibre}-position": "4", f"p{fibre}-whole_runs": "y"}
                       ).status_code == 302
    session.expire_all()
    process = session.get(ChainProcess, fibre)
    assert process is not None and (process.key, process.position, process.whole_runs) == ("serat", 4, True)
    assert editor.post(f"{base}/{fibre}/kubes/{world.kube_a.id}/delete").status_code == 302
    assert editor.post(f"{base}/{fibre}/flows/{flow.id}/delete").status_code == 302
    assert editor.post(f"{base}/{fibre}/delete").status_code == 302
    assert _counts(session) == (1, 2, 5, 1)


def test_a_refused_form_comes_back_as_typed(session: Session, chain: SupplyChain, login_as: Login) -> None:
    editor = login_as("facilitator_a")
    arang = _pid(session, "arang")
    before = _counts(session)
    typed = {f"nf{arang}-direction": "out", f"nf{arang}-item_name": "Kelapa butir", f"nf{arang}-unit": "butir",
             f"nf{arang}-amount": "0,01"}
    response = editor.post(f"/chains/{CHAIN_SLUG}/processes/{arang}/flows", data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "would go round in a circle" in page and 'value="0,01"' in page  # the error, on the form as typed
    response = editor.post(f"/chains/{CHAIN_SLUG}/processes/{arang}/flows",
                           data={**typed, f"nf{arang}-item_name": "Abu", f"nf{arang}-amount": "banyak"})
    assert "Enter a number, e.g. 0,4375 or 6.000." in response.get_data(as_text=True)
    kupas = _pid(session, "kupas")
    response = editor.post(f"/chains/{CHAIN_SLUG}/processes/{kupas}", data={f"p{kupas}-name": "Kupas",
                                                                            f"p{kupas}-key": "arang"})
    assert "already has the code arang" in response.get_data(as_text=True)
    assert _counts(session) == before


def test_a_facilitator_cannot_place_another_ones_kube(session: Session, world: World, chain: SupplyChain,
                                                      login_as: Login) -> None:
    arang = _pid(session, "arang")
    page = login_as("facilitator_a").get(EDIT).get_data(as_text=True)
    assert world.kube_b.slug not in page  # the list holds the KUBEs facilitator A accompanies only
    response = login_as("facilitator_a").post(f"/chains/{CHAIN_SLUG}/processes/{arang}/kubes",
                                              data={f"a{arang}-kube": world.kube_b.slug, f"a{arang}-capacity": "5"})
    assert response.status_code == 403
    assert world.kube_b.slug in login_as("operator").get(EDIT).get_data(as_text=True)
    assert _counts(session)[3] == 1


def test_forms_without_their_csrf_token_are_refused(csrf_app: Flask, session: Session) -> None:
    world = factories.build_world(session)
    factories.make_chain(session, world)
    session.commit()
    client = csrf_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    client.post("/auth/login", data={"email": world.operator.email, "password": factories.PASSWORD,
                                     "csrf_token": token.group(1)})
    kupas = _pid(session, "kupas")
    before = _counts(session)
    posts: list[tuple[str, dict[str, Any]]] = [
        ("/chains/new", {"name": "Rantai"}),
        (EDIT, {"chain-name": "Diubah"}),
        (f"/chains/{CHAIN_SLUG}/processes", {"np-name": "Baru"}),
        (f"/chains/{CHAIN_SLUG}/processes/{kupas}/delete", {}),
        (f"/chains/{CHAIN_SLUG}/processes/{kupas}/kubes/{world.kube_a.id}/delete", {}),
        (f"/chains/{CHAIN_SLUG}/sell?sabut=100", {"process": "kupas", "item": "tempurung",
                                                  "kube": str(world.kube_a.id)}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 400, url
    assert _counts(session) == before
    # With the token from the page, the same form goes through.
    page = client.get(EDIT).get_data(as_text=True)
    token = re.search(r'name="np-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    response = client.post(f"/chains/{CHAIN_SLUG}/processes", data={"np-name": "Baru",
                                                                    "np-csrf_token": token.group(1)})
    assert response.status_code == 302 and _counts(session)[1] == 3


def test_signed_out_visitors_are_sent_to_sign_in(chain: SupplyChain, client: FlaskClient, session: Session) -> None:
    for url in (EDIT, f"/chains/{CHAIN_SLUG}/processes", f"/chains/{CHAIN_SLUG}/sell"):
        response = client.post(url, data={})
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url


def test_a_disabled_facilitator_is_refused(session: Session, world: World, chain: SupplyChain,
                                           app: Flask) -> None:
    client = login(app.test_client(), world.facilitator_a.email)
    world.facilitator_a.is_disabled = True
    session.commit()
    assert client.get(EDIT).status_code in (302, 403)


def test_the_open_contracts_demand_fills_the_plan(client: FlaskClient, session: Session, tmp_path: Path) -> None:
    """The demo's contracts: soap 200 kg and coconut water 300 L a week, charcoal 50 kg a month. The water is
    an intermediate item (the bottling KUBE takes it too), so it gets its own field in the form."""
    load_demo(session, tmp_path / "media", image_scale=0.1, history=False)
    session.commit()
    assert client.get("/chains/kelapa-terpadu-banggai?from=contracts&period=week").status_code == 403
    login(client, "pendamping@pasarkube.test", "pasarkube-demo")  # the Banggai KUBEs' facilitator
    week = client.get("/chains/kelapa-terpadu-banggai?from=contracts&period=week")
    assert week.status_code == 302
    target = week.headers["Location"]
    assert "sabun-kelapa=200" in target and "air-kelapa=300" in target and "arang-tempurung=11%2C538" in target
    html = client.get(target).get_data(as_text=True)
    assert 'name="air-kelapa"' in html and 'value="300"' in html and "1.115" in html  # nuts to split
    month = client.get("/chains/kelapa-terpadu-banggai?from=contracts&period=month").headers["Location"]
    assert "arang-tempurung=50&" in month and "period=month" in month
