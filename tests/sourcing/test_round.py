"""The whole round of an integrated business, through the services: an order taker's request, quotes,
the contract, the plan from it, lots made at each stage of the chain by different KUBEs, the delivery, its
payment shared through the ledger, and the delivered lot traced back to every KUBE and forward to the buyer."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from marketplace.auth.models import OrderTakerProfile, User
from marketplace.catalog.models import Kube, MemberRole
from marketplace.chains import services as chains
from marketplace.chains.models import ProcessKube
from marketplace.common import ConflictError, NotFoundError, PermissionDenied, ValidationError
from marketplace.demo.chains import load_chain
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders import services as orders
from marketplace.sourcing import services as sourcing
from marketplace.sourcing.models import (
    ContractStatus,
    DeliveryStatus,
    Lot,
    QuoteStatus,
    RequestStatus,
    Schedule,
)
from marketplace.sourcing.services import LotInput, RequestInput
from tests import factories

TODAY = date(2026, 12, 7)  # a Monday
FEE_BPS = 200
CHAIN = "kelapa-terpadu-banggai"


@dataclass
class Coconut:
    taker: User
    other_taker: User
    facilitator: User  # assigned to the soap KUBE, so a manager of the chain
    stranger_facilitator: User
    buyer: User
    nyiur: Kube  # splits nuts
    mutiara: Kube  # makes oil
    busa: Kube  # makes soap
    outsider: Kube  # not in the chain
    nyiur_ketua: User
    mutiara_anggota: User
    busa_ketua: User
    outsider_ketua: User
    operator: User


@pytest.fixture
def coconut(session: Session) -> Coconut:
    users = {who: factories.make_user(session, who) for who in (
        "taker", "other_taker", "buyer", "nyiur_ketua", "mutiara_anggota", "busa_ketua", "outsider_ketua")}
    facilitator = factories.make_user(session, "fasilitator", is_facilitator=True)
    stranger = factories.make_user(session, "fasilitator_lain", is_facilitator=True)
    operator = factories.make_user(session, "operator", is_operator=True)
    for who, company in (("taker", "PT Sabun Nusantara Ekspor"), ("other_taker", "CV Arang Timur")):
        session.add(OrderTakerProfile(user_id=users[who].id, company_name=company))
    nyiur = factories.make_kube(session, "KUBE Nyiur Melambai", members=[(users["nyiur_ketua"], MemberRole.KETUA)])
    mutiara = factories.make_kube(session, "KUBE Mutiara Kelapa",
                                  members=[(users["mutiara_anggota"], MemberRole.ANGGOTA)])
    busa = factories.make_kube(session, "KUBE Busa Nyiur", members=[(users["busa_ketua"], MemberRole.KETUA)],
                               facilitators=[facilitator])
    outsider = factories.make_kube(session, "KUBE Lain", members=[(users["outsider_ketua"], MemberRole.KETUA)],
                                   facilitators=[stranger])
    assert load_chain(session) == 1
    session.flush()
    return Coconut(users["taker"], users["other_taker"], facilitator, stranger, users["buyer"], nyiur, mutiara,
                   busa, outsider, users["nyiur_ketua"], users["mutiara_anggota"], users["busa_ketua"],
                   users["outsider_ketua"], operator)


def _soap_request(session: Session, w: Coconut, **changes: object) -> sourcing.SourcingRequest:
    fields: dict[str, object] = dict(item_name="", quantity="100", unit="kg", schedule="weekly",
                                     starts_on=TODAY, until=TODAY + timedelta(weeks=3), province_code="72",
                                     regency_code="72.01", target_price="60.000", chain_slug=CHAIN,
                                     item="sabun-kelapa", note="Untuk ekspor")
    fields.update(changes)
    return sourcing.create_request(session, w.taker, RequestInput(**fields), today=TODAY)  # type: ignore[arg-type]


def test_the_full_round(session: Session, coconut: Coconut) -> None:
    w = coconut
    # 1. The soap exporter asks for 100 kg of soap a week for four weeks.
    request = _soap_request(session, w)
    assert (request.item, request.item_name, request.unit) == ("sabun-kelapa", "Sabun kelapa", "kg")
    assert request.target_price == 60_000 and request.quantity == Decimal("100.000")
    assert request in sourcing.open_requests(session, "72")

    # 2. The chain quotes (its facilitator), and the soap KUBE quotes on its own; the chain's quote wins.
    chain_quote = sourcing.make_quote(session, w.facilitator, request.id, price_per_unit="58000", quantity="100",
                                      chain_slug=CHAIN, note="Seluruh rantai")
    kube_quote = sourcing.make_quote(session, w.busa_ketua, request.id, price_per_unit=62_000, quantity="50",
                                     kube_id=w.busa.id)
    contract = sourcing.accept_quote(session, w.taker, chain_quote.id, FEE_BPS, today=TODAY)
    assert contract.chain_id is not None and contract.kube_id is None
    assert (contract.quantity, contract.price_per_unit, contract.fee_bps) == (Decimal("100.000"), 58_000, FEE_BPS)
    assert request.status == RequestStatus.CLOSED  # covered in full
    assert kube_quote.status == QuoteStatus.DECLINED and chain_quote.status == QuoteStatus.ACCEPTED
    assert [d.day for d in sourcing.schedule_of(contract)] == [TODAY + timedelta(weeks=n) for n in range(4)]
    assert sourcing.supplier_kube_ids(session, contract) == {w.busa.id}

    # 3. The plan from the open contracts: 100 kg soap -> 78 kg oil -> 195 kg meat -> 558 whole nuts.
    chain = chains.chain_by_slug(session, CHAIN)
    assert sourcing.contract_demand(session, chain, "week", TODAY) == {"sabun-kelapa": Fraction(100)}
    planned = sourcing.contract_plan(session, chain, "week", TODAY)
    assert planned is not None
    plan = planned.plan
    assert plan.process("sabun").required_input == {"minyak-kelapa": Fraction(78)}
    assert plan.process("minyak-kelapa").required_input == {"daging-kelapa": Fraction(195)}
    assert plan.process("kupas-belah").runs == 558  # 195 / 0.35 = 557.14, whole nuts
    month = sourcing.contract_demand(session, chain, "month", TODAY)
    assert month == {"sabun-kelapa": Fraction(100) * Fraction(52, 12)}
    assert sourcing.contract_demand(session, chain, "week", TODAY - timedelta(days=7)) == {}  # not started yet

    # 4. Lots at each stage, each KUBE using the one before's lot.
    nuts = sourcing.record_lot(session, w.nyiur_ketua, LotInput(
        kube_id=w.nyiur.id, item="", item_name="Kelapa butir", unit="butir", quantity="600", made_on=TODAY),
        today=TODAY)
    # One split of 600 nuts gives the four joint products at once: four lots of one batch.
    husk, shell, meat, water = sourcing.record_lots(session, w.nyiur_ketua, LotInput(
        kube_id=w.nyiur.id, item="", quantity="", made_on=TODAY, chain_slug=CHAIN, process_key="kupas-belah",
        sources=[(nuts.code, "600")], outputs=[("sabut", "262,5"), ("tempurung", "90"), ("daging-kelapa", "210"),
                                               ("air-kelapa", "187,5")]), today=TODAY)
    assert husk.batch == shell.batch == meat.batch == water.batch == husk.code
    assert (meat.item, meat.quantity, water.unit) == ("daging-kelapa", Decimal(210), "liter")
    assert sourcing.lot_remaining(session, nuts) == 0  # the nuts were used once, by the batch
    with pytest.raises(ConflictError):
        sourcing.record_lot(session, w.nyiur_ketua, LotInput(
            kube_id=w.nyiur.id, item="daging-kelapa", quantity="1", made_on=TODAY, chain_slug=CHAIN,
            process_key="kupas-belah", sources=[(nuts.code, "1")]), today=TODAY)
    with pytest.raises(ValidationError):  # the meat is Nyiur's until Nyiur hands it over
        sourcing.record_lot(session, w.mutiara_anggota, LotInput(
            kube_id=w.mutiara.id, item="minyak-kelapa", quantity="80", made_on=TODAY, chain_slug=CHAIN,
            process_key="minyak-kelapa", sources=[(meat.code, "200")]), today=TODAY)
    with pytest.raises(PermissionDenied):  # and only Nyiur's members hand it over
        sourcing.hand_over(session, w.mutiara_anggota, meat.code, w.mutiara.id)
    with pytest.raises(ValidationError):  # to a KUBE of the chain that takes meat in
        sourcing.hand_over(session, w.nyiur_ketua, meat.code, w.busa.id)
    sourcing.hand_over(session, w.nyiur_ketua, meat.code, w.mutiara.id)
    oil = sourcing.record_lot(session, w.mutiara_anggota, LotInput(
        kube_id=w.mutiara.id, item="minyak-kelapa", quantity="80", made_on=TODAY, chain_slug=CHAIN,
        process_key="minyak-kelapa", sources=[(meat.code.lower(), "200")]), today=TODAY)
    with pytest.raises(ConflictError):  # not taken back once used
        sourcing.hand_over(session, w.nyiur_ketua, meat.code, None)
    sourcing.hand_over(session, w.mutiara_anggota, oil.code, w.busa.id)
    soap = sourcing.record_lot(session, w.busa_ketua, LotInput(
        kube_id=w.busa.id, item="sabun-kelapa", quantity="100", made_on=TODAY, chain_slug=CHAIN,
        process_key="sabun", sources=[(oil.code, "78")]), today=TODAY)
    assert sourcing.lot_remaining(session, meat) == Decimal(10)
    assert sourcing.lot_remaining(session, oil) == Decimal(2)
    assert soap.unit == "kg" and soap.item_name == "Sabun kelapa"

    # 5. The soap KUBE delivers the first week in two parts; the order taker confirms; an operator pays.
    first = sourcing.record_delivery(session, w.busa_ketua, contract.id, lot_code=soap.code, quantity="60",
                                     due_on=TODAY, today=TODAY)
    second = sourcing.record_delivery(session, w.busa_ketua, contract.id, lot_code=soap.code, quantity="40",
                                      due_on=TODAY.isoformat(), today=TODAY)
    assert (first.amount, second.amount) == (3_480_000, 2_320_000)
    view = sourcing.contract_view(contract, TODAY + timedelta(weeks=1, days=1))
    assert [d.day for d in view.late] == [TODAY + timedelta(weeks=1)]  # the second week is now late
    with pytest.raises(ValidationError):  # the first week is full
        sourcing.record_delivery(session, w.busa_ketua, contract.id, lot_code=soap.code, quantity="1",
                                 due_on=TODAY, today=TODAY)
    with pytest.raises(ConflictError):  # the lot is used up
        sourcing.record_delivery(session, w.busa_ketua, contract.id, lot_code=soap.code, quantity="1",
                                 due_on=TODAY + timedelta(weeks=1), today=TODAY)
    with pytest.raises(PermissionDenied):  # only the operator records payments
        sourcing.record_delivery_payment(session, w.taker, first.id, "BCA 123")
    sourcing.confirm_received(session, w.taker, first.id)
    assert first.status == DeliveryStatus.RECEIVED
    sourcing.record_delivery_payment(session, w.operator, first.id, "BCA 0612-77")
    with pytest.raises(ConflictError):
        sourcing.record_delivery_payment(session, w.operator, first.id, "again")

    # 60 of the 100 kg soap lot was paid: 60 % of its 78 kg oil (46.8 kg at Rp18.000) goes to the oil KUBE,
    # which pays for 46.8/80 of its 200 kg meat (117 kg at Rp3.000) to the splitting KUBE. The nuts were the
    # splitting KUBE's own, so they cost nothing more.
    assert ledger.balance(session, w.busa.id) == 3_480_000 - 69_600 - 842_400
    assert ledger.balance(session, w.mutiara.id) == 842_400 - 351_000
    assert ledger.balance(session, w.nyiur.id) == 351_000
    kinds = dict(session.execute(select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
                                 .group_by(LedgerEntry.kind)).all())
    assert kinds[EntryKind.CHAIN_SALE] == -kinds[EntryKind.CHAIN_INPUT] == 842_400 + 351_000

    # Each side heard of each step in its notifications, with a link target.
    def heard(user: User) -> list[tuple[str, dict[str, object]]]:
        return [(n.message, n.params) for n in orders.notifications(session, user)][::-1]

    assert [m for m, _ in heard(w.taker)] == [
        "%(supplier)s quoted for your request for %(item)s.", "%(supplier)s quoted for your request for %(item)s.",
        "%(kube)s sent %(quantity)s %(unit)s of %(item)s (contract %(code)s).",
        "%(kube)s sent %(quantity)s %(unit)s of %(item)s (contract %(code)s)."]
    assert heard(w.taker)[2][1] == {"kube": "KUBE Busa Nyiur", "quantity": "60", "unit": "kg",
                                    "item": "Sabun kelapa", "code": contract.code, "contract_id": contract.id}
    assert [m for m, _ in heard(w.facilitator)] == ["Your quote for %(item)s was accepted: contract %(code)s."]
    assert [m for m, _ in heard(w.busa_ketua)] == [
        "Your quote for %(item)s was declined.", "%(kube)s handed lot %(code)s (%(item)s) over to your KUBE.",
        "The order taker confirmed your delivery on contract %(code)s.",
        "A delivery on contract %(code)s (%(total)s) was paid; your KUBE's share is in its ledger."]
    assert len(heard(w.nyiur_ketua)) == 1 and heard(w.nyiur_ketua)[0][1]["total"] == 3_480_000
    assert heard(w.outsider_ketua) == []

    # 6. The revenue report shows each KUBE's share.
    _, revenue = sourcing.revenue_report(session, w.facilitator, CHAIN)
    shares = {r.kube.slug: (r.contract_sales, r.chain_sales, r.chain_inputs, r.fees, r.net) for r in revenue}
    assert shares["kube-busa-nyiur"] == (3_480_000, 0, -842_400, -69_600, 2_568_000)
    assert shares["kube-mutiara-kelapa"] == (0, 842_400, -351_000, 0, 491_400)
    assert shares["kube-nyiur-melambai"] == (0, 351_000, 0, 0, 351_000)
    assert sum(r.net for r in revenue) == 3_480_000 - 69_600  # the chain keeps all but the platform's fee
    for outsider in (w.buyer, w.stranger_facilitator, w.outsider_ketua, w.other_taker):
        with pytest.raises(PermissionDenied):
            sourcing.revenue_report(session, outsider, CHAIN)
    sourcing.revenue_report(session, w.mutiara_anggota, CHAIN)  # a member of a chain KUBE may read it

    # 7. The delivered lot traces back to every KUBE, and the nuts forward to the soap exporter.
    back = sourcing.trace(session, soap.code)
    assert [k.slug for k in back.kubes] == ["kube-busa-nyiur", "kube-mutiara-kelapa", "kube-nyiur-melambai"]
    (oil_node,) = back.root.children
    assert oil_node.lot.code == oil.code and oil_node.used == Decimal(78)
    assert oil_node.children[0].lot.code == meat.code and oil_node.children[0].children[0].lot.code == nuts.code
    assert sourcing.kube_lots(session, w.nyiur.id)[-1] == (nuts, Decimal(0))
    assert {d.id for d in back.deliveries} == {first.id, second.id}
    forward = sourcing.trace(session, nuts.code)
    assert {(lot.code, used) for lot, used in forward.made_into} == {
        (lot.code, Decimal(600)) for lot in (husk, shell, meat, water)}
    assert {d.contract.order_taker.email for d in forward.deliveries} == {w.taker.email}


def test_who_may_do_what(session: Session, coconut: Coconut) -> None:
    w = coconut
    with pytest.raises(PermissionDenied):  # a plain buyer posts no request
        sourcing.create_request(
            session, w.buyer, RequestInput(item_name="Arang", quantity="1", unit="kg", schedule="once",
                                           starts_on=TODAY, until=None, province_code="72"), today=TODAY)
    request = _soap_request(session, w)
    with pytest.raises(PermissionDenied):  # an anggota does not commit the KUBE to a price
        sourcing.make_quote(session, w.mutiara_anggota, request.id, price_per_unit=1, quantity="1",
                            kube_id=w.mutiara.id)
    with pytest.raises(PermissionDenied):  # an officer of another KUBE
        sourcing.make_quote(session, w.outsider_ketua, request.id, price_per_unit=1, quantity="1",
                            kube_id=w.busa.id)
    with pytest.raises(PermissionDenied):  # a facilitator with no KUBE in the chain
        sourcing.make_quote(session, w.stranger_facilitator, request.id, price_per_unit=1, quantity="1",
                            chain_slug=CHAIN)
    quote = sourcing.make_quote(session, w.busa_ketua, request.id, price_per_unit=61_000, quantity="40",
                                kube_id=w.busa.id)
    with pytest.raises(ConflictError):  # one open quote per KUBE
        sourcing.make_quote(session, w.busa_ketua, request.id, price_per_unit=60_000, quantity="40",
                            kube_id=w.busa.id)
    with pytest.raises(PermissionDenied):  # another order taker
        sourcing.accept_quote(session, w.other_taker, quote.id, FEE_BPS, today=TODAY)
    with pytest.raises(PermissionDenied):  # the quoting KUBE cannot accept its own quote
        sourcing.accept_quote(session, w.busa_ketua, quote.id, FEE_BPS, today=TODAY)
    contract = sourcing.accept_quote(session, w.taker, quote.id, FEE_BPS, today=TODAY)
    assert request.status == RequestStatus.OPEN  # 40 of 100 kg covered: still taking quotes
    with pytest.raises(ConflictError):
        sourcing.accept_quote(session, w.taker, quote.id, FEE_BPS, today=TODAY)
    assert contract.kube_id == w.busa.id

    # Reading a contract: its two sides and operators; others get 404.
    for reader in (w.taker, w.busa_ketua, w.facilitator, w.operator):
        assert sourcing.read_contract(session, reader, contract.id) is contract
    for outsider in (w.other_taker, w.outsider_ketua, w.stranger_facilitator, w.buyer):
        with pytest.raises(NotFoundError):
            sourcing.read_contract(session, outsider, contract.id)

    # Lots: only the KUBE's members record them; a KUBE outside the chain cannot use a chain KUBE's lot.
    with pytest.raises(PermissionDenied):
        sourcing.record_lot(session, w.outsider_ketua, LotInput(
            kube_id=w.busa.id, item="", item_name="Sabun", unit="kg", quantity="1", made_on=TODAY), today=TODAY)
    with pytest.raises(PermissionDenied):  # the outsider KUBE runs no process of the chain
        sourcing.record_lot(session, w.outsider_ketua, LotInput(
            kube_id=w.outsider.id, item="sabun-kelapa", quantity="1", made_on=TODAY, chain_slug=CHAIN,
            process_key="sabun"), today=TODAY)
    oil = sourcing.record_lot(session, w.mutiara_anggota, LotInput(
        kube_id=w.mutiara.id, item="minyak-kelapa", quantity="10", made_on=TODAY, chain_slug=CHAIN,
        process_key="minyak-kelapa"), today=TODAY)
    with pytest.raises(ValidationError):
        sourcing.record_lot(session, w.outsider_ketua, LotInput(
            kube_id=w.outsider.id, item="", item_name="Sabun", unit="kg", quantity="1", made_on=TODAY,
            sources=[(oil.code, "1")]), today=TODAY)
    with pytest.raises(ValidationError):  # soap is not made from soap... nor oil used by the oil process
        sourcing.record_lot(session, w.mutiara_anggota, LotInput(
            kube_id=w.mutiara.id, item="minyak-kelapa", quantity="1", made_on=TODAY, chain_slug=CHAIN,
            process_key="minyak-kelapa", sources=[(oil.code, "1")]), today=TODAY)
    sourcing.hand_over(session, w.mutiara_anggota, oil.code, w.busa.id)
    with pytest.raises(ConflictError):  # more than the lot holds
        sourcing.record_lot(session, w.busa_ketua, LotInput(
            kube_id=w.busa.id, item="sabun-kelapa", quantity="1", made_on=TODAY, chain_slug=CHAIN,
            process_key="sabun", sources=[(oil.code, "10,5")]), today=TODAY)
    # Deliveries: the oil KUBE does not supply the soap contract, and a lot must be of the contract's item.
    with pytest.raises(PermissionDenied):
        sourcing.record_delivery(session, w.mutiara_anggota, contract.id, lot_code=oil.code, quantity="1",
                                 due_on=TODAY, today=TODAY)
    busa_oil = sourcing.record_lot(session, w.busa_ketua, LotInput(
        kube_id=w.busa.id, item="", item_name="Minyak kelapa", unit="kg", quantity="5", made_on=TODAY),
        today=TODAY)
    with pytest.raises(ValidationError):
        sourcing.record_delivery(session, w.busa_ketua, contract.id, lot_code=busa_oil.code, quantity="1",
                                 due_on=TODAY, today=TODAY)
    soap = sourcing.record_lot(session, w.busa_ketua, LotInput(
        kube_id=w.busa.id, item="sabun-kelapa", quantity="5", made_on=TODAY, chain_slug=CHAIN,
        process_key="sabun"), today=TODAY)
    delivery = sourcing.record_delivery(session, w.busa_ketua, contract.id, lot_code=soap.code,
                                        quantity="5", due_on=TODAY, today=TODAY)
    with pytest.raises(PermissionDenied):  # only the contract's order taker confirms
        sourcing.confirm_received(session, w.other_taker, delivery.id)
    sourcing.cancel_contract(session, w.busa_ketua, contract.id)
    assert contract.status == ContractStatus.CANCELLED
    with pytest.raises(ConflictError):
        sourcing.record_delivery(session, w.busa_ketua, contract.id, lot_code=soap.code, quantity="1",
                                 due_on=TODAY + timedelta(weeks=1), today=TODAY)


@pytest.mark.parametrize("bad", [
    {"quantity": "0"}, {"quantity": "-5"}, {"quantity": "abc"}, {"quantity": "1e400"}, {"quantity": "NaN"},
    {"quantity": "1,0005"}, {"quantity": "٣"}, {"unit": "ton", "chain_slug": None, "item_name": "Arang"},
    {"schedule": "daily"},
    {"starts_on": "2026-12-06"}, {"starts_on": "kemarin"}, {"until": "2026-12-01"},
    {"until": "2031-01-01"}, {"province_code": "99"}, {"regency_code": "32.04"}, {"target_price": "-1"},
    {"target_price": "1,5"}, {"item": "kopi"}, {"chain_slug": "tidak-ada"},
])
def test_bad_requests_are_refused(session: Session, coconut: Coconut, bad: dict[str, object]) -> None:
    with pytest.raises((ValidationError, NotFoundError)):
        _soap_request(session, coconut, **bad)
    assert sourcing.open_requests(session) == []


def test_quantities_are_read_as_people_write_them() -> None:
    read = sourcing.parse_quantity
    assert read("1.500", field="q") == Decimal(1500)
    assert read("2,5", field="q") == Decimal("2.5")
    assert read("1.234,75", field="q") == Decimal("1234.75")
    assert read("12.5", field="q") == Decimal("12.5")
    with pytest.raises(ValidationError):
        read("0,4375", field="q")  # grams are the finest
    assert read(3, field="q") == Decimal(3)
    assert read(Decimal("1.500"), field="q") == Decimal("1.5")  # a number from the database: no thousands


def test_schedules() -> None:
    assert sourcing.due_dates(Schedule.ONCE, TODAY, TODAY + timedelta(days=90)) == [TODAY]
    assert sourcing.due_dates(Schedule.WEEKLY, TODAY, TODAY + timedelta(days=20)) == [
        TODAY, TODAY + timedelta(weeks=1), TODAY + timedelta(weeks=2)]
    assert sourcing.due_dates(Schedule.MONTHLY, date(2027, 1, 31), date(2027, 4, 30)) == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    assert sourcing.rupiah_of(Decimal("46.8"), 18_000) == 842_400
    assert sourcing.rupiah_of(Fraction(1, 3), 1) == 0 and sourcing.rupiah_of(Fraction(1, 2), 1) == 1


def test_one_off_contracts_count_in_the_period_they_fall_in(session: Session, coconut: Coconut) -> None:
    w = coconut
    request = sourcing.create_request(session, w.other_taker, RequestInput(
        item_name="", quantity="300", unit="kg", schedule="once", starts_on=TODAY + timedelta(days=10),
        until=None, province_code="72", chain_slug=CHAIN, item="arang-tempurung"), today=TODAY)
    quote = sourcing.make_quote(session, w.operator, request.id, price_per_unit=6_500, quantity="300",
                                chain_slug=CHAIN)
    sourcing.accept_quote(session, w.other_taker, quote.id, FEE_BPS, today=TODAY)
    chain = chains.chain_by_slug(session, CHAIN)
    assert sourcing.contract_demand(session, chain, "week", TODAY) == {}
    assert sourcing.contract_plan(session, chain, "week", TODAY) is None
    assert sourcing.contract_demand(session, chain, "month", TODAY) == {"arang-tempurung": Fraction(300)}
    planned = sourcing.contract_plan(session, chain, "month", TODAY)
    assert planned is not None and planned.plan.process("kupas-belah").runs == 6667  # 1,000 kg shell / 0.15


def test_members_delivering_from_one_lot_at_once_never_overdraw_it(
        app: Flask, session: Session, coconut: Coconut, database_url: str) -> None:
    """Four members of the soap KUBE send 60 kg each from a 100 kg lot at the same moment: one delivery."""
    w = coconut
    request = _soap_request(session, w, quantity="500")
    quote = sourcing.make_quote(session, w.busa_ketua, request.id, price_per_unit=60_000, quantity="500",
                                kube_id=w.busa.id)
    contract = sourcing.accept_quote(session, w.taker, quote.id, FEE_BPS, today=TODAY)
    members = [w.busa_ketua, *factories.add_households(session, w.busa, 3)]
    soap = sourcing.record_lot(session, w.busa_ketua, LotInput(
        kube_id=w.busa.id, item="sabun-kelapa", quantity="100", made_on=TODAY, chain_slug=CHAIN,
        process_key="sabun"), today=TODAY)
    session.commit()
    engine = create_engine(database_url, poolclass=NullPool)
    ids, contract_id, code = [m.id for m in members], contract.id, soap.code
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(ids))

    def deliver(user_id: int) -> None:
        with app.app_context():
            own = Session(engine)
            try:
                member = own.get(User, user_id)
                start.wait(timeout=30)
                sourcing.record_delivery(own, member, contract_id, lot_code=code, quantity="60", due_on=TODAY,
                                         today=TODAY)
                own.commit()
                outcome = "sent"
            except ConflictError:
                own.rollback()
                outcome = "refused"
            except Exception as exc:  # SQLite may give up waiting for its write lock: a refusal too
                own.rollback()
                outcome = "refused" if "locked" in str(exc) else f"error: {exc!r}"
            finally:
                own.close()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=deliver, args=(user_id,)) for user_id in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    assert sorted(results) == ["refused"] * (len(ids) - 1) + ["sent"], results
    session.expire_all()
    assert sourcing.lot_remaining(session, sourcing.lot_by_code(session, code)) == Decimal(40)


def _chain_lot(session: Session, who: User, kube: Kube, process: str, item: str, quantity: str,
               sources: Sequence[tuple[str, str]] = ()) -> Lot:
    return sourcing.record_lot(session, who, LotInput(kube_id=kube.id, item=item, quantity=quantity, made_on=TODAY,
                                                      chain_slug=CHAIN, process_key=process, sources=sources),
                               today=TODAY)


def test_a_lot_goes_to_one_kube_and_is_paid_at_the_price_agreed(session: Session, coconut: Coconut) -> None:
    """Nyiur hands its meat to Mutiara: the outsider placed in the oil process cannot use it. Prices are those
    of the chain when the lots were used, whatever happens to them afterwards."""
    w = coconut
    chain = chains.chain_by_slug(session, CHAIN)
    oil_process = next(p for p in chain.processes if p.key == "minyak-kelapa")
    oil_process.kubes.append(ProcessKube(kube_id=w.outsider.id, capacity_per_week=Decimal(100)))
    session.flush()
    meat = _chain_lot(session, w.nyiur_ketua, w.nyiur, "kupas-belah", "daging-kelapa", "200")
    assert {k.slug for k in sourcing.handover_kubes(session, meat)} == {"kube-mutiara-kelapa", "kube-lain"}
    sourcing.hand_over(session, w.nyiur_ketua, meat.code, w.mutiara.id)
    with pytest.raises(ValidationError):
        _chain_lot(session, w.outsider_ketua, w.outsider, "minyak-kelapa", "minyak-kelapa", "40",
                   [(meat.code, "100")])
    oil = _chain_lot(session, w.mutiara_anggota, w.mutiara, "minyak-kelapa", "minyak-kelapa", "80",
                     [(meat.code, "200")])
    sourcing.hand_over(session, w.mutiara_anggota, oil.code, w.busa.id)
    soap = _chain_lot(session, w.busa_ketua, w.busa, "sabun", "sabun-kelapa", "100", [(oil.code, "78")])
    request = _soap_request(session, w)
    quote = sourcing.make_quote(session, w.facilitator, request.id, price_per_unit=60_000, quantity="100",
                                chain_slug=CHAIN)
    contract = sourcing.accept_quote(session, w.taker, quote.id, FEE_BPS, today=TODAY)
    delivery = sourcing.record_delivery(session, w.busa_ketua, contract.id, lot_code=soap.code, quantity="100",
                                        due_on=TODAY, today=TODAY)
    for flow in (f for p in chain.processes for f in p.flows):  # prices raised after the lots were used
        flow.price = (flow.price or 0) * 1000
    session.flush()
    sourcing.record_delivery_payment(session, w.operator, delivery.id, "BRI 1")
    assert ledger.balance(session, w.busa.id) == 6_000_000 - 120_000 - 78 * 18_000
    assert ledger.balance(session, w.mutiara.id) == 78 * 18_000 - round(Fraction(78, 80) * 200 * 3_000)
    assert ledger.balance(session, w.nyiur.id) == round(Fraction(78, 80) * 200 * 3_000)
    heard = [n.message for n in orders.notifications(session, w.mutiara_anggota)]
    assert "%(kube)s handed lot %(code)s (%(item)s) over to your KUBE." not in heard  # officers only
    assert "%(kube)s handed lot %(code)s (%(item)s) over to your KUBE." in [
        n.message for n in orders.notifications(session, w.busa_ketua)]


def test_a_trace_shows_each_lot_once_however_many_paths_lead_to_it(session: Session, coconut: Coconut) -> None:
    """Eight levels of three lots, each made from all three below: 3^8 paths, but 24 lots to show."""
    w = coconut
    level = [sourcing.record_lot(session, w.busa_ketua, LotInput(
        kube_id=w.busa.id, item="", item_name="Bahan", unit="kg", quantity="100", made_on=TODAY), today=TODAY)
        for _ in range(3)]
    for _ in range(7):
        level = [sourcing.record_lot(session, w.busa_ketua, LotInput(
            kube_id=w.busa.id, item="", item_name="Olahan", unit="kg", quantity="1", made_on=TODAY,
            sources=[(lot.code, "0,01") for lot in level]), today=TODAY) for _ in range(3)]

    def nodes(node: sourcing.TraceNode) -> int:
        return 1 + sum(nodes(child) for child in node.children)

    found = sourcing.trace(session, level[0].code)
    assert nodes(found.root) <= 1 + 3 * 3 * 8  # each lot's sources listed under its first appearance only
    assert [k.slug for k in found.kubes] == ["kube-busa-nyiur"]


def test_a_chain_contract_is_delivered_from_the_chains_lots(session: Session, coconut: Coconut) -> None:
    w = coconut
    request = _soap_request(session, w)
    quote = sourcing.make_quote(session, w.facilitator, request.id, price_per_unit=60_000, quantity="100",
                                chain_slug=CHAIN)
    contract = sourcing.accept_quote(session, w.taker, quote.id, FEE_BPS, today=TODAY)
    loose = sourcing.record_lot(session, w.busa_ketua, LotInput(
        kube_id=w.busa.id, item="sabun-kelapa", item_name="Sabun kelapa", unit="kg", quantity="100",
        made_on=TODAY), today=TODAY)
    with pytest.raises(ValidationError):
        sourcing.record_delivery(session, w.busa_ketua, contract.id, lot_code=loose.code, quantity="10",
                                 due_on=TODAY, today=TODAY)


def test_a_late_acceptance_keeps_the_requests_days(session: Session, coconut: Coconut) -> None:
    w = coconut
    request = _soap_request(session, w, until=TODAY + timedelta(weeks=4))  # Mondays
    quote = sourcing.make_quote(session, w.busa_ketua, request.id, price_per_unit=60_000, quantity="100",
                                kube_id=w.busa.id)
    contract = sourcing.accept_quote(session, w.taker, quote.id, FEE_BPS, today=TODAY + timedelta(days=2))
    assert [d.day.weekday() for d in sourcing.schedule_of(contract)] == [0, 0, 0, 0]
    assert contract.starts_on == TODAY + timedelta(weeks=1)


def test_who_ends_a_chain_contract(session: Session, coconut: Coconut) -> None:
    """One KUBE of the chain does not end the whole chain's contract; its managers and the order taker do;
    an outsider is not told it exists."""
    w = coconut
    request = _soap_request(session, w)
    quote = sourcing.make_quote(session, w.facilitator, request.id, price_per_unit=60_000, quantity="100",
                                chain_slug=CHAIN)
    contract = sourcing.accept_quote(session, w.taker, quote.id, FEE_BPS, today=TODAY)
    with pytest.raises(PermissionDenied):
        sourcing.cancel_contract(session, w.busa_ketua, contract.id)
    with pytest.raises(NotFoundError):
        sourcing.cancel_contract(session, w.outsider_ketua, contract.id)
    assert sourcing.can_end_contract(session, w.taker, contract)
    sourcing.cancel_contract(session, w.facilitator, contract.id)
    assert contract.status == ContractStatus.CANCELLED


def test_a_facilitator_does_not_remove_kubes_they_do_not_coach_with_their_process(
        session: Session, coconut: Coconut) -> None:
    w = coconut
    chain = chains.chain_by_slug(session, CHAIN)
    oil = next(p for p in chain.processes if p.key == "minyak-kelapa")  # run by Mutiara, not coached by them
    with pytest.raises(PermissionDenied):
        chains.delete_process(session, w.facilitator, CHAIN, oil.id)
    soap = next(p for p in chain.processes if p.key == "sabun")  # Busa Nyiur, which they coach
    chains.delete_process(session, w.facilitator, CHAIN, soap.id)
    assert "sabun" not in {p.key for p in chains.chain_by_slug(session, CHAIN).processes}
