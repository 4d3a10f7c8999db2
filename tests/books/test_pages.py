"""The cash book pages, the chart on the KUBE dashboard, receipts, and the finance API."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.books import services as books
from marketplace.books.models import CashEntry, Category, Contribution, Direction
from marketplace.common import utcnow
from marketplace.ledger.models import EntryKind, LedgerEntry
from tests import factories
from tests.factories import World

Login = Callable[[str], FlaskClient]
pytestmark = pytest.mark.usefixtures("english")
BOOK = "/my-kube/kube-kelapa-a/books"


def _today() -> date:
    return utcnow().astimezone(books.LOCAL_TZ).date()


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(CashEntry.id))) or 0


def _form(**fields: Any) -> dict[str, Any]:
    data = {"direction": "expense", "category": "transport", "amount": "25.000",
            "occurred_on": _today().isoformat(), "note": "Ojek ke pasar"}
    data.update(fields)
    return data


def _clean(html: str) -> None:
    assert "<script>" not in html and 'style="' not in html  # strict CSP: no inline script or style


def test_an_officer_writes_an_entry_with_a_receipt_and_members_see_it(session: Session, world: World,
                                                                       login_as: Login, app: Flask) -> None:
    ketua = login_as("ketua_a")
    response = ketua.post(f"{BOOK}/entries", data=_form(receipt=(io.BytesIO(factories.png_bytes()), "nota.png")),
                          content_type="multipart/form-data")
    assert response.status_code == 302
    entry = session.scalars(select(CashEntry)).one()
    assert (entry.amount, entry.category, entry.created_by_id) == (25_000, Category.TRANSPORT, world.ketua_a.id)
    assert entry.receipt_key
    page = login_as("anggota_a").get(response.headers["Location"]).get_data(as_text=True)
    _clean(page)
    assert "Ojek ke pasar" in page and "Rp25.000" in page and "Receipt" in page
    assert "Write an entry" not in page  # an anggota reads, officers write
    receipt = f"{BOOK}/receipts/{entry.receipt_key}"
    for who in ("ketua_a", "anggota_a", "facilitator_a", "operator"):
        got = login_as(who).get(receipt)
        assert got.status_code == 200 and got.mimetype == "image/jpeg"
        assert "no-store" in got.headers["Cache-Control"]
        got.close()
    for who in ("ketua_b", "facilitator_b", "buyer"):
        assert login_as(who).get(receipt).status_code in (403, 404)
    # Through another KUBE's book, or under the public media route: not found.
    assert login_as("ketua_b").get(f"/my-kube/kube-anyaman-b/books/receipts/{entry.receipt_key}").status_code == 404
    relpath = f"{entry.receipt_key[:2]}/{entry.receipt_key}.jpg"
    assert ketua.get(f"/media/{relpath}").status_code == 404


@pytest.mark.parametrize(("fields", "message"), [
    ({"amount": "dua puluh"}, "Enter the amount in whole Rupiah"),
    ({"amount": "0"}, "more than zero"),
    ({"occurred_on": (date.today() + timedelta(days=3)).isoformat()}, "cannot be in the future"),
    ({"category": "other_sales"}, "does not fit"),
    ({"occurred_on": "kemarin"}, "Not a valid date"),
])
def test_bad_entries_show_on_the_form_and_save_nothing(session: Session, world: World, login_as: Login,
                                                       fields: dict[str, str], message: str) -> None:
    response = login_as("ketua_a").post(f"{BOOK}/entries", data=_form(**fields))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "Ojek ke pasar" in html  # what was typed is kept
    assert _count(session) == 0


def test_a_file_that_is_no_image_is_refused(session: Session, world: World, login_as: Login) -> None:
    response = login_as("ketua_a").post(f"{BOOK}/entries", data=_form(receipt=(io.BytesIO(b"not an image"), "x.png")),
                                        content_type="multipart/form-data")
    assert response.status_code == 200 and "Upload a JPEG, PNG, WebP or GIF image." in response.get_data(as_text=True)
    assert _count(session) == 0


@pytest.mark.parametrize("who", ["anggota_a", "facilitator_a", "operator", "ketua_b"])
def test_only_the_kubes_officers_write(session: Session, world: World, login_as: Login, who: str) -> None:
    client = login_as(who)
    assert client.post(f"{BOOK}/entries", data=_form()).status_code in (403, 404)
    assert client.post(f"{BOOK}/settings", data={"share_basis": "contribution"}).status_code in (403, 404)
    client.post(f"{BOOK}/contributions", data={f"c-{world.anggota_a.id}": "3"})
    assert _count(session) == 0
    assert session.scalar(select(func.count(Contribution.id))) == 0


def test_deleting_an_entry_and_its_receipt(session: Session, world: World, login_as: Login, app: Flask) -> None:
    ketua = login_as("ketua_a")
    ketua.post(f"{BOOK}/entries", data=_form(receipt=(io.BytesIO(factories.png_bytes()), "n.png")),
               content_type="multipart/form-data")
    entry = session.scalars(select(CashEntry)).one()
    key, entry_id = entry.receipt_key, entry.id
    assert login_as("anggota_a").post(f"{BOOK}/entries/{entry_id}/delete").status_code in (302, 403)
    assert _count(session) == 1
    assert login_as("ketua_b").post(f"/my-kube/kube-anyaman-b/books/entries/{entry_id}/delete").status_code == 404
    assert _count(session) == 1
    assert ketua.post(f"{BOOK}/entries/{entry_id}/delete").status_code == 302
    assert _count(session) == 0
    assert ketua.get(f"{BOOK}/receipts/{key}").status_code == 404


def test_contributions_and_shares_on_the_page(session: Session, world: World, login_as: Login) -> None:
    month = _today().replace(day=1)
    session.add(CashEntry(kube_id=world.kube_a.id, direction=Direction.INCOME, category=Category.OTHER_SALES,
                          amount=300_000, occurred_on=month))
    session.commit()
    ketua = login_as("ketua_a")
    assert ketua.post(f"{BOOK}/settings", data={"share_basis": "contribution", "contribution_unit": "kg"}
                      ).status_code == 302
    assert ketua.post(f"{BOOK}/contributions", data={f"c-{world.ketua_a.id}": "2", f"c-{world.anggota_a.id}": "1"}
                      ).status_code == 302
    page = ketua.get(BOOK).get_data(as_text=True)
    assert "Rp200.000" in page and "Rp100.000" in page and "2 kg" in page
    own = login_as("anggota_a").get(BOOK).get_data(as_text=True)
    assert "Your share of the profit" in own and "Rp100.000" in own
    assert "Rp200.000" not in own  # another member's share stays private
    bad = ketua.post(f"{BOOK}/contributions", data={f"c-{world.ketua_b.id}": "4"}, follow_redirects=True)
    assert "Only the KUBE&#39;s members can be credited" in bad.get_data(as_text=True)


def test_the_book_lists_the_automatic_lines(session: Session, world: World, login_as: Login) -> None:
    session.add_all([LedgerEntry(kube_id=world.kube_a.id, kind=EntryKind.SALE, amount=80_000),
                     LedgerEntry(kube_id=world.kube_a.id, kind=EntryKind.FEE, amount=-1_600),
                     LedgerEntry(kube_id=world.kube_a.id, kind=EntryKind.PAYOUT, amount=-50_000)])
    session.commit()
    page = login_as("facilitator_a").get(BOOK).get_data(as_text=True)
    assert "+Rp80.000" in page and "−Rp1.600" in page and "automatic" in page
    assert "Payout" not in page
    assert "Rp78.400" in page  # the month's profit
    assert 'class="month-chart"' in page


def test_the_dashboard_shows_the_chart_to_members(session: Session, world: World, login_as: Login) -> None:
    html = login_as("anggota_a").get("/my-kube/kube-kelapa-a").get_data(as_text=True)
    assert 'class="month-chart"' in html and "Open the cash book" in html


@pytest.mark.parametrize("month", ["2026-13", "x", "1990-01", "2999-01"])
def test_odd_months_in_the_address_show_a_page(world: World, login_as: Login, month: str) -> None:
    assert login_as("ketua_a").get(f"{BOOK}?month={month}").status_code == 200


@pytest.mark.parametrize("who", ["ketua_b", "facilitator_b", "buyer"])
def test_outsiders_cannot_open_the_book(world: World, login_as: Login, who: str) -> None:
    assert login_as(who).get(BOOK).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    response = client.get(BOOK)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_page_runs_a_fixed_number_of_queries(session: Session, world: World, login_as: Login,
                                                 count_queries: Any) -> None:
    client = login_as("ketua_a")

    def measure() -> int:
        with count_queries() as counter:
            assert client.get(BOOK).status_code == 200
        return int(counter.count)

    few = measure()
    today = _today()
    for i in range(30):
        session.add(CashEntry(kube_id=world.kube_a.id, direction=Direction.EXPENSE, category=Category.TRANSPORT,
                              amount=1_000 + i, occurred_on=today))
        session.add(LedgerEntry(kube_id=world.kube_a.id, kind=EntryKind.SALE, amount=5_000))
    factories.add_households(session, world.kube_a, 8)
    session.commit()
    assert measure() == few


def test_a_post_without_the_csrf_token_is_refused(csrf_app: Flask, session: Session) -> None:
    world = factories.build_world(session)
    session.commit()
    client = csrf_app.test_client()
    client.post("/auth/login", data={"email": factories.email_of("ketua_a"), "password": factories.PASSWORD})
    assert client.post(f"{BOOK}/entries", data=_form()).status_code == 400
    assert _count(session) == 0 and world.kube_a.id


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_dates_far_off_are_refused_on_the_form(session: Session, world: World, login_as: Login, day: str) -> None:
    response = login_as("ketua_a").post(f"{BOOK}/entries", data=_form(occurred_on=day))
    assert response.status_code == 200 and "Ojek ke pasar" in response.get_data(as_text=True)
    assert _count(session) == 0
