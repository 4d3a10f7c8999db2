"""A member lists their KUBE's share of a plan's surplus for sale, through the service and the chain page."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.catalog.models import Category, Kube, KubeStatus, MemberRole, Product, ProductStatus, Unit
from marketplace.chains import services
from marketplace.chains.models import ProcessKube, SupplyChain
from marketplace.common import ConflictError, NotFoundError, PermissionDenied, ValidationError
from tests import factories
from tests.factories import CHAIN_SLUG, World

pytestmark = pytest.mark.usefixtures("english")

SLUG = CHAIN_SLUG
# 100 kg of husk a week: 229 whole nuts split (100 / 0.4375 = 228.6), which also give 34.35 kg of shell that no
# one takes (the charcoal process is asked for nothing) and 0.1875 kg of husk beyond the demand.
DEMAND = [("sabut", 100)]
PLAN_QUERY = "sabut=100&period=week"


@pytest.fixture
def chain(session: Session, world: World) -> SupplyChain:
    found = factories.make_chain(session, world)
    session.commit()
    return found


def _sell(session: Session, actor: User | None, kube: Kube, item: str = "tempurung", process: str = "kupas",
          demand: list[tuple[object, object]] | None = None) -> Product:
    return services.list_surplus(session, actor, SLUG, demand or DEMAND, "week", process_key=process, item=item,
                                 kube_id=kube.id, description="Sisa rantai")


def _products(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Product)) or 0


def test_a_member_lists_the_kubes_share_of_the_surplus(session: Session, world: World, chain: SupplyChain) -> None:
    product = _sell(session, world.anggota_a, world.kube_a)
    assert (product.kube_id, product.name, product.unit, product.price) == (
        world.kube_a.id, "Tempurung kelapa", Unit.KG, 4000)
    assert product.stock == 34  # all 229 runs are KUBE A's: 34.35 kg, rounded down
    assert product.status == ProductStatus.DRAFT  # like any product a member adds: reviewed before it is sold
    assert (product.created_by_id, product.weight_grams, product.description) == (
        world.anggota_a.id, 1000, "Sisa rantai")
    assert product.category_id == world.category.id  # KUBE A's own category (rule 2)
    # A sliver of surplus is still one unit.
    assert _sell(session, world.ketua_a, world.kube_a, item="sabut").stock == 1


def test_the_stock_is_the_kubes_share_of_the_runs(session: Session, world: World, chain: SupplyChain) -> None:
    ketua_c = factories.make_user(session, "ketua_c")
    kube_c = factories.make_kube(session, "KUBE C", members=[(ketua_c, MemberRole.KETUA)])
    chain.processes[0].kubes.append(ProcessKube(kube_id=kube_c.id, capacity_per_week=Decimal(3000)))
    session.commit()
    # 229 runs shared 1,000 : 3,000 in whole runs: 57 and 172; 34.35 kg of shell over 229 runs.
    assert _sell(session, world.anggota_a, world.kube_a).stock == 8  # 57 x 34.35 / 229 = 8.55
    assert _sell(session, ketua_c, kube_c).stock == 25  # 172 x 34.35 / 229 = 25.8


def test_whole_pieces_are_sold_as_pcs(session: Session, world: World, chain: SupplyChain) -> None:
    services.add_flow(session, world.operator, SLUG, chain.processes[0].id, services.FlowInput(
        direction="out", item_name="Kelapa muda", unit="butir", amount="0,1", price="6000"))
    product = _sell(session, world.anggota_a, world.kube_a, item="kelapa-muda")
    assert (product.unit, product.stock, product.price, product.weight_grams) == (Unit.PCS, 22, 6000, 0)
    assert services.product_unit("butir") == Unit.PCS and services.product_unit("liter") == Unit.LITER


def test_the_category_follows_the_market_then_the_kube_then_the_tree(session: Session, world: World,
                                                                     chain: SupplyChain) -> None:
    # 1. Where published products holding every word of the item's name are: another KUBE's charcoal shop.
    charcoal = factories.make_category(session, "charcoal")
    factories.make_product(session, world.kube_b, charcoal, "Tempurung Kelapa Kering (Bahan Arang)")
    factories.make_product(session, world.kube_b, world.category, "Tempurung Kelapa Draft",
                           status=ProductStatus.DRAFT)  # not on sale: does not count
    assert services.surplus_category(session, world.kube_a.id, "Tempurung kelapa") == charcoal
    # 2. Else the KUBE's own most used category ...
    assert services.surplus_category(session, world.kube_a.id, "Daging kelapa") == world.category
    # 3. ... else the first sub-category of the first top-level category.
    first = factories.make_category(session, "aaa")
    world.category.position, charcoal.position = 5, 5
    child = factories.make_category(session, "aaa-child", parent=first)
    new_kube = factories.make_kube(session, "KUBE Baru")
    assert services.surplus_category(session, new_kube.id, "Daging kelapa") == child


def test_no_category_at_all_is_a_conflict(session: Session, world: World, chain: SupplyChain) -> None:
    new_kube = factories.make_kube(session, "KUBE Baru")
    session.execute(Product.__table__.delete())
    session.execute(Category.__table__.delete())
    with pytest.raises(ConflictError):
        services.surplus_category(session, new_kube.id, "Daging kelapa")


# A facilitator of the KUBE, an operator, a buyer, an order taker, a member of a KUBE not in the process and a
# signed-out visitor: only the KUBE's members list its surplus.
@pytest.mark.parametrize("who", ["facilitator_a", "facilitator_b", "operator", "buyer", "order_taker", "ketua_b",
                                 None])
def test_only_members_of_a_kube_in_the_process_list(session: Session, world: World, chain: SupplyChain,
                                                    who: str | None) -> None:
    with pytest.raises(PermissionDenied):
        _sell(session, getattr(world, who) if who else None, world.kube_a)
    assert _products(session) == 3


def test_a_member_of_a_kube_not_in_the_process(session: Session, world: World, chain: SupplyChain) -> None:
    with pytest.raises(PermissionDenied):  # KUBE B is not in the split: its ketua cannot sell for it either
        _sell(session, world.ketua_b, world.kube_b)
    with pytest.raises(PermissionDenied):  # the charcoal process has no KUBE: KUBE A's members do not sell its
        _sell(session, world.ketua_a, world.kube_a, item="arang-tempurung", process="arang")
    world.anggota_a.is_disabled = True
    with pytest.raises(PermissionDenied):
        _sell(session, world.anggota_a, world.kube_a)


def test_only_priced_outputs_with_a_surplus(session: Session, world: World, chain: SupplyChain) -> None:
    with pytest.raises(NotFoundError):  # an input, not an output
        _sell(session, world.ketua_a, world.kube_a, item="kelapa-butir")
    with pytest.raises(NotFoundError):
        _sell(session, world.ketua_a, world.kube_a, process="tidak-ada")
    with pytest.raises(NotFoundError):
        services.list_surplus(session, world.ketua_a, "tidak-ada", DEMAND, "week", process_key="kupas",
                              item="tempurung", kube_id=world.kube_a.id)
    # Charcoal for 10.305 kg takes all the shell (34.35 kg): no surplus of it is left.
    with pytest.raises(ConflictError, match="no surplus"):
        _sell(session, world.ketua_a, world.kube_a, demand=[("sabut", 100), ("arang-tempurung", 10.305)])
    next(f for f in chain.processes[0].flows if f.item == "tempurung").price = None
    with pytest.raises(ConflictError, match="no price"):
        _sell(session, world.ketua_a, world.kube_a)
    assert _products(session) == 3


def test_bad_demands_are_refused(session: Session, world: World, chain: SupplyChain) -> None:
    for demand in ([("sabut", -1)], [("emas", 1)], [("sabut", "banyak")]):
        with pytest.raises(ValidationError):
            _sell(session, world.ketua_a, world.kube_a, demand=demand)
    with pytest.raises(ValidationError):
        services.list_surplus(session, world.ketua_a, SLUG, DEMAND, "year", process_key="kupas", item="tempurung",
                              kube_id=world.kube_a.id)


def test_a_kube_outside_the_plan_has_no_share(session: Session, world: World, chain: SupplyChain) -> None:
    world.kube_a.status = KubeStatus.DRAFT  # not yet verified: left out of plans
    with pytest.raises(ConflictError, match="no share"):
        _sell(session, world.ketua_a, world.kube_a)
    world.kube_a.status = KubeStatus.SUSPENDED
    with pytest.raises(ConflictError):
        _sell(session, world.ketua_a, world.kube_a)


# --- On the chain page ------------------------------------------------------------------------------


def test_members_see_the_button_on_the_plan(chain: SupplyChain, world: World, client: FlaskClient,
                                            login_as: Callable[[str], FlaskClient]) -> None:
    url = f"/chains/{SLUG}?{PLAN_QUERY}"
    page = login_as("anggota_a").get(url).get_data(as_text=True)
    assert page.count("List for sale") == 2  # husk and shell: both priced, both with a surplus
    assert "KUBE Kelapa A's share: 34 kg Tempurung kelapa at Rp4.000" in page
    assert f'action="/chains/{SLUG}/sell?sabut=100&amp;period=week"' in page
    for other in ("buyer", "ketua_b", "facilitator_a", "operator"):
        assert "List for sale" not in login_as(other).get(url).get_data(as_text=True), other
    assert "List for sale" not in client.get(url).get_data(as_text=True)
    assert "List for sale" not in login_as("anggota_a").get(f"/chains/{SLUG}").get_data(as_text=True)  # no plan


def test_one_click_lists_it_and_opens_the_product(session: Session, chain: SupplyChain, world: World,
                                                  login_as: Callable[[str], FlaskClient]) -> None:
    member = login_as("anggota_a")
    response = member.post(f"/chains/{SLUG}/sell?{PLAN_QUERY}",
                           data={"process": "kupas", "item": "tempurung", "kube": str(world.kube_a.id)})
    assert response.status_code == 302
    product = session.scalars(select(Product).order_by(Product.id.desc())).first()
    assert product is not None and (product.name, product.stock, product.status) == (
        "Tempurung kelapa", 34, ProductStatus.DRAFT)
    assert product.description == "Surplus of the supply chain “Rantai Kelapa”, from the process “Kupas kelapa”."
    assert response.headers["Location"] == f"/my-kube/kube-kelapa-a/products/{product.id}/edit"
    page = member.get(response.headers["Location"]).get_data(as_text=True)
    assert "is saved as a draft with a stock of 34" in page


def test_a_refused_sale_goes_back_to_the_plan(session: Session, chain: SupplyChain, world: World,
                                              login_as: Callable[[str], FlaskClient]) -> None:
    member = login_as("anggota_a")
    data: dict[str, Any] = {"process": "kupas", "item": "kelapa-butir", "kube": str(world.kube_a.id)}
    response = member.post(f"/chains/{SLUG}/sell?{PLAN_QUERY}", data=data)
    assert response.status_code == 404  # not an output of the process
    data["item"] = "tempurung"
    response = member.post(f"/chains/{SLUG}/sell?sabut=100&arang-tempurung=10,305&period=week&x=1", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/chains/{SLUG}?sabut=100&arang-tempurung=10%2C305&period=week"
    assert "leaves no surplus" in member.get(response.headers["Location"]).get_data(as_text=True)
    response = member.post(f"/chains/{SLUG}/sell?sabut=banyak", data=data)
    assert response.status_code == 302
    assert "Quantities are numbers" in member.get(response.headers["Location"]).get_data(as_text=True)
    assert member.post(f"/chains/{SLUG}/sell?{PLAN_QUERY}", data={**data, "kube": "x"}).status_code == 400
    assert login_as("ketua_b").post(f"/chains/{SLUG}/sell?{PLAN_QUERY}", data=data).status_code == 403
    assert _products(session) == 3
