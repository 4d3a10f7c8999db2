"""The sourcing pages: the order taker's dashboard, requests and quotes, contracts and deliveries, a KUBE's
sourcing page and its lots, the public trace of a lot, contract payments and a chain's revenue."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import KubeStatus
from marketplace.chains.models import ChainProcess, ProcessFlow, ProcessKube, SupplyChain
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.sourcing import services
from marketplace.sourcing.models import (
    ContractDelivery,
    ContractStatus,
    DeliveryStatus,
    Lot,
    Quote,
    QuoteStatus,
    RequestStatus,
    SourcingRequest,
    SupplyContract,
)
from marketplace.sourcing.views import quantity
from tests import factories
from tests.conftest import login
from tests.factories import World
from tests.sourcing import support

Login = Callable[[str], FlaskClient]

# These tests check the English texts; tests/test_translations.py checks the Indonesian ones.
pytestmark = pytest.mark.usefixtures("english")
A = "/my-kube/kube-kelapa-a"
TODAY = date.today()


def _html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.status_code
    html: str = response.get_data(as_text=True)
    assert "<script>" not in html and 'style="' not in html  # strict CSP: no inline script or style
    return html


def _count(session: Session, model: type[Any]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _refresh(session: Session, obj: Any) -> Any:
    session.expire_all()
    return session.get(type(obj), obj.id)


# --- Small pieces ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [
    (Decimal("1500.000"), "1.500"), (Decimal("2.500"), "2,5"), (Decimal("0.125"), "0,125"),
    (Decimal("1234567.5"), "1.234.567,5"), (Decimal(0), "0"), (12, "12"), (None, ""),
])
def test_quantities_are_written_the_indonesian_way(value: Decimal | int | None, shown: str) -> None:
    assert quantity(value) == shown
    if value:  # and the services read them back
        assert services.parse_quantity(shown, field="q") == Decimal(value)


def test_the_menu_links_to_sourcing(world: World, login_as: Login) -> None:
    assert 'href="/sourcing"' in _html(login_as("order_taker").get("/"))
    html = _html(login_as("buyer").get("/"))
    assert 'href="/sourcing/requests"' in html and 'href="/sourcing"' not in html


# --- The order taker's dashboard ------------------------------------------------------------------------


def test_the_dashboard_shows_requests_quotes_contracts_and_deliveries(session: Session, world: World,
                                                                      login_as: Login) -> None:
    waiting = support.post_request(session, world.order_taker, item_name="Sabut kelapa")
    quote = support.quote_of_a(session, world, waiting, price=7_500)
    late = support.late_contract_of_a(session, world)
    sent = support.contract_of_a(session, world, item_name="Minyak kelapa")
    lot = support.lot_of_a(session, world, item_name="Minyak kelapa")
    delivery = support.deliver(session, world, sent, lot, quantity="40")
    session.commit()
    html = _html(login_as("order_taker").get("/sourcing"))
    assert "PT Sabun Ekspor" in html and "My open requests" in html
    assert "Sabut kelapa" in html and "1 quote" in html
    # The quote waiting, with its buttons back to the dashboard
    assert "Rp7.500" in html and "KUBE Kelapa A" in html
    assert f'action="/sourcing/requests/{waiting.id}/quotes/{quote.id}/accept"' in html
    assert f'action="/sourcing/requests/{waiting.id}/quotes/{quote.id}/decline"' in html
    assert 'name="next" value="/sourcing"' in html
    # Late deliveries are highlighted; those due this week listed
    assert late.code in html and "list-group-item-danger" in html and "Late" in html and "This week" in html
    # What the KUBE sent, to confirm
    assert "Deliveries to confirm" in html and lot.code in html
    assert f'action="/sourcing/contracts/{sent.id}/deliveries/{delivery.id}/received"' in html
    assert "Rp800.000" in html  # 40 kg at Rp20.000


def test_others_learn_how_to_become_an_order_taker(world: World, login_as: Login, client: FlaskClient) -> None:
    html = _html(login_as("buyer").get("/sourcing"))
    assert 'href="/auth/profile#company-form"' in html and 'href="/sourcing/requests"' in html
    response = client.get("/sourcing")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- The requests board ---------------------------------------------------------------------------------


def test_the_board_is_public_and_filters_by_province(session: Session, world: World, client: FlaskClient) -> None:
    support.post_request(session, world.order_taker, item_name="Arang Sulawesi", province="72")
    support.post_request(session, world.order_taker, item_name="Sabut Jawa Barat", province="32")
    closed = support.post_request(session, world.order_taker, item_name="Sudah tutup")
    services.close_request(session, world.order_taker, closed.id)
    session.commit()
    html = _html(client.get("/sourcing/requests"))
    assert "Arang Sulawesi" in html and "Sabut Jawa Barat" in html and "Sudah tutup" not in html
    assert "PT Sabun Ekspor" in html and "100 kg</span> per delivery" in html and "Rp18.000" in html
    html = _html(client.get("/sourcing/requests?province=32"))
    assert "Sabut Jawa Barat" in html and "Arang Sulawesi" not in html
    assert "Arang Sulawesi" in _html(client.get("/sourcing/requests?province=zz"))  # junk: unfiltered


# --- A new request --------------------------------------------------------------------------------------


def _request_form(**changes: str) -> dict[str, str]:
    form = {"item_name": "Arang tempurung", "item": "", "quantity": "1.500", "unit": "kg", "schedule": "weekly",
            "starts_on": (TODAY + timedelta(days=7)).isoformat(), "until": (TODAY + timedelta(days=60)).isoformat(),
            "target_price": "5.500", "province_code": "72", "regency_code": "72.01", "note": "Kering, < 8 % air"}
    form.update(changes)
    return form


def test_an_order_taker_posts_a_request(session: Session, world: World, login_as: Login) -> None:
    client = login_as("order_taker")
    html = _html(client.get("/sourcing/requests/new"))
    assert 'name="item_name"' in html and '<option value="kg">kg</option>' in html and 'value="butir"' in html
    response = client.post("/sourcing/requests/new", data=_request_form())
    request = session.scalars(select(SourcingRequest)).one()
    assert response.status_code == 302 and response.headers["Location"] == f"/sourcing/requests/{request.id}"
    assert (request.item, request.item_name, request.quantity, request.unit) == (
        "arang-tempurung", "Arang tempurung", Decimal(1500), "kg")
    assert (request.target_price, request.province_code, request.regency_code) == (5500, "72", "72.01")
    assert request.until == TODAY + timedelta(days=60) and request.order_taker_id == world.order_taker.id
    html = _html(client.get(response.headers["Location"]))
    assert "Your request is posted" in html and "1.500 kg" in html and "Kabupaten Banggai" in html


def test_a_request_for_a_chain_product(session: Session, world: World, login_as: Login) -> None:
    support.make_chain(session, world)
    session.commit()
    client = login_as("order_taker")
    assert 'value="kelapa-uji/arang-tempurung"' in _html(client.get("/sourcing/requests/new"))
    response = client.post("/sourcing/requests/new", data=_request_form(item_name="", item="kelapa-uji/arang-tempurung",
                                                                       unit="pcs"))
    assert response.status_code == 302
    request = session.scalars(select(SourcingRequest)).one()
    assert (request.item, request.item_name, request.unit, request.chain_id is not None) == (
        "arang-tempurung", "Arang tempurung", "kg", True)


@pytest.mark.parametrize(("changes", "message"), [
    ({"quantity": "banyak"}, "Enter a number, e.g. 0,4375 or 6.000."),
    ({"starts_on": (TODAY - timedelta(days=1)).isoformat()}, "The first delivery cannot be in the past."),
    ({"province_code": ""}, "Choose a province."),
    ({"item_name": ""}, "This field is required."),
    ({"item": "kelapa-uji/emas"}, "Supply chain not found."),
])
def test_bad_requests_come_back_with_the_error(session: Session, world: World, login_as: Login,
                                               changes: dict[str, str], message: str) -> None:
    response = login_as("order_taker").post("/sourcing/requests/new", data=_request_form(**changes))
    if changes.get("item"):  # an unknown chain: nothing on the form can fix it
        assert response.status_code == 404
    else:
        assert message in _html(response)
    assert _count(session, SourcingRequest) == 0


def test_the_region_picker_lists_the_province_s_kabupaten(session: Session, world: World, login_as: Login) -> None:
    html = _html(login_as("order_taker").post("/sourcing/requests/new",
                                              data=_request_form(regency_code="", refresh_regions="1")))
    assert '<option value="72.01">Kabupaten Banggai</option>' in html and "This field is required" not in html
    assert _count(session, SourcingRequest) == 0


@pytest.mark.parametrize("who", ["buyer", "ketua_a", "operator"])
def test_only_order_takers_post_requests(session: Session, world: World, login_as: Login, who: str) -> None:
    client = login_as(who)
    assert client.get("/sourcing/requests/new").status_code == 403
    assert client.post("/sourcing/requests/new", data=_request_form()).status_code == 403
    assert _count(session, SourcingRequest) == 0


def test_the_request_form_needs_its_csrf_token(csrf_app: Flask, session: Session) -> None:
    world = factories.build_world(session)
    session.commit()
    client = csrf_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    client.post("/auth/login", data={"email": world.order_taker.email, "password": factories.PASSWORD,
                                     "csrf_token": token.group(1)})
    assert client.post("/sourcing/requests/new", data=_request_form()).status_code == 400
    assert _count(session, SourcingRequest) == 0
    page = client.get("/sourcing/requests/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    assert client.post("/sourcing/requests/new", data={**_request_form(), "csrf_token": token.group(1)}
                       ).status_code == 302
    assert _count(session, SourcingRequest) == 1


# --- A request and its quotes ---------------------------------------------------------------------------


def test_who_sees_which_quotes(session: Session, world: World, login_as: Login, client: FlaskClient) -> None:
    request = support.post_request(session, world.order_taker)
    support.quote_of_a(session, world, request, price=19_000)
    services.make_quote(session, world.ketua_b, request.id, price_per_unit=21_000, quantity="50",
                        kube_id=world.kube_b.id)
    session.commit()
    url = f"/sourcing/requests/{request.id}"
    html = _html(client.get(url))  # public
    assert "Arang tempurung" in html and "PT Sabun Ekspor" in html
    assert "Rp19.000" not in html and "Rp21.000" not in html and 'name="price_per_unit"' not in html
    for who in ("order_taker", "operator"):
        html = _html(login_as(who).get(url))
        assert "Rp19.000" in html and "Rp21.000" in html
    html = _html(login_as("order_taker").get(url))
    assert html.count("/accept\"") == 2 and 'name="price_per_unit"' not in html
    html = _html(login_as("ketua_a").get(url))  # its own quote, and the form to quote again
    assert "Rp19.000" in html and "Rp21.000" not in html and "/withdraw\"" in html
    assert f'<option value="kube:{world.kube_a.id}">KUBE Kelapa A</option>' in html
    html = _html(login_as("anggota_a").get(url))  # members who are not officers do not quote
    assert "Rp19.000" not in html and 'name="price_per_unit"' not in html


def test_an_officer_quotes_for_the_kube(session: Session, world: World, login_as: Login) -> None:
    request = support.post_request(session, world.order_taker)
    session.commit()
    client = login_as("ketua_a")
    url = f"/sourcing/requests/{request.id}/quotes"
    data = {"quote_for": f"kube:{world.kube_a.id}", "price_per_unit": "17.500", "quantity": "2,5", "note": "Kering"}
    response = client.post(url, data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("#quotes")
    quote = session.scalars(select(Quote)).one()
    assert (quote.kube_id, quote.price_per_unit, quote.quantity, quote.note) == (
        world.kube_a.id, 17_500, Decimal("2.5"), "Kering")
    # A second quote while the first is offered: the form says why
    html = _html(client.post(url, data=data))
    assert "This KUBE already has a quote on this request" in html
    assert _count(session, Quote) == 1


def test_a_bad_quote_comes_back_with_the_error(session: Session, world: World, login_as: Login) -> None:
    request = support.post_request(session, world.order_taker)
    session.commit()
    client = login_as("ketua_a")
    url = f"/sourcing/requests/{request.id}/quotes"
    html = _html(client.post(url, data={"quote_for": f"kube:{world.kube_a.id}", "price_per_unit": "murah",
                                        "quantity": "10"}))
    assert "Enter a whole number." in html and "is-invalid" in html
    html = _html(client.post(url, data={"quote_for": f"kube:{world.kube_a.id}", "price_per_unit": "20000",
                                        "quantity": "101"}))
    assert "At most the quantity asked for." in html
    assert _count(session, Quote) == 0
    # For a KUBE the user is no officer of: refused
    response = login_as("anggota_a").post(url, data={"quote_for": f"kube:{world.kube_a.id}",
                                                     "price_per_unit": "20000", "quantity": "10"})
    assert response.status_code == 403 and _count(session, Quote) == 0


def test_the_order_taker_accepts_a_quote(session: Session, world: World, login_as: Login) -> None:
    request = support.post_request(session, world.order_taker)
    quote = support.quote_of_a(session, world, request)
    session.commit()
    response = login_as("order_taker").post(f"/sourcing/requests/{request.id}/quotes/{quote.id}/accept")
    contract = session.scalars(select(SupplyContract)).one()
    assert response.status_code == 302 and response.headers["Location"] == f"/sourcing/contracts/{contract.id}"
    assert (contract.price_per_unit, contract.quantity, contract.fee_bps) == (20_000, Decimal(100), 200)
    assert _refresh(session, request).status == RequestStatus.CLOSED  # the quote covers the whole quantity


def test_another_order_taker_cannot_accept(session: Session, world: World, app: Flask) -> None:
    support.make_order_taker(session, "other_taker")
    request = support.post_request(session, world.order_taker)
    quote = support.quote_of_a(session, world, request)
    session.commit()
    client = login(app.test_client(), factories.email_of("other_taker"))
    for verb in ("accept", "decline"):
        assert client.post(f"/sourcing/requests/{request.id}/quotes/{quote.id}/{verb}").status_code == 403
    assert client.post(f"/sourcing/requests/{request.id}/close").status_code == 403
    assert _refresh(session, quote).status == QuoteStatus.OFFERED and _count(session, SupplyContract) == 0


def test_decline_withdraw_and_a_quote_of_another_request(session: Session, world: World, login_as: Login) -> None:
    request = support.post_request(session, world.order_taker)
    other = support.post_request(session, world.order_taker, item_name="Sabut")
    first = support.quote_of_a(session, world, request)
    session.commit()
    taker = login_as("order_taker")
    assert taker.post(f"/sourcing/requests/{other.id}/quotes/{first.id}/accept").status_code == 404
    response = taker.post(f"/sourcing/requests/{request.id}/quotes/{first.id}/decline", data={"next": "/sourcing"})
    assert response.status_code == 302 and response.headers["Location"] == "/sourcing"
    assert _refresh(session, first).status == QuoteStatus.DECLINED
    second = support.quote_of_a(session, world, _refresh(session, request))
    session.commit()
    ketua = login_as("ketua_a")
    response = ketua.post(f"/sourcing/requests/{request.id}/quotes/{second.id}/withdraw",
                          data={"next": f"{A}/sourcing#quotes"})
    assert response.status_code == 302 and response.headers["Location"] == f"{A}/sourcing#quotes"
    assert _refresh(session, second).status == QuoteStatus.WITHDRAWN
    # Already decided: said on the page it goes back to
    response = ketua.post(f"/sourcing/requests/{request.id}/quotes/{second.id}/withdraw", follow_redirects=True)
    assert "This quote was already decided." in _html(response)


@pytest.mark.parametrize(("verb", "status"), [("close", RequestStatus.CLOSED), ("cancel", RequestStatus.CANCELLED)])
def test_the_order_taker_closes_or_cancels_a_request(session: Session, world: World, login_as: Login,
                                                     verb: str, status: RequestStatus) -> None:
    request = support.post_request(session, world.order_taker)
    quote = support.quote_of_a(session, world, request)
    session.commit()
    html = _html(login_as("order_taker").get(f"/sourcing/requests/{request.id}"))
    assert f'action="/sourcing/requests/{request.id}/{verb}"' in html
    response = login_as("order_taker").post(f"/sourcing/requests/{request.id}/{verb}")
    assert response.status_code == 302
    assert _refresh(session, request).status == status and _refresh(session, quote).status == QuoteStatus.DECLINED
    assert login_as("ketua_a").post(f"/sourcing/requests/{request.id}/close").status_code == 403


# --- A contract -----------------------------------------------------------------------------------------


def test_the_contract_page_for_its_parties(session: Session, world: World, login_as: Login) -> None:
    contract = support.late_contract_of_a(session, world)
    lot = support.lot_of_a(session, world)
    support.deliver(session, world, contract, lot, quantity="60", due_on=contract.starts_on)
    session.commit()
    url = f"/sourcing/contracts/{contract.id}"
    html = _html(login_as("order_taker").get(url))
    assert contract.code in html and "Rp20.000" in html and "Every week" in html
    assert html.count("table-danger") == 2  # the first date is short of 40 kg, the second not delivered at all
    assert "2 deliveries are late." in html and "Rp1.200.000" in html and lot.code in html
    assert "Received" in html and "End the contract" in html and "Record a delivery" not in html
    for who in ("anggota_a", "ketua_a", "facilitator_a", "operator"):
        assert contract.code in _html(login_as(who).get(url))
    html = _html(login_as("anggota_a").get(url))
    assert "Record a delivery" in html and "End the contract" not in html
    assert f'<option value="{lot.code}">' in html and "440 kg left" in html  # 500 made, 60 sent
    assert f'<option value="{contract.starts_on.isoformat()}">' in html and "40 kg to deliver" in html
    assert "End the contract" in _html(login_as("ketua_a").get(url))


@pytest.mark.parametrize("who", ["buyer", "ketua_b", "facilitator_b"])
def test_outsiders_do_not_see_a_contract(session: Session, world: World, login_as: Login, who: str) -> None:
    contract = support.contract_of_a(session, world)
    session.commit()
    assert login_as(who).get(f"/sourcing/contracts/{contract.id}").status_code == 404


def test_a_member_records_a_delivery(session: Session, world: World, login_as: Login) -> None:
    contract = support.contract_of_a(session, world)
    lot = support.lot_of_a(session, world)
    session.commit()
    url = f"/sourcing/contracts/{contract.id}/deliveries"
    data = {"lot_code": lot.code, "due_on": contract.starts_on.isoformat(), "quantity": "40",
            "delivered_on": TODAY.isoformat()}
    response = login_as("anggota_a").post(url, data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("#deliveries")
    delivery = session.scalars(select(ContractDelivery)).one()
    assert (delivery.lot_id, delivery.quantity, delivery.amount, delivery.status) == (
        lot.id, Decimal(40), 800_000, DeliveryStatus.SENT)


def test_a_bad_delivery_comes_back_with_the_error(session: Session, world: World, login_as: Login) -> None:
    contract = support.contract_of_a(session, world)
    lot = support.lot_of_a(session, world)
    session.commit()
    url = f"/sourcing/contracts/{contract.id}/deliveries"
    data = {"lot_code": lot.code, "due_on": contract.starts_on.isoformat(), "quantity": "150"}
    html = _html(login_as("anggota_a").post(url, data=data))
    assert "At most 100 kg is still due on that date." in html and "is-invalid" in html
    html = _html(login_as("anggota_a").post(url, data={**data, "quantity": "10", "due_on": "2000-01-01"}))
    assert "Choose one of the contract&#39;s delivery dates." in html
    assert _count(session, ContractDelivery) == 0


def test_a_member_of_another_kube_cannot_deliver(session: Session, world: World, login_as: Login) -> None:
    contract = support.contract_of_a(session, world)
    lot_b = services.record_lot(session, world.ketua_b, services.LotInput(
        kube_id=world.kube_b.id, item="", item_name="Arang tempurung", unit="kg", quantity="100", made_on=TODAY))
    lot_a = support.lot_of_a(session, world)
    session.commit()
    url = f"/sourcing/contracts/{contract.id}/deliveries"
    for code in (lot_b.code, lot_a.code):
        response = login_as("ketua_b").post(url, data={"lot_code": code, "due_on": contract.starts_on.isoformat(),
                                                       "quantity": "10"})
        assert response.status_code == 404
    # The order taker reads the contract but delivers nothing
    response = login_as("order_taker").post(url, data={"lot_code": lot_a.code, "quantity": "10",
                                                       "due_on": contract.starts_on.isoformat()})
    assert response.status_code == 403
    assert _count(session, ContractDelivery) == 0


def test_the_order_taker_confirms_a_delivery_and_ends_the_contract(session: Session, world: World,
                                                                   login_as: Login) -> None:
    contract = support.contract_of_a(session, world, schedule="weekly", until=TODAY + timedelta(days=21))
    lot = support.lot_of_a(session, world)
    delivery = support.deliver(session, world, contract, lot)
    session.commit()
    url = f"/sourcing/contracts/{contract.id}/deliveries/{delivery.id}/received"
    assert login_as("ketua_a").post(url).status_code == 403
    assert _refresh(session, delivery).status == DeliveryStatus.SENT
    response = login_as("order_taker").post(url)
    assert response.status_code == 302 and _refresh(session, delivery).status == DeliveryStatus.RECEIVED
    assert login_as("anggota_a").post(f"/sourcing/contracts/{contract.id}/cancel").status_code == 403
    response = login_as("order_taker").post(f"/sourcing/contracts/{contract.id}/cancel")
    assert response.status_code == 302 and _refresh(session, contract).status == ContractStatus.CANCELLED
    html = _html(login_as("anggota_a").get(f"/sourcing/contracts/{contract.id}"))
    assert "Record a delivery" not in html and "Late" not in html


# --- The KUBE's sourcing page ---------------------------------------------------------------------------


def test_the_kube_page_for_its_members(session: Session, world: World, login_as: Login) -> None:
    open_request = support.post_request(session, world.order_taker, item_name="Sabut kelapa")
    support.quote_of_a(session, world, open_request, price=3_000)
    contract = support.late_contract_of_a(session, world)
    lot = support.lot_of_a(session, world, quantity="1500")
    support.deliver(session, world, contract, lot, quantity="100", due_on=contract.starts_on)
    session.commit()
    html = _html(login_as("anggota_a").get(f"{A}/sourcing"))
    assert f'href="{A}/sourcing"' in html and "nav-link active" in html  # the tab
    assert contract.code in html and "Late" in html and "list-group-item-danger" in html
    assert "Sabut kelapa" in html and "Rp3.000" in html and "The KUBE's officers send its quotes." in html
    assert lot.code in html and "1.500 kg" in html and "1.400 kg" in html  # made, and left
    assert "Record a lot" in html and 'name="sources-4-lot_code"' in html
    html = _html(login_as("ketua_a").get(f"{A}/sourcing"))
    assert f"/sourcing/requests/{open_request.id}#quote" in html and "/withdraw\"" in html
    assert f'href="{A}/sourcing"' in _html(login_as("ketua_a").get(A))  # from the KUBE dashboard


@pytest.mark.parametrize(("who", "status"), [("ketua_b", 403), ("buyer", 403)])
def test_the_kube_page_is_for_members(session: Session, world: World, login_as: Login, who: str,
                                      status: int) -> None:
    assert login_as(who).get(f"{A}/sourcing").status_code == status


def test_its_facilitator_reads_the_kube_page_but_records_no_lot(session: Session, world: World,
                                                                 login_as: Login) -> None:
    html = _html(login_as("facilitator_a").get(f"{A}/sourcing"))
    assert "Lots" in html and "Record a lot" not in html


def test_joint_products_of_one_run_are_one_batch(session: Session, world: World, login_as: Login) -> None:
    split = ChainProcess(key="kupas", name="Kupas kelapa", position=0, whole_runs=True)
    split.flows = [ProcessFlow(direction="in", item="kelapa-butir", item_name="Kelapa butir", unit="butir",
                               amount=Decimal(1)),
                   ProcessFlow(direction="out", item="tempurung", item_name="Tempurung", unit="kg",
                               amount=Decimal("0.15")),
                   ProcessFlow(direction="out", item="daging-kelapa", item_name="Daging kelapa", unit="kg",
                               amount=Decimal("0.35"))]
    split.kubes = [ProcessKube(kube_id=world.kube_a.id, capacity_per_week=Decimal(500))]
    session.add(SupplyChain(slug="kupas-uji", name="Kupas Uji", processes=[split]))
    nuts = support.lot_of_a(session, world, item_name="Kelapa butir", quantity="100")
    session.commit()
    client = login_as("anggota_a")
    assert 'name="joint-2-output"' in _html(client.get(f"{A}/sourcing"))
    data = {"output": "kupas-uji/kupas/tempurung", "quantity": "15", "made_on": TODAY.isoformat(),
            "joint-0-output": "kupas-uji/kupas/daging-kelapa", "joint-0-quantity": "35,5",
            "sources-0-lot_code": nuts.code, "sources-0-quantity": "100"}
    html = _html(client.post(f"{A}/sourcing/lots", data={**data, "joint-0-output": "kelapa-uji/arang/arang"}))
    assert "Products made together come from the same process as the first one." in html
    assert _count(session, Lot) == 1
    response = client.post(f"{A}/sourcing/lots", data=data, follow_redirects=True)
    assert "are recorded" in _html(response)
    shell, meat = session.scalars(select(Lot).where(Lot.id != nuts.id).order_by(Lot.id)).all()
    assert (shell.item, meat.item, meat.quantity) == ("tempurung", "daging-kelapa", Decimal("35.5"))
    assert shell.batch == meat.batch == shell.code
    assert services.lot_remaining(session, nuts) == 0  # the nuts count once for the batch


def test_a_member_records_a_lot_from_other_lots(session: Session, world: World, login_as: Login) -> None:
    source = support.lot_of_a(session, world, item_name="Tempurung", quantity="200")
    session.commit()
    data = {"output": "", "item_name": "Arang tempurung", "unit": "kg", "quantity": "60",
            "made_on": TODAY.isoformat(), "sources-0-lot_code": source.code.lower(), "sources-0-quantity": "200",
            "note": "Bakar 3 jam"}
    response = login_as("anggota_a").post(f"{A}/sourcing/lots", data=data)
    assert response.status_code == 302 and response.headers["Location"] == f"{A}/sourcing#lots"
    lot = session.scalars(select(Lot).where(Lot.id != source.id)).one()
    assert (lot.item, lot.quantity, lot.kube_id, lot.note) == ("arang-tempurung", Decimal(60), world.kube_a.id,
                                                               "Bakar 3 jam")
    assert [(s.source_lot_id, s.quantity) for s in lot.sources] == [(source.id, Decimal(200))]


def test_a_lot_of_a_chain_process(session: Session, world: World, login_as: Login) -> None:
    support.make_chain(session, world)
    shell = services.record_lot(session, world.ketua_b, services.LotInput(
        kube_id=world.kube_b.id, item="tempurung", quantity="100", made_on=TODAY, chain_slug=support.CHAIN,
        process_key="belah"))
    session.commit()
    client = login_as("anggota_a")
    html = _html(client.get(f"{A}/sourcing"))
    assert 'value="kelapa-uji/arang/arang-tempurung"' in html and "kelapa-uji/belah" not in html
    data = {"output": "kelapa-uji/arang/arang-tempurung", "unit": "kg", "quantity": "30",
            "made_on": TODAY.isoformat(), "sources-0-lot_code": shell.code, "sources-0-quantity": "100"}
    assert "was not handed over to this KUBE" in _html(client.post(f"{A}/sourcing/lots", data=data))
    handover = login_as("ketua_b").post(f"/my-kube/{world.kube_b.slug}/sourcing/lots/{shell.code}/handover",
                                        data={"kube": str(world.kube_a.id)})
    assert handover.status_code == 302
    response = client.post(f"{A}/sourcing/lots", data=data)
    assert response.status_code == 302
    lot = session.scalars(select(Lot).where(Lot.kube_id == world.kube_a.id)).one()
    assert (lot.item, lot.item_name, lot.chain_id is not None) == ("arang-tempurung", "Arang tempurung", True)


def test_a_bad_lot_comes_back_with_the_error(session: Session, world: World, login_as: Login) -> None:
    source = support.lot_of_a(session, world, item_name="Tempurung", quantity="50")
    session.commit()
    data = {"item_name": "Arang", "unit": "kg", "quantity": "10", "made_on": TODAY.isoformat(),
            "sources-0-lot_code": source.code, "sources-0-quantity": "80"}
    html = _html(login_as("anggota_a").post(f"{A}/sourcing/lots", data=data))
    assert f"Only 50 kg of lot {source.code} is left." in html
    html = _html(login_as("anggota_a").post(f"{A}/sourcing/lots", data={**data, "sources-0-quantity": "5",
                                                                        "made_on": "2999-01-01"}))
    assert "A lot cannot be made in the future." in html
    html = _html(login_as("anggota_a").post(f"{A}/sourcing/lots", data={**data, "sources-0-lot_code": "LOT-TIDAK"}))
    assert "No lot LOT-TIDAK." in html
    assert _count(session, Lot) == 1
    assert login_as("facilitator_a").post(f"{A}/sourcing/lots", data=data).status_code == 403
    assert _count(session, Lot) == 1


# --- The trace of a lot, payments and revenue -----------------------------------------------------------


def test_the_trace_of_a_lot_is_public(session: Session, world: World, client: FlaskClient,
                                      login_as: Login) -> None:
    contract, _delivery, shell, charcoal = support.paid_chain_delivery(session, world)
    session.commit()
    html = _html(client.get(f"/lots/{charcoal.code.lower()}"))
    assert f"Lot {charcoal.code}" in html and "30 kg" in html and "Kelapa Uji" in html
    assert f'href="/lots/{shell.code}"' in html
    assert '100 kg</span> used, of <span class="text-nowrap">100 kg</span> made' in html
    assert 'href="/kube/kube-anyaman-b"' in html and 'href="/kube/kube-kelapa-a"' in html  # both KUBEs
    assert "PT Sabun Ekspor" in html and contract.code not in html  # the contract is the parties' business
    assert contract.code in _html(login_as("order_taker").get(f"/lots/{charcoal.code}"))
    html = _html(client.get(f"/lots/{shell.code}"))  # forward: what it went into, and to whom
    assert f'href="/lots/{charcoal.code}"' in html and "100 kg</span> of this lot used" in html
    assert "PT Sabun Ekspor" in html
    assert client.get("/lots/LOT-TIDAKADA").status_code == 404
    assert client.get("/lots/" + "X" * 30).status_code == 404


def test_an_outsider_sees_no_name_of_a_kube_not_yet_public_nor_lot_notes(
        session: Session, world: World, client: FlaskClient, login_as: Login) -> None:
    world.kube_b.status = KubeStatus.DRAFT
    lot = services.record_lot(session, world.ketua_b, services.LotInput(
        kube_id=world.kube_b.id, item="", item_name="Tempurung", unit="kg", quantity="5", made_on=TODAY,
        note="Disimpan di rumah Bu Ani"))
    session.commit()
    html = _html(client.get(f"/lots/{lot.code}"))
    assert world.kube_b.name not in html and "Bu Ani" not in html and "a KUBE not yet verified" in html
    html = _html(login_as("ketua_b").get(f"/lots/{lot.code}"))
    assert world.kube_b.name in html and "Bu Ani" in html


def test_operators_record_contract_payments(session: Session, world: World, login_as: Login) -> None:
    contract = support.contract_of_a(session, world)
    lot = support.lot_of_a(session, world)
    delivery = support.deliver(session, world, contract, lot, quantity="40")
    session.commit()
    client = login_as("operator")
    html = _html(client.get("/admin/contract-payments"))
    assert contract.code in html and "Rp800.000" in html and "PT Sabun Ekspor" in html and lot.code in html
    # A missing reference: said, nothing paid
    html = _html(client.post("/admin/contract-payments", data={"delivery_id": str(delivery.id), "reference": ""}))
    assert "This field is required." in html
    assert _refresh(session, delivery).status == DeliveryStatus.SENT and _count(session, LedgerEntry) == 0
    response = client.post("/admin/contract-payments", data={"delivery_id": str(delivery.id), "reference": "BCA 9"})
    assert response.status_code == 302
    paid = _refresh(session, delivery)
    assert (paid.status, paid.payment_reference) == (DeliveryStatus.PAID, "BCA 9")
    entries = {e.kind: e.amount for e in session.scalars(select(LedgerEntry))}
    assert entries == {EntryKind.CONTRACT: 800_000, EntryKind.FEE: -16_000}
    assert "No delivery is waiting to be paid." in _html(client.get("/admin/contract-payments"))


@pytest.mark.parametrize("who", ["buyer", "order_taker", "ketua_a", "facilitator_a"])
def test_only_operators_record_contract_payments(session: Session, world: World, login_as: Login,
                                                  who: str) -> None:
    contract = support.contract_of_a(session, world)
    delivery = support.deliver(session, world, contract, support.lot_of_a(session, world))
    session.commit()
    client = login_as(who)
    assert client.get("/admin/contract-payments").status_code == 403
    response = client.post("/admin/contract-payments", data={"delivery_id": str(delivery.id), "reference": "X 1"})
    assert response.status_code == 403
    assert _refresh(session, delivery).status == DeliveryStatus.SENT and _count(session, LedgerEntry) == 0


def test_a_chain_s_revenue_by_kube(session: Session, world: World, login_as: Login, client: FlaskClient) -> None:
    support.paid_chain_delivery(session, world)
    session.commit()
    url = f"/chains/{support.CHAIN}/revenue"
    for who in ("ketua_b", "anggota_a", "facilitator_a", "operator"):
        html = _html(login_as(who).get(url))
        assert "Revenue by KUBE" in html and "KUBE Kelapa A" in html and "KUBE Anyaman B" in html
    # KUBE A sold 30 kg at Rp20.000 (fee 2 %) and paid KUBE B 100 kg of shell at Rp4.000
    assert "+Rp600.000" in html and "−Rp12.000" in html and "−Rp400.000" in html and "+Rp400.000" in html
    assert "+Rp188.000" in html and "+Rp588.000" in html  # A's net; and the total
    # The KUBEs' ledgers name the new lines; KUBE A's sourcing page links to the revenue
    assert "Lots sold within an integrated business" in _html(login_as("ketua_b").get("/my-kube/kube-anyaman-b/ledger"))
    html = _html(login_as("ketua_a").get(f"{A}/ledger"))
    assert "Delivery to an order taker" in html and "Lots bought within an integrated business" in html
    assert f'href="{url}"' in _html(login_as("anggota_a").get(f"{A}/sourcing"))
    for who in ("buyer", "order_taker"):
        assert login_as(who).get(url).status_code == 403
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert login_as("operator").get("/chains/tidak-ada/revenue").status_code == 404


# --- No query per row -----------------------------------------------------------------------------------


def test_the_dashboard_and_the_kube_page_run_a_fixed_number_of_queries(session: Session, world: World,
                                                                       login_as: Login, count_queries: Any) -> None:
    """The same pages with 1 or 3 contracts (each with a delivery, a request and a lot) issue the same
    number of statements."""
    clients = {"order_taker": login_as("order_taker"), "anggota_a": login_as("anggota_a")}

    def add(n: int) -> None:
        for _ in range(n):
            contract = support.late_contract_of_a(session, world)
            lot = support.lot_of_a(session, world)
            support.deliver(session, world, contract, lot, quantity="10", due_on=contract.starts_on)
            request = support.post_request(session, world.order_taker, item_name="Sabut")
            support.quote_of_a(session, world, request)
        session.commit()

    def measure() -> dict[str, int]:
        counts = {}
        for who, url in (("order_taker", "/sourcing"), ("anggota_a", f"{A}/sourcing")):
            with count_queries() as counter:
                _html(clients[who].get(url))
            counts[url] = counter.count
        return counts

    add(1)
    before = measure()
    add(2)
    assert measure() == before
    assert _count(session, SupplyContract) == 3


@pytest.mark.parametrize("key", ["sources-²-lot_code", "joint-٣-output", "sources-99999999999999-lot_code"])
def test_odd_row_numbers_in_the_lot_form_are_ignored(session: Session, world: World, login_as: Login,
                                                     key: str) -> None:
    data = {"item_name": "Arang", "unit": "kg", "quantity": "10", "made_on": TODAY.isoformat(), key: "x"}
    response = login_as("anggota_a").post(f"{A}/sourcing/lots", data=data)
    assert response.status_code == 302  # recorded, the odd row ignored
    assert _count(session, Lot) == 1
