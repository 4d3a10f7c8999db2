"""Facilitators and operators build and edit chains, through the services: every rule, every refusal."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.catalog.models import MemberRole
from marketplace.chains import services
from marketplace.chains.models import ChainProcess, ProcessFlow, ProcessKube, SupplyChain
from marketplace.chains.services import ChainInput, FlowInput, ProcessInput
from marketplace.common import ConflictError, NotFoundError, PermissionDenied, ValidationError
from tests import factories
from tests.factories import CHAIN_SLUG, World

SLUG = CHAIN_SLUG


@pytest.fixture
def chain(session: Session, world: World) -> SupplyChain:
    """The small coconut chain: KUBE A (facilitator A's) splits nuts; charcoal has no KUBE yet."""
    found = factories.make_chain(session, world)
    session.commit()
    return found


def _pid(session: Session, key: str) -> int:
    return factories.chain_process_id(session, key)


def _fid(session: Session, key: str, direction: str, item: str) -> int:
    return factories.chain_flow_id(session, key, direction, item)


def _rows(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(model)) or 0
                 for model in (SupplyChain, ChainProcess, ProcessFlow, ProcessKube))


def _state(session: Session) -> list[tuple[Any, ...]]:
    """Every chain, process, flow and KUBE link with its values."""
    session.expire_all()
    return [tuple(row) for model, columns in (
        (SupplyChain, (SupplyChain.slug, SupplyChain.name, SupplyChain.description, SupplyChain.regency_code)),
        (ChainProcess, (ChainProcess.id, ChainProcess.key, ChainProcess.name, ChainProcess.position)),
        (ProcessFlow, (ProcessFlow.id, ProcessFlow.item, ProcessFlow.item_name, ProcessFlow.amount,
                       ProcessFlow.price)),
        (ProcessKube, (ProcessKube.id, ProcessKube.kube_id, ProcessKube.capacity_per_week)),
    ) for row in session.execute(select(*columns).order_by(columns[0]))]


def _out(item_name: str, amount: object = "1", *, item: str = "", unit: str = "kg", price: object = None
         ) -> FlowInput:
    return FlowInput(direction="out", item_name=item_name, unit=unit, amount=amount, item=item, price=price)


def _in(item_name: str, amount: object = "1", *, item: str = "", unit: str = "kg") -> FlowInput:
    return FlowInput(direction="in", item_name=item_name, unit=unit, amount=amount, item=item)


# --- Starting and describing a chain ----------------------------------------------------------------


def test_facilitators_and_operators_start_chains(session: Session, world: World) -> None:
    made = services.create_chain(session, world.facilitator_b, ChainInput(
        name="  Anyaman Pandan Bandung ", description="Dari daun ke tas.", regency_code="32.04"))
    assert (made.slug, made.name, made.regency_code) == ("anyaman-pandan-bandung", "Anyaman Pandan Bandung", "32.04")
    assert made.created_by_id == world.facilitator_b.id and made.processes == []
    # The creator manages it, though no KUBE of theirs is in it yet.
    assert services.can_manage_chain(session, world.facilitator_b, made)
    again = services.create_chain(session, world.operator, ChainInput(name="Anyaman pandan bandung"))
    assert again.slug == "anyaman-pandan-bandung-2" and again.regency_code is None
    # /chains/new is the page that starts a chain: no chain takes that slug.
    assert services.create_chain(session, world.operator, ChainInput(name="New")).slug == "new-2"


@pytest.mark.parametrize("who", ["buyer", "order_taker", "ketua_a", "anggota_a", None])
def test_others_do_not_start_chains(session: Session, world: World, who: str | None) -> None:
    actor = getattr(world, who) if who else None
    with pytest.raises(PermissionDenied):
        services.create_chain(session, actor, ChainInput(name="Rantai Saya"))
    assert not services.may_start_chains(actor)


def test_a_disabled_facilitator_starts_nothing(session: Session, world: World) -> None:
    world.facilitator_a.is_disabled = True
    with pytest.raises(PermissionDenied):
        services.create_chain(session, world.facilitator_a, ChainInput(name="Rantai"))


@pytest.mark.parametrize(("data", "field"), [
    (ChainInput(name="  "), "name"),
    (ChainInput(name="x" * 121), "name"),
    (ChainInput(name="Rantai", description="x" * 5001), "description"),
    (ChainInput(name="Rantai", regency_code="72"), "regency_code"),  # a province, not a kabupaten
    (ChainInput(name="Rantai", regency_code="72.01.01"), "regency_code"),
    (ChainInput(name="Rantai", regency_code="99.99"), "regency_code"),
])
def test_bad_chain_fields_are_refused(session: Session, world: World, data: ChainInput, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_chain(session, world.operator, data)
    assert caught.value.field == field


def test_the_chain_is_renamed_and_keeps_its_slug(session: Session, world: World, chain: SupplyChain) -> None:
    services.update_chain(session, world.facilitator_a, SLUG,
                          ChainInput(name="Kelapa Batui", description="Baru", regency_code=""))
    session.expire_all()
    found = services.chain_by_slug(session, SLUG)
    assert (found.name, found.description, found.regency_code) == ("Kelapa Batui", "Baru", None)


# --- Who may edit -----------------------------------------------------------------------------------

EDITS: dict[str, Callable[[Session, User | None], Any]] = {
    "update_chain": lambda s, u: services.update_chain(s, u, SLUG, ChainInput(name="Diubah")),
    "add_process": lambda s, u: services.add_process(s, u, SLUG, ProcessInput(name="Sabut")),
    "update_process": lambda s, u: services.update_process(s, u, SLUG, _pid(s, "kupas"),
                                                           ProcessInput(name="Kupas", key="kupas")),
    "delete_process": lambda s, u: services.delete_process(s, u, SLUG, _pid(s, "arang")),
    "add_flow": lambda s, u: services.add_flow(s, u, SLUG, _pid(s, "arang"), _out("Asap cair", unit="liter")),
    "update_flow": lambda s, u: services.update_flow(s, u, SLUG, _pid(s, "kupas"),
                                                     _fid(s, "kupas", "out", "sabut"), _out("Sabut", "0,5")),
    "remove_flow": lambda s, u: services.remove_flow(s, u, SLUG, _pid(s, "kupas"),
                                                     _fid(s, "kupas", "out", "sabut")),
    "assign_kube": lambda s, u: services.assign_kube(s, u, SLUG, _pid(s, "arang"), "kube-kelapa-a", "100"),
    "update_capacity": lambda s, u: services.update_capacity(s, u, SLUG, _pid(s, "kupas"),
                                                             _kube_a_id(s), "2000"),
    "remove_kube": lambda s, u: services.remove_kube(s, u, SLUG, _pid(s, "kupas"), _kube_a_id(s)),
}


def _kube_a_id(session: Session) -> int:
    return session.scalars(select(ProcessKube.kube_id)).first() or 0


@pytest.mark.parametrize("edit", EDITS)
# facilitator B (of another KUBE), a buyer, ketua B (a member of a KUBE not in the chain), anggota A (a member
# of a KUBE in it: members run the process, they do not build the chain) and a signed-out visitor.
@pytest.mark.parametrize("who", ["facilitator_b", "buyer", "order_taker", "ketua_b", "anggota_a", None])
def test_only_the_chains_managers_edit_it(session: Session, world: World, chain: SupplyChain, edit: str,
                                          who: str | None) -> None:
    before = _state(session)
    with pytest.raises(PermissionDenied):
        EDITS[edit](session, getattr(world, who) if who else None)
    session.rollback()
    assert _state(session) == before


@pytest.mark.parametrize("edit", EDITS)
@pytest.mark.parametrize("who", ["facilitator_a", "operator"])
def test_the_chains_managers_edit_it(session: Session, world: World, chain: SupplyChain, edit: str,
                                     who: str) -> None:
    before = _state(session)
    EDITS[edit](session, getattr(world, who))
    session.commit()
    assert _state(session) != before


def test_the_creator_manages_a_chain_without_their_kubes(session: Session, world: World) -> None:
    factories.make_chain(session, world, created_by=world.facilitator_b)
    services.add_process(session, world.facilitator_b, SLUG, ProcessInput(name="Serat sabut"))
    # ... but places in it only the KUBEs they accompany, and leaves KUBE A's capacity to its facilitator.
    with pytest.raises(PermissionDenied):
        services.assign_kube(session, world.facilitator_b, SLUG, _pid(session, "arang"), world.kube_a.id, "10")
    with pytest.raises(PermissionDenied):
        services.update_capacity(session, world.facilitator_b, SLUG, _pid(session, "kupas"), world.kube_a.id, "1")
    with pytest.raises(PermissionDenied):
        services.remove_kube(session, world.facilitator_b, SLUG, _pid(session, "kupas"), world.kube_a.id)
    link = services.assign_kube(session, world.facilitator_b, SLUG, _pid(session, "arang"), world.kube_b.id, "10")
    assert link.kube_id == world.kube_b.id


# --- Processes --------------------------------------------------------------------------------------


def test_processes_get_a_key_and_a_place(session: Session, world: World, chain: SupplyChain) -> None:
    process = services.add_process(session, world.facilitator_a, SLUG, ProcessInput(
        name="Serat Sabut (coco fibre)", whole_runs=False, yield_source="75 % (Abdullah 2011)"))
    assert (process.key, process.position, process.yield_source) == ("serat-sabut-coco-fibre", 2,
                                                                     "75 % (Abdullah 2011)")
    with pytest.raises(ValidationError) as caught:
        services.add_process(session, world.facilitator_a, SLUG, ProcessInput(name="Lain", key="Kupas"))
    assert caught.value.field == "key"
    moved = services.update_process(session, world.facilitator_a, SLUG, process.id, ProcessInput(
        name="Serat sabut", key="sabut", whole_runs=True, position="0"))
    assert (moved.key, moved.position, moved.whole_runs, moved.yield_source) == ("sabut", 0, True, "")
    # Its own key is no clash.
    services.update_process(session, world.facilitator_a, SLUG, process.id, ProcessInput(name="Serat", key="sabut"))
    with pytest.raises(ValidationError) as caught:
        services.update_process(session, world.facilitator_a, SLUG, process.id, ProcessInput(name="x", key="arang"))
    assert caught.value.field == "key"
    for bad in ("-1", "banyak", "1001"):
        with pytest.raises(ValidationError) as caught:
            services.update_process(session, world.facilitator_a, SLUG, process.id,
                                    ProcessInput(name="x", position=bad))
        assert caught.value.field == "position"
    with pytest.raises(ValidationError) as caught:
        services.add_process(session, world.facilitator_a, SLUG, ProcessInput(name=""))
    assert caught.value.field == "name"


def test_a_process_of_another_chain_is_not_found(session: Session, world: World, chain: SupplyChain) -> None:
    other = factories.make_chain(session, world, slug="rantai-lain")
    other_id = other.processes[0].id
    for work in (lambda: services.update_process(session, world.operator, SLUG, other_id, ProcessInput(name="x")),
                 lambda: services.delete_process(session, world.operator, SLUG, other_id),
                 lambda: services.add_flow(session, world.operator, SLUG, other_id, _out("Abu")),
                 lambda: services.assign_kube(session, world.operator, SLUG, other_id, world.kube_b.id, "1")):
        with pytest.raises(NotFoundError):
            work()
    with pytest.raises(NotFoundError):
        services.add_process(session, world.operator, "tidak-ada", ProcessInput(name="x"))


def test_removing_a_process_takes_its_flows_and_kubes(session: Session, world: World, chain: SupplyChain) -> None:
    services.delete_process(session, world.facilitator_a, SLUG, _pid(session, "kupas"))
    session.commit()
    assert _rows(session) == (1, 1, 2, 0)


def test_a_chain_has_a_limited_number_of_processes(session: Session, world: World, chain: SupplyChain) -> None:
    for n in range(services.MAX_PROCESSES - 2):
        services.add_process(session, world.operator, SLUG, ProcessInput(name=f"Tahap {n}"))
    with pytest.raises(ConflictError):
        services.add_process(session, world.operator, SLUG, ProcessInput(name="Satu lagi"))


# --- Inputs and outputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [
    ("0,4375", Decimal("0.4375")), ("0.4375", Decimal("0.4375")), ("0.350", Decimal("0.35")),
    ("1,25", Decimal("1.25")), ("6.000", Decimal(6000)), ("1.500,5", Decimal("1500.5")),
    ("1,000,000", Decimal(1_000_000)), ("1,500.25", Decimal("1500.25")), (" 12 ", Decimal(12)),
    ("0,000001", Decimal("0.000001")), (3, Decimal(3)), (Decimal("0.30"), Decimal("0.30")),
])
def test_amounts_are_exact_as_people_type_them(typed: object, expected: Decimal) -> None:
    assert services.clean_amount(typed, field="amount") == expected


@pytest.mark.parametrize("typed", ["", "banyak", "1/2", "-1", "0", "0,0", "1e3", "NaN", "1,2,3", "1.2.3,4,5",
                                   "0,0000001", "10.000.001", "٣", None, True])
def test_bad_amounts_are_refused(typed: object) -> None:
    with pytest.raises(ValidationError) as caught:
        services.clean_amount(typed, field="amount")
    assert caught.value.field == "amount"


def test_a_capacity_may_be_zero_but_not_negative() -> None:
    assert services.clean_amount("0", field="capacity", zero_ok=True) == 0
    with pytest.raises(ValidationError):
        services.clean_amount(Decimal(-1), field="capacity", zero_ok=True)


def test_flows_are_added_changed_and_removed(session: Session, world: World, chain: SupplyChain) -> None:
    arang = _pid(session, "arang")
    smoke = services.add_flow(session, world.facilitator_a, SLUG, arang,
                              _out("Asap Cair", "0,0437", unit="liter", price="25.000"))
    assert (smoke.item, smoke.item_name, smoke.unit, smoke.amount, smoke.price) == (
        "asap-cair", "Asap Cair", "liter", Decimal("0.0437"), 25_000)
    water = services.add_flow(session, world.facilitator_a, SLUG, arang, _in("Air", "2", unit="liter", item="air"))
    assert (water.direction, water.price) == ("in", None)
    changed = services.update_flow(session, world.facilitator_a, SLUG, arang, smoke.id,
                                   _out("Asap cair grade 3", "0.05", item="asap-cair", unit="botol"))
    assert (changed.id, changed.item, changed.amount, changed.unit, changed.price) == (
        smoke.id, "asap-cair", Decimal("0.05"), "botol", None)
    services.remove_flow(session, world.facilitator_a, SLUG, arang, water.id)
    session.commit()
    session.expire_all()
    flows = services.chain_by_slug(session, SLUG).processes[1].flows
    assert [(f.direction, f.item) for f in flows] == [("in", "tempurung"), ("out", "arang-tempurung"),
                                                     ("out", "asap-cair")]
    with pytest.raises(NotFoundError):  # a flow of another process
        services.remove_flow(session, world.facilitator_a, SLUG, arang, _fid(session, "kupas", "out", "sabut"))


def test_an_item_named_as_one_of_the_chain_is_that_item(session: Session, world: World,
                                                        chain: SupplyChain) -> None:
    fibre = services.add_process(session, world.facilitator_a, SLUG, ProcessInput(name="Serat sabut"))
    husk = services.add_flow(session, world.facilitator_a, SLUG, fibre.id, _in("Sabut Kelapa"))
    assert husk.item == "sabut"  # the split's output: the two processes are linked
    own = services.add_flow(session, world.facilitator_a, SLUG, fibre.id, _out("Sabut Kelapa Halus", item="Serat"))
    assert own.item == "serat"  # a code given is used as typed (as a slug)


def test_whole_pieces_are_a_unit(session: Session, world: World, chain: SupplyChain) -> None:
    flow = services.add_flow(session, world.operator, SLUG, _pid(session, "kupas"),
                             _out("Kelapa muda", "0,1", unit="butir", price="6000"))
    assert flow.unit == "butir"


@pytest.mark.parametrize(("data", "field"), [
    (FlowInput(direction="both", item_name="Abu", unit="kg", amount="1"), "direction"),
    (FlowInput(direction="out", item_name=" ", unit="kg", amount="1"), "item_name"),
    (FlowInput(direction="out", item_name="Abu", unit="ton", amount="1"), "unit"),
    (FlowInput(direction="out", item_name="Abu", unit="kg", amount="0"), "amount"),
    (FlowInput(direction="out", item_name="Abu", unit="kg", amount="-0,5"), "amount"),
    (FlowInput(direction="out", item_name="Abu", unit="kg", amount="sedikit"), "amount"),
    (FlowInput(direction="out", item_name="Abu", unit="kg", amount="1", price="-5"), "price"),
    (FlowInput(direction="out", item_name="Abu", unit="kg", amount="1", price="1,5"), "price"),
    (FlowInput(direction="in", item_name="Abu", unit="kg", amount="1", price="500"), "price"),  # inputs: none
])
def test_bad_flows_are_refused(session: Session, world: World, chain: SupplyChain, data: FlowInput,
                               field: str) -> None:
    before = _rows(session)
    with pytest.raises(ValidationError) as caught:
        services.add_flow(session, world.operator, SLUG, _pid(session, "arang"), data)
    assert caught.value.field == field
    session.rollback()
    assert _rows(session) == before


def test_an_item_is_on_one_side_of_a_process_once(session: Session, world: World, chain: SupplyChain) -> None:
    kupas = _pid(session, "kupas")
    with pytest.raises(ValidationError, match="already has") as caught:
        services.add_flow(session, world.operator, SLUG, kupas, _out("Sabut", "0,1", item="sabut"))
    assert caught.value.field == "item"
    # Nor may a process take in what it makes (an item named as one of the chain is that item).
    with pytest.raises(ValidationError, match="cannot take in what it makes"):
        services.add_flow(session, world.operator, SLUG, kupas, _in("sabut KELAPA", "1"))
    with pytest.raises(ValidationError, match="cannot take in what it makes"):
        services.update_flow(session, world.operator, SLUG, kupas, _fid(session, "kupas", "in", "kelapa-butir"),
                             _in("Tempurung", item="tempurung"))


def test_an_item_is_made_by_one_process_of_the_chain(session: Session, world: World, chain: SupplyChain) -> None:
    other = services.add_process(session, world.facilitator_a, SLUG, ProcessInput(name="Kupas kedua"))
    session.commit()
    before = _rows(session)
    with pytest.raises(ValidationError, match="already made by") as caught:
        services.add_flow(session, world.facilitator_a, SLUG, other.id, _out("Tempurung kelapa", "0,5"))
    assert caught.value.field == "item" and caught.value.params["process"] == "Kupas kelapa"
    # Turning an input into a second maker's output is refused too.
    with pytest.raises(ValidationError, match="already made by"):
        services.update_flow(session, world.facilitator_a, SLUG, _pid(session, "arang"),
                             _fid(session, "arang", "in", "tempurung"), _out("Sabut kelapa", "1"))
    session.rollback()
    assert _rows(session) == before


def test_no_cycle_through_the_chain(session: Session, world: World, chain: SupplyChain) -> None:
    """Charcoal takes the split's shell; if it also made the nuts the split takes in, each would wait for the
    other: the planner's check refuses it and nothing is saved."""
    before = _rows(session)
    with pytest.raises(ValidationError, match="circle") as caught:
        services.add_flow(session, world.facilitator_a, SLUG, _pid(session, "arang"),
                          _out("Kelapa butir", "0,01", item="kelapa-butir"))
    assert caught.value.field == "item"
    with pytest.raises(ValidationError, match="circle"):  # the same through a change
        services.update_flow(session, world.facilitator_a, SLUG, _pid(session, "arang"),
                             _fid(session, "arang", "out", "arang-tempurung"), _out("Kelapa", item="kelapa-butir"))
    session.rollback()
    assert _rows(session) == before
    session.expire_all()
    flows = services.chain_by_slug(session, SLUG).processes[1].flows
    assert [f.item for f in flows] == ["tempurung", "arang-tempurung"]


def test_a_process_has_a_limited_number_of_flows(session: Session, world: World, chain: SupplyChain) -> None:
    arang = _pid(session, "arang")
    for n in range(services.MAX_FLOWS - 2):
        services.add_flow(session, world.operator, SLUG, arang, _out(f"Hasil {n}", "0,1"))
    with pytest.raises(ConflictError):
        services.add_flow(session, world.operator, SLUG, arang, _out("Satu lagi", "0,1"))


# --- KUBEs ------------------------------------------------------------------------------------------


def test_kubes_are_placed_by_slug_or_id(session: Session, world: World, chain: SupplyChain) -> None:
    arang = _pid(session, "arang")
    link = services.assign_kube(session, world.facilitator_a, SLUG, arang, "kube-kelapa-a", "1.200")
    assert (link.kube_id, link.capacity_per_week) == (world.kube_a.id, Decimal(1200))
    with pytest.raises(ValidationError) as caught:  # once per process
        services.assign_kube(session, world.operator, SLUG, arang, world.kube_a.id, "5")
    assert caught.value.field == "kube"
    other = services.assign_kube(session, world.operator, SLUG, arang, world.kube_b.id, "0")  # an operator: any
    assert other.capacity_per_week == 0
    changed = services.update_capacity(session, world.facilitator_a, SLUG, arang, world.kube_a.id, "1.500,5")
    assert changed.capacity_per_week == Decimal("1500.5")
    services.remove_kube(session, world.facilitator_a, SLUG, arang, world.kube_a.id)
    session.commit()
    session.expire_all()
    assert [pk.kube_id for pk in services.chain_by_slug(session, SLUG).processes[1].kubes] == [world.kube_b.id]


def test_a_facilitator_places_only_the_kubes_they_accompany(session: Session, world: World,
                                                           chain: SupplyChain) -> None:
    arang = _pid(session, "arang")
    with pytest.raises(PermissionDenied):  # facilitator A manages the chain, but KUBE B is not theirs
        services.assign_kube(session, world.facilitator_a, SLUG, arang, world.kube_b.id, "10")
    services.assign_kube(session, world.operator, SLUG, arang, world.kube_b.id, "10")
    with pytest.raises(PermissionDenied):
        services.update_capacity(session, world.facilitator_a, SLUG, arang, world.kube_b.id, "20")
    with pytest.raises(PermissionDenied):
        services.remove_kube(session, world.facilitator_a, SLUG, arang, world.kube_b.id)
    # ... while facilitator B, whose KUBE is now in the chain, manages it and changes their KUBE only.
    services.update_capacity(session, world.facilitator_b, SLUG, arang, world.kube_b.id, "20")
    with pytest.raises(PermissionDenied):
        services.update_capacity(session, world.facilitator_b, SLUG, _pid(session, "kupas"), world.kube_a.id, "1")
    assert [k.id for k in services.assignable_kubes(session, world.facilitator_a)] == [world.kube_a.id]
    assert {k.id for k in services.assignable_kubes(session, world.operator)} == {world.kube_a.id, world.kube_b.id}
    assert services.assignable_kubes(session, world.ketua_a) == []


def test_unknown_kubes_and_bad_capacities(session: Session, world: World, chain: SupplyChain) -> None:
    arang = _pid(session, "arang")
    with pytest.raises(NotFoundError) as caught:
        services.assign_kube(session, world.operator, SLUG, arang, "kube-tidak-ada", "1")
    assert caught.value.field == "kube"
    with pytest.raises(NotFoundError):
        services.assign_kube(session, world.operator, SLUG, arang, 999_999, "1")
    for bad in ("-1", "banyak", ""):
        with pytest.raises(ValidationError) as error:
            services.assign_kube(session, world.operator, SLUG, arang, world.kube_b.id, bad)
        assert error.value.field == "capacity"
    with pytest.raises(NotFoundError):  # KUBE B does not run the split
        services.update_capacity(session, world.operator, SLUG, _pid(session, "kupas"), world.kube_b.id, "1")


def test_a_kube_in_the_chain_makes_its_facilitator_a_manager(session: Session, world: World) -> None:
    kube_c = factories.make_kube(session, "KUBE C", members=[(factories.make_user(session), MemberRole.KETUA)],
                                 facilitators=[world.facilitator_b])
    made = factories.make_chain(session, world)
    assert not services.can_manage_chain(session, world.facilitator_b, made)
    services.assign_kube(session, world.operator, SLUG, made.processes[1].id, kube_c.id, "5")
    assert services.can_manage_chain(session, world.facilitator_b, made)
