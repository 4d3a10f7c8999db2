"""A KUBE's dashboard shows its part in supply chains: the process, what it takes in and puts out, its weekly
capacity and its share of this week's plan for the open contracts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.chains import services
from marketplace.sourcing import services as sourcing
from marketplace.sourcing.services import RequestInput
from tests import factories
from tests.factories import CHAIN_SLUG, World

Login = Callable[[str], FlaskClient]

pytestmark = pytest.mark.usefixtures("english")
DASHBOARD = "/my-kube/kube-kelapa-a"


def _contract(session: Session, world: World, slug: str = CHAIN_SLUG) -> None:
    """An order taker's weekly contract with the chain for 30 kg of charcoal: 100 kg of shell, 667 nuts split."""
    today = date.today()
    request = sourcing.create_request(session, world.order_taker, RequestInput(
        item_name="", quantity="30", unit="kg", schedule="weekly", starts_on=today, until=today + timedelta(weeks=3),
        province_code="72", chain_slug=slug, item="arang-tempurung"), today=today)
    quote = sourcing.make_quote(session, world.facilitator_a, request.id, price_per_unit="7000", quantity="30",
                                chain_slug=slug)
    sourcing.accept_quote(session, world.order_taker, quote.id, 200, today=today)


def test_the_kubes_part_in_a_chain(session: Session, world: World, login_as: Login) -> None:
    factories.make_chain(session, world)
    session.commit()
    page = login_as("anggota_a").get(DASHBOARD).get_data(as_text=True)
    section = page.split('id="chains"', 1)[1]
    assert "Supply chains" in page and f'href="/chains/{CHAIN_SLUG}"' in section and "Kupas kelapa" in section
    assert "1 butir Kelapa butir" in section and "0,4375 kg Sabut kelapa + 0,15 kg Tempurung kelapa" in section
    assert "Capacity: 1.000 runs a week" in section
    assert "No demand from open contracts this week." in section
    assert "Arang tempurung" not in section  # not KUBE A's process
    assert 'id="chains"' not in login_as("ketua_b").get("/my-kube/kube-anyaman-b").get_data(as_text=True)


def test_the_kubes_share_of_the_contract_plan(session: Session, world: World, login_as: Login) -> None:
    factories.make_chain(session, world)
    _contract(session, world)
    session.commit()
    section = login_as("ketua_a").get(DASHBOARD).get_data(as_text=True).split('id="chains"', 1)[1]
    assert "This week's plan: 667 of the 667 runs" in section
    assert "Makes" in section and "291,8 kg Sabut kelapa" in section
    parts = services.kube_parts(session, world.kube_a.id, sourcing.contract_plans)
    assert [(p.process.key, p.share, p.step and p.step.runs) for p in parts] == [("kupas", 667, 667)]
    assert [p.share for p in services.kube_parts(session, world.kube_a.id)] == [None]  # no plan asked for


def test_the_section_runs_a_fixed_number_of_queries(session: Session, world: World, login_as: Login,
                                                    count_queries: Any) -> None:
    """One chain or three, the dashboard issues the same statements (one chain has an open contract)."""
    member = login_as("anggota_a")
    factories.make_chain(session, world)
    _contract(session, world)
    session.commit()

    def measure() -> int:
        with count_queries() as counter:
            assert member.get(DASHBOARD).status_code == 200
        return int(counter.count)

    one = measure()
    for slug in ("rantai-dua", "rantai-tiga"):
        factories.make_chain(session, world, slug=slug)
    session.commit()
    page = member.get(DASHBOARD).get_data(as_text=True)
    assert page.count('class="list-group-item chain-part"') == 3
    assert measure() == one, one
