"""The ledger pages: a KUBE's ledger for its people; balances and payouts for operators."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import KubeStatus
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerEntry, Payout
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.services import Delivery
from tests import factories
from tests.factories import World

Login = Callable[[str], FlaskClient]

# These tests check the English texts; tests/test_translations.py checks the Indonesian ones.
pytestmark = pytest.mark.usefixtures("english")
A = "/my-kube/kube-kelapa-a"


def _paid_orders(session: Session, world: World, count: int = 1, *, price: int = 100_000) -> list[Order]:
    """`count` paid pickup orders of KUBE A at a 2 % fee: a sale and a fee entry each."""
    product = factories.make_product(session, world.kube_a, world.category, price=price, stock=1000)
    paid = []
    for _ in range(count):
        checkout = orders.place_checkout(session, world.buyer, [(product.id, 1)], payment_method="manual",
                                         delivery=Delivery(), fee_bps=200)
        orders.confirm_payment(session, world.operator, checkout.id)
        paid.append(checkout.orders[0])
    session.commit()
    return paid


def _rows(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count(LedgerEntry.id))) or 0,
            session.scalar(select(func.count(Payout.id))) or 0)


def _clean_html(html: str) -> None:
    assert "<script>" not in html and 'style="' not in html  # strict CSP: no inline script or style


# --- The KUBE's page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a"])
def test_members_see_the_balance_and_the_entries(session: Session, world: World, login_as: Login,
                                                 who: str) -> None:
    (order,) = _paid_orders(session, world)
    ledger.record_payout(session, world.operator, world.kube_a.id, 50_000, "BRI 0042")
    session.commit()
    response = login_as(who).get(f"{A}/ledger")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    _clean_html(html)
    assert "Rp48.000" in html and "What the platform owes the KUBE" in html
    assert "+Rp100.000" in html and "−Rp2.000" in html and "−Rp50.000" in html
    assert "Sale" in html and "Platform fee" in html and "Payout to the KUBE" in html
    assert f'href="{A}/orders/{order.id}"' in html and "Ref. BRI 0042" in html
    assert f'href="{A}/ledger"' in html  # the tab
    # Bank details are for officers (and the facilitator and operators) only, and masked in the history.
    assert "0123456789012" not in html
    assert ("\u2022" * 9 + "9012" in html) == (who == "ketua_a")


def test_the_facilitator_reads_it_without_order_links(session: Session, world: World, login_as: Login) -> None:
    (order,) = _paid_orders(session, world)
    html = login_as("facilitator_a").get(f"{A}/ledger").get_data(as_text=True)
    assert "Rp98.000" in html and f"Order #{order.id}" in html
    assert f'href="{A}/orders/{order.id}"' not in html  # facilitators do not handle orders


def test_a_negative_balance_is_explained(session: Session, world: World, login_as: Login) -> None:
    checkout = orders.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual",
                                     fee_bps=200)
    ledger.record_cash(session, checkout.orders[0])
    session.commit()
    html = login_as("ketua_a").get(f"{A}/ledger").get_data(as_text=True)
    assert "-Rp600" in html and "The KUBE owes the platform Rp600" in html and "orders paid in cash" in html


def test_an_empty_ledger(world: World, login_as: Login) -> None:
    html = login_as("ketua_a").get(f"{A}/ledger").get_data(as_text=True)
    assert "No entries yet." in html and "The platform owes the KUBE nothing right now." in html


def test_the_ledger_is_paginated(session: Session, world: World, login_as: Login) -> None:
    _paid_orders(session, world, 26)  # 52 entries: two pages of 50
    client = login_as("ketua_a")
    first = client.get(f"{A}/ledger").get_data(as_text=True)
    assert "Page 1 of 2" in first and f'href="{A}/ledger?page=2"' in first
    second = client.get(f"{A}/ledger?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert len(re.findall(r'class="list-group-item', second)) == 2
    assert client.get(f"{A}/ledger?page=junk").status_code == 200


@pytest.mark.parametrize("who, status", [("ketua_b", 403), ("facilitator_b", 403), ("buyer", 403),
                                         ("order_taker", 403)])
def test_others_cannot_see_the_ledger(session: Session, world: World, login_as: Login, who: str,
                                      status: int) -> None:
    _paid_orders(session, world)
    client = login_as(who)
    assert client.get(f"{A}/ledger").status_code == status
    world.kube_a.status = KubeStatus.DRAFT  # not public: outsiders get "not found"
    session.commit()
    assert client.get(f"{A}/ledger").status_code == 404
    assert client.get("/my-kube/no-such-kube/ledger").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    for url in (f"{A}/ledger", "/admin/ledger", "/admin/ledger/kube-kelapa-a"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- Operator pages ---------------------------------------------------------------------------------


def test_operator_sees_every_balance(session: Session, world: World, login_as: Login) -> None:
    _paid_orders(session, world)
    world.kube_b.bank_name = None
    session.add(LedgerEntry(kube_id=world.kube_b.id, kind="cash", amount=-300))
    session.commit()
    response = login_as("operator").get("/admin/ledger")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    _clean_html(html)
    assert html.index("KUBE Kelapa A") < html.index("KUBE Anyaman B")  # largest balance first
    assert 'href="/admin/ledger/kube-kelapa-a"' in html and "Rp98.000" in html and "-Rp300" in html
    assert "Missing" in html  # KUBE B has no bank account
    assert 'href="/admin/ledger"' in login_as("operator").get("/admin/").get_data(as_text=True)  # in the menu


def test_operator_records_a_payout(session: Session, world: World, login_as: Login) -> None:
    _paid_orders(session, world)
    client = login_as("operator")
    page = client.get("/admin/ledger/kube-kelapa-a").get_data(as_text=True)
    _clean_html(page)
    assert "Record a payout" in page and "0123456789012" in page and "KUBE Kelapa A group" in page
    assert "The balance is Rp98.000." in page
    response = client.post("/admin/ledger/kube-kelapa-a", data={"amount": "90.000", "reference": "BRI 12345",
                                                                "note": "Pembayaran Juni"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/ledger/kube-kelapa-a"
    payout = session.scalar(select(Payout))
    assert payout is not None and (payout.amount, payout.reference, payout.note) == (
        90_000, "BRI 12345", "Pembayaran Juni")
    after = client.get("/admin/ledger/kube-kelapa-a").get_data(as_text=True)
    assert "The payout of Rp90.000 to KUBE Kelapa A is recorded." in after
    assert "Rp8.000" in after and "Ref. BRI 12345" in after and "recorded by Operator" in after


@pytest.mark.parametrize("data, message", [
    ({"amount": "98.001", "reference": "BRI 1"}, "At most the balance, Rp98.000, can be paid out."),
    ({"amount": "0", "reference": "BRI 1"}, "Enter the amount transferred, more than Rp0."),
    ({"amount": "-10", "reference": "BRI 1"}, "Enter the amount transferred, more than Rp0."),
    ({"amount": "abc", "reference": "BRI 1"}, "Enter a whole number."),
    ({"amount": "", "reference": "BRI 1"}, "This field is required."),
    ({"amount": "1000", "reference": ""}, "This field is required."),
])
def test_a_refused_payout_shows_on_the_form_and_saves_nothing(session: Session, world: World, login_as: Login,
                                                              data: dict[str, str], message: str) -> None:
    _paid_orders(session, world)
    before = _rows(session)
    response = login_as("operator").post("/admin/ledger/kube-kelapa-a", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "is-invalid" in html
    assert _rows(session) == before


def test_no_payout_without_a_bank_account(session: Session, world: World, login_as: Login) -> None:
    _paid_orders(session, world)
    world.kube_a.bank_account_number = ""
    session.commit()
    before = _rows(session)
    client = login_as("operator")
    page = client.get("/admin/ledger/kube-kelapa-a").get_data(as_text=True)
    assert "no bank account for payouts yet" in page
    response = client.post("/admin/ledger/kube-kelapa-a", data={"amount": "1000", "reference": "BRI 1"})
    assert response.status_code == 200 and "no bank account for payouts yet" in response.get_data(as_text=True)
    assert _rows(session) == before


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a", "facilitator_a", "buyer"])
def test_operator_pages_are_forbidden_to_others(session: Session, world: World, login_as: Login,
                                                who: str) -> None:
    _paid_orders(session, world)
    client = login_as(who)
    assert client.get("/admin/ledger").status_code == 403
    assert client.get("/admin/ledger/kube-kelapa-a").status_code == 403
    before = _rows(session)
    response = client.post("/admin/ledger/kube-kelapa-a", data={"amount": "1000", "reference": "BRI 1"})
    assert response.status_code == 403
    assert _rows(session) == before


# --- No query per row -------------------------------------------------------------------------------


def test_pages_run_a_fixed_number_of_queries(session: Session, world: World, login_as: Login,
                                             count_queries: Any) -> None:
    """The ledger pages with 3 or 20 entries (sales, fees, payouts) and the balances with 1 or 6 KUBEs
    issue the same number of statements."""
    clients = {"ketua_a": login_as("ketua_a"), "facilitator_a": login_as("facilitator_a"),
               "operator": login_as("operator")}

    def measure() -> dict[str, int]:
        pages = {"kube": ("ketua_a", f"{A}/ledger"), "facilitator": ("facilitator_a", f"{A}/ledger"),
                 "payouts": ("operator", f"/admin/ledger/{world.kube_a.slug}"),
                 "balances": ("operator", "/admin/ledger")}
        counts = {}
        for name, (who, url) in pages.items():
            with count_queries() as counter:
                assert clients[who].get(url).status_code == 200
            counts[name] = counter.count
        return counts

    _paid_orders(session, world, 1)
    ledger.record_payout(session, world.operator, world.kube_a.id, 1_000, "BRI 1")
    session.commit()
    before = measure()
    _paid_orders(session, world, 8)
    ledger.record_payout(session, world.operator, world.kube_a.id, 2_000, "BRI 2")
    for n in range(5):
        kube = factories.make_kube(session, f"KUBE Lain {n}")
        session.add(LedgerEntry(kube_id=kube.id, kind="cash", amount=-100 * (n + 1)))
    session.commit()
    assert session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kube_id == world.kube_a.id)) == 20
    assert measure() == before


def test_a_payout_without_the_csrf_token_is_refused(csrf_app: Flask, session: Session) -> None:
    world = factories.build_world(session)
    session.commit()
    _paid_orders(session, world)
    client = csrf_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    client.post("/auth/login", data={"email": world.operator.email, "password": factories.PASSWORD,
                                     "csrf_token": token.group(1)})
    before = _rows(session)
    response = client.post("/admin/ledger/kube-kelapa-a", data={"amount": "1000", "reference": "BRI 1"})
    assert response.status_code == 400
    assert _rows(session) == before
    form = client.get("/admin/ledger/kube-kelapa-a").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token  # the form carries it, and with it the payout goes through
    response = client.post("/admin/ledger/kube-kelapa-a", data={"amount": "1000", "reference": "BRI 1",
                                                                "csrf_token": token.group(1)})
    assert response.status_code == 302 and _rows(session) == (before[0] + 1, before[1] + 1)
