"""The KUBE ledger's rules: what a paid order credits, refunds and cash, payouts, who reads what."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from marketplace.auth.models import User
from marketplace.catalog.models import Kube, KubeStatus
from marketplace.common import ConflictError, NotFoundError, PermissionDenied, ValidationError
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, LedgerEntry, Payout
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.services import Delivery
from tests import factories
from tests.factories import World

COURIER = Delivery("courier", "Budi", "0812000111", "Jl. Kenanga 5, Luwuk")


def _paid_order(session: Session, world: World, *, price: int = 15_000, quantity: int = 1, fee_bps: int = 200,
                courier: bool = False, buyer: User | None = None) -> Order:
    """A committed bank-transfer order of KUBE A, confirmed by the operator."""
    product = factories.make_product(session, world.kube_a, world.category, price=price, stock=100)
    checkout = orders.place_checkout(session, buyer or world.buyer, [(product.id, quantity)], payment_method="manual",
                                     delivery=COURIER if courier else Delivery(), fee_bps=fee_bps)
    orders.confirm_payment(session, world.operator, checkout.id)
    session.commit()
    return checkout.orders[0]


def _entries(session: Session, kube_id: int) -> list[tuple[str, int]]:
    session.expire_all()
    return [(e.kind.value, e.amount) for e in session.scalars(
        select(LedgerEntry).where(LedgerEntry.kube_id == kube_id).order_by(LedgerEntry.id))]


def _rows(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count(LedgerEntry.id))) or 0,
            session.scalar(select(func.count(Payout.id))) or 0)


# --- Posting ----------------------------------------------------------------------------------------


def test_fee_is_rounded_down_to_the_rupiah() -> None:
    assert ledger.platform_fee(123_457, 200) == 2_469  # 2,469.14
    assert ledger.platform_fee(99, 200) == 1
    assert ledger.platform_fee(49, 200) == 0
    assert ledger.platform_fee(123_457, 0) == 0


def test_a_paid_order_credits_sale_and_delivery_and_debits_the_fee(session: Session, world: World) -> None:
    order = _paid_order(session, world, price=123_457, courier=True)
    delivery = world.kube_a.courier_base_fee + world.kube_a.courier_fee_per_kg  # 500 g: one started kilogram
    assert order.platform_fee == 2_469
    assert _entries(session, world.kube_a.id) == [("sale", 123_457), ("delivery", delivery), ("fee", -2_469)]
    assert ledger.balance(session, world.kube_a.id) == 123_457 + delivery - 2_469
    assert ledger.balance(session, world.kube_b.id) == 0
    entry_orders = set(session.scalars(select(LedgerEntry.order_id)))
    assert entry_orders == {order.id}


def test_an_unpaid_order_credits_nothing(session: Session, world: World) -> None:
    orders.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual", fee_bps=200)
    session.commit()
    assert _entries(session, world.kube_a.id) == []


def test_confirming_twice_credits_once(session: Session, world: World) -> None:
    order = _paid_order(session, world, price=50_000)
    with pytest.raises(ConflictError):
        orders.confirm_payment(session, world.operator, order.checkout_id)
    session.rollback()
    ledger.credit_order(session, order)  # posting the same order again adds nothing
    session.commit()
    assert _entries(session, world.kube_a.id) == [("sale", 50_000), ("fee", -1_000)]
    assert ledger.balance(session, world.kube_a.id) == 49_000


def test_a_refund_debits_what_the_order_credited(session: Session, world: World) -> None:
    kept = _paid_order(session, world, price=20_000)
    refunded = _paid_order(session, world, price=123_457, courier=True)
    credited = ledger.balance(session, world.kube_a.id) - 19_600
    orders.cancel_order(session, world.ketua_a, refunded.id, "Stok rusak")
    session.commit()
    assert session.get(Order, refunded.id).status == OrderStatus.REFUNDED  # type: ignore[union-attr]
    refund = session.scalar(select(LedgerEntry).where(LedgerEntry.order_id == refunded.id,
                                                      LedgerEntry.kind == EntryKind.REFUND))
    assert refund is not None and refund.amount == -credited
    assert ledger.balance(session, world.kube_a.id) == 19_600  # only the kept order's 20,000 - 2 %
    ledger.debit_refund(session, session.get(Order, refunded.id))  # type: ignore[arg-type]
    session.commit()
    assert ledger.balance(session, world.kube_a.id) == 19_600  # once
    assert kept.id != refunded.id


def test_cash_on_delivery_leaves_the_fee_owing(session: Session, world: World) -> None:
    product = factories.make_product(session, world.kube_a, world.category, price=123_457)
    checkout = orders.place_checkout(session, world.buyer, [(product.id, 1)], payment_method="manual",
                                     delivery=COURIER, fee_bps=200)
    order = checkout.orders[0]
    ledger.record_cash(session, order)
    session.commit()
    kinds = [kind for kind, _amount in _entries(session, world.kube_a.id)]
    assert kinds == ["sale", "delivery", "fee", "cash"]
    assert ledger.balance(session, world.kube_a.id) == -2_469


# --- Payouts ----------------------------------------------------------------------------------------


def test_a_payout_debits_the_balance_and_keeps_the_bank_account_as_it_was(session: Session, world: World) -> None:
    _paid_order(session, world, price=100_000)  # 98,000 after the 2 % fee
    payout = ledger.record_payout(session, world.operator, world.kube_a.id, "Rp 50.000", " BRI 0042 ", "Juni")
    session.commit()
    assert (payout.amount, payout.reference, payout.note, payout.recorded_by_id) == (
        50_000, "BRI 0042", "Juni", world.operator.id)
    assert (payout.bank_name, payout.bank_account_number, payout.bank_account_holder) == (
        "BRI", "0123456789012", "KUBE Kelapa A group")
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.payout_id == payout.id))
    assert entry is not None and (entry.kind, entry.amount, entry.order_id) == (EntryKind.PAYOUT, -50_000, None)
    assert ledger.balance(session, world.kube_a.id) == 48_000
    # The KUBE changes its account later: the payout still says where the money went.
    world.kube_a.bank_name, world.kube_a.bank_account_number = "BNI", "999"
    session.commit()
    session.expire_all()
    again = session.get(Payout, payout.id)
    assert again is not None and (again.bank_name, again.bank_account_number) == ("BRI", "0123456789012")
    # The whole rest can be paid out, to zero.
    ledger.record_payout(session, world.operator, world.kube_a.id, 48_000, "BNI 7")
    session.commit()
    assert ledger.balance(session, world.kube_a.id) == 0


@pytest.mark.parametrize("amount, field, message", [
    ("98001", "amount", "At most the balance, Rp98.000, can be paid out."),
    ("0", "amount", "Enter the amount transferred, more than Rp0."),
    ("-5000", "amount", "Enter the amount transferred, more than Rp0."),
    ("abc", "amount", "Enter a whole number."),
    ("", "amount", "Enter a whole number."),
    ("1,5", "amount", "Enter a whole number."),
])
def test_bad_payout_amounts_are_refused(session: Session, world: World, amount: str, field: str,
                                        message: str) -> None:
    _paid_order(session, world, price=100_000)
    before = _rows(session)
    with pytest.raises(ValidationError) as caught:
        ledger.record_payout(session, world.operator, world.kube_a.id, amount, "BRI 1")
    session.rollback()
    assert caught.value.field == field and str(caught.value) == message
    assert _rows(session) == before


def test_nothing_to_pay_out_and_missing_details_are_refused(session: Session, world: World) -> None:
    with pytest.raises(ValidationError, match=r"Nothing to pay out: the balance is Rp0\."):
        ledger.record_payout(session, world.operator, world.kube_a.id, 1, "BRI 1")
    session.rollback()
    _paid_order(session, world, price=100_000)
    with pytest.raises(ValidationError) as caught:
        ledger.record_payout(session, world.operator, world.kube_a.id, 1000, "  ")
    assert caught.value.field == "reference"
    session.rollback()
    world.kube_a.bank_account_number = None
    session.commit()
    before = _rows(session)
    with pytest.raises(ValidationError, match="no bank account for payouts") as caught:
        ledger.record_payout(session, world.operator, world.kube_a.id, 1000, "BRI 1")
    assert caught.value.field is None  # shown on the form as a whole
    session.rollback()
    assert _rows(session) == before
    with pytest.raises(NotFoundError):
        ledger.record_payout(session, world.operator, 999_999, 1000, "BRI 1")


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a", "facilitator_a", "buyer"])
def test_only_operators_record_payouts(session: Session, world: World, who: str) -> None:
    _paid_order(session, world, price=100_000)
    with pytest.raises(PermissionDenied):
        ledger.record_payout(session, getattr(world, who), world.kube_a.id, 1000, "BRI 1")
    with pytest.raises(PermissionDenied):
        ledger.payout_account(session, getattr(world, who), world.kube_a.id)
    with pytest.raises(PermissionDenied):
        ledger.balances(session, getattr(world, who))


def test_concurrent_payouts_never_overdraw(app: Flask, session: Session, world: World, database_url: str) -> None:
    """Operators on several screens pay out 60 % of the balance at once: exactly one payout is recorded."""
    _paid_order(session, world, price=100_000)  # 98,000
    tries = 4
    engine = create_engine(database_url, poolclass=NullPool)
    operator_id, kube_id = world.operator.id, world.kube_a.id
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(tries)

    def pay(n: int) -> None:
        with app.app_context():
            own = Session(engine)
            try:
                operator = own.get(User, operator_id)
                assert operator is not None
                start.wait(timeout=30)
                ledger.record_payout(own, operator, kube_id, 58_800, f"TRX {n}")
                own.commit()
                outcome = "paid"
            except (ValidationError, ConflictError):
                own.rollback()
                outcome = "refused"
            except Exception as exc:
                own.rollback()
                outcome = f"error: {exc!r}"
            finally:
                own.close()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(tries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    assert sorted(results) == ["paid"] + ["refused"] * (tries - 1), results
    assert ledger.balance(session, kube_id) == 98_000 - 58_800


# --- Reading ----------------------------------------------------------------------------------------


def test_the_ledger_pages_newest_first_with_totals(session: Session, world: World) -> None:
    first = _paid_order(session, world, price=10_000, courier=True)
    second = _paid_order(session, world, price=20_000)
    payout = ledger.record_payout(session, world.operator, world.kube_a.id, 5_000, "BRI 77")
    session.commit()
    book = ledger.kube_ledger(session, world.anggota_a, world.kube_a.id, page=1, per_page=3)
    delivery = first.delivery_fee
    assert book.balance == 10_000 + delivery + 20_000 - 200 - 400 - 5_000
    assert book.totals == {EntryKind.SALE: 30_000, EntryKind.DELIVERY: delivery, EntryKind.FEE: -600,
                           EntryKind.REFUND: 0, EntryKind.CASH: 0, EntryKind.PAYOUT: -5_000,
                           EntryKind.CONTRACT: 0, EntryKind.CHAIN_SALE: 0, EntryKind.CHAIN_INPUT: 0}
    assert (book.entries.total, book.entries.pages, book.entries.has_next) == (6, 2, True)
    top = book.entries.items
    assert top[0].entry.kind == EntryKind.PAYOUT and top[0].payout is not None
    assert top[0].payout.id == payout.id and top[0].payout.reference == "BRI 77"
    assert [line.entry.order_id for line in top[1:]] == [second.id, second.id]
    rest = ledger.kube_ledger(session, world.anggota_a, world.kube_a.id, page=2, per_page=3).entries.items
    assert [line.entry.order_id for line in rest] == [first.id] * 3 and all(line.payout is None for line in rest)
    assert ledger.kube_ledger(session, world.ketua_a, world.kube_a.id, page=9).entries.items == []


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a", "facilitator_a", "operator"])
def test_members_facilitator_and_operators_read_the_ledger(session: Session, world: World, who: str) -> None:
    _paid_order(session, world, price=10_000)
    assert ledger.kube_ledger(session, getattr(world, who), world.kube_a.id).balance == 9_800


@pytest.mark.parametrize("who", ["ketua_b", "facilitator_b", "buyer", "order_taker"])
def test_others_do_not_read_the_ledger(session: Session, world: World, who: str) -> None:
    _paid_order(session, world, price=10_000)
    with pytest.raises(PermissionDenied):
        ledger.kube_ledger(session, getattr(world, who), world.kube_a.id)
    world.kube_a.status = KubeStatus.DRAFT  # a KUBE that is not public: outsiders do not learn it exists
    session.commit()
    with pytest.raises(NotFoundError):
        ledger.kube_ledger(session, getattr(world, who), world.kube_a.id)
    with pytest.raises(NotFoundError):
        ledger.kube_ledger(session, world.operator, 999_999)


def test_a_disabled_member_reads_nothing(session: Session, world: World) -> None:
    world.anggota_a.is_disabled = True
    session.commit()
    with pytest.raises(PermissionDenied):
        ledger.kube_ledger(session, world.anggota_a, world.kube_a.id)


def test_balances_of_every_kube_with_entries(session: Session, world: World,
                                             count_queries: Callable[[], Any]) -> None:
    idle = factories.make_kube(session, "KUBE Diam")  # no entries: not listed
    _paid_order(session, world, price=10_000)
    product_b = world.product_b
    checkout = orders.place_checkout(session, world.anggota_a, [(product_b.id, 2)], payment_method="manual",
                                     fee_bps=200)
    orders.confirm_payment(session, world.operator, checkout.id)
    world.kube_b.bank_account_holder = ""
    session.commit()
    ledger.record_payout(session, world.operator, world.kube_a.id, 9_800, "BRI 1")
    session.commit()
    assert world.operator.is_operator  # (loaded again after the commit, outside the count)
    with count_queries() as counter:
        rows = ledger.balances(session, world.operator)
    assert counter.count == 1
    assert [(r.slug, r.balance, r.has_bank_account) for r in rows] == [
        ("kube-anyaman-b", 29_400, False), ("kube-kelapa-a", 0, True)]
    assert rows[0].last_payout_at is None
    assert rows[1].last_payout_at is not None and rows[1].last_payout_at.tzinfo is not None
    assert idle.slug not in {r.slug for r in rows}
    # More KUBEs, still one query.
    for n in range(5):
        kube = factories.make_kube(session, f"KUBE Tambahan {n}")
        session.add(LedgerEntry(kube_id=kube.id, kind=EntryKind.CASH, amount=-n - 1))
    session.commit()
    assert world.operator.is_operator
    with count_queries() as counter:
        rows = ledger.balances(session, world.operator)
    assert counter.count == 1 and len(rows) == 7
    assert [r.balance for r in rows] == sorted((r.balance for r in rows), reverse=True)
    assert isinstance(session.get(Kube, world.kube_a.id), Kube)
