"""The graduation pages: the list with its filters, one KUBE's rules and chart, the badge, who may see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.books.services import add_months, this_month
from marketplace.graduation.rules import Rules, Status, evaluate
from tests import factories
from tests.factories import World
from tests.graduation.support import fill

Login = Callable[[str], FlaskClient]

# These tests check the English texts; tests/test_translations.py checks the Indonesian ones.
pytestmark = pytest.mark.usefixtures("english")


def _last_complete() -> Any:
    return add_months(this_month(), -1)


def _ready_a(session: Session, world: World) -> None:
    factories.add_households(session, world.kube_a, 3)
    fill(session, world.kube_a, _last_complete(), 12)
    session.commit()


def _clean_html(html: str) -> None:
    assert "<script>" not in html and 'style="' not in html  # strict CSP: no inline script or style


@pytest.mark.parametrize("who", ["operator", "facilitator_a", "ketua_a", "ministry"])
def test_the_list_shows_status_score_reasons_and_what_is_missing(session: Session, world: World, login_as: Login,
                                                                 who: str) -> None:
    factories.make_user(session, "ministry", is_ministry=True)
    _ready_a(session, world)
    response = login_as(who).get("/graduation")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    _clean_html(html)
    assert "Graduation readiness" in html and "KUBE Kelapa A" in html
    assert "Ready for KUR · 100" in html
    assert "Sales in 12 months in a row up to" in html and "KUR needs 6." in html
    assert "the rule asks Rp500.000" in html
    assert 'href="/graduation/kube-kelapa-a"' in html
    assert ("KUBE Anyaman B" in html) == (who in ("operator", "ministry"))
    if who == "operator":
        assert "Not yet · " in html and "6 more months of sales" in html


def test_the_list_filters_by_province_and_status(session: Session, world: World, login_as: Login) -> None:
    _ready_a(session, world)
    client = login_as("operator")
    html = client.get("/graduation?province=32").get_data(as_text=True)
    assert "KUBE Anyaman B" in html and "KUBE Kelapa A" not in html
    assert '<option value="32" selected>Jawa Barat</option>' in html
    html = client.get("/graduation?status=ready").get_data(as_text=True)
    assert "KUBE Kelapa A" in html and "KUBE Anyaman B" not in html
    # Junk filters are ignored: the page shows everything.
    html = client.get("/graduation?province=xx&status=nope&page=-3").get_data(as_text=True)
    assert "KUBE Kelapa A" in html and "KUBE Anyaman B" in html


def test_one_kube_shows_each_rule_its_figures_and_the_chart(session: Session, world: World,
                                                            login_as: Login) -> None:
    factories.add_households(session, world.kube_a, 3)
    fill(session, world.kube_a, _last_complete(), 12, book=False)
    session.commit()
    response = login_as("facilitator_a").get("/graduation/kube-kelapa-a")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    _clean_html(html)
    assert "Nearly ready · 85" in html
    assert "Business running: sales every month" in html and "Cash book kept" in html
    assert "Profit rising or stable" in html and "KUBE verified" in html
    assert "cash-book entries in 5 more months" in html
    assert '<svg class="month-chart"' in html
    assert "Rp4.000.000" in html and "Rp600.000" in html  # a month's income; profit per member
    assert '<progress class="w-100 d-block" id="g-score" value="85" max="100">' in html


@pytest.mark.parametrize("who", ["anggota_a", "buyer", "order_taker", "ketua_b", "facilitator_b"])
def test_others_are_refused(world: World, login_as: Login, who: str) -> None:
    client = login_as(who)
    assert client.get("/graduation/kube-kelapa-a").status_code == 403
    if who not in ("ketua_b", "facilitator_b"):
        assert client.get("/graduation").status_code == 403


def test_unknown_kube_is_404(world: World, login_as: Login) -> None:
    assert login_as("operator").get("/graduation/no-such-kube").status_code == 404


@pytest.mark.parametrize("path", ["/graduation", "/graduation/kube-kelapa-a"])
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, world: World, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_the_list_runs_a_constant_number_of_queries(session: Session, world: World, login_as: Login,
                                                    count_queries: Callable[[], Any]) -> None:
    client = login_as("operator")
    last = _last_complete()

    def add_kubes(count: int) -> None:
        for _ in range(count):
            kube = factories.make_kube(session)
            factories.add_households(session, kube, 5)
            fill(session, kube, last, 7)
        session.commit()

    add_kubes(2)
    client.get("/graduation")
    with count_queries() as few:
        assert client.get("/graduation").status_code == 200
    add_kubes(8)
    with count_queries() as many:
        html = client.get("/graduation").get_data(as_text=True)
    assert html.count("Ready for KUR · 100") == 10
    assert many.count == few.count, many.statements


def test_the_badge_can_be_included_by_other_pages(app: Flask, world: World) -> None:
    readiness = evaluate([], 5, Rules(), last_complete=_last_complete())
    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template_string('{% include "graduation/_badge.html" %}', readiness=readiness)
    assert "Not yet · 0" in html and "text-bg-secondary" in html
    assert readiness.status == Status.NOT_YET
