"""The cash book's rules: monthly figures from the ledger and hand entries, shares, who may do what."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.books import services as books
from marketplace.books.models import BookSettings, CashEntry, Category, Contribution, Direction, ShareBasis
from marketplace.catalog.models import MemberRole
from marketplace.common import NotFoundError, PermissionDenied, ValidationError
from marketplace.ledger.models import EntryKind, LedgerEntry
from tests import factories
from tests.factories import World

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


def _ledger(session: Session, kube_id: int, kind: EntryKind, amount: int, at: datetime) -> None:
    session.add(LedgerEntry(kube_id=kube_id, kind=kind, amount=amount, created_at=at))


def _cash(session: Session, kube_id: int, direction: Direction, category: Category, amount: int, day: date) -> None:
    session.add(CashEntry(kube_id=kube_id, direction=direction, category=category, amount=amount, occurred_on=day))


def test_monthly_figures_add_the_ledger_and_the_hand_entries(session: Session, world: World) -> None:
    a, b = world.kube_a.id, world.kube_b.id
    _ledger(session, a, EntryKind.SALE, 300_000, datetime(2026, 10, 3, tzinfo=UTC))
    _ledger(session, a, EntryKind.DELIVERY, 20_000, datetime(2026, 10, 3, tzinfo=UTC))
    _ledger(session, a, EntryKind.FEE, -6_000, datetime(2026, 10, 3, tzinfo=UTC))
    _ledger(session, a, EntryKind.REFUND, -50_000, datetime(2026, 10, 9, tzinfo=UTC))
    _ledger(session, a, EntryKind.CONTRACT, 1_000_000, datetime(2026, 10, 20, tzinfo=UTC))
    _ledger(session, a, EntryKind.CHAIN_INPUT, -200_000, datetime(2026, 10, 20, tzinfo=UTC))
    # Neither income nor expense: money moving between the platform and the KUBE.
    _ledger(session, a, EntryKind.CASH, -320_000, datetime(2026, 10, 3, tzinfo=UTC))
    _ledger(session, a, EntryKind.PAYOUT, -500_000, datetime(2026, 10, 25, tzinfo=UTC))
    _cash(session, a, Direction.EXPENSE, Category.RAW_MATERIALS, 150_000, date(2026, 10, 2))
    _cash(session, a, Direction.INCOME, Category.OTHER_SALES, 40_000, date(2026, 10, 31))
    _cash(session, b, Direction.EXPENSE, Category.TRANSPORT, 10_000, date(2026, 10, 5))
    session.flush()
    figures = books.monthly_figures(session, [a, b], date(2026, 9, 1), date(2026, 11, 1))
    september, october, november = figures[a]
    assert (september.income, september.expenses, september.entries) == (0, 0, 0)
    assert october.income == 300_000 + 20_000 - 50_000 + 1_000_000 + 40_000
    assert october.sales == 300_000 + 20_000 - 50_000 + 1_000_000
    assert october.expenses == 6_000 + 200_000 + 150_000
    assert october.profit == october.income - october.expenses
    assert october.entries == 2
    assert november.income == 0
    assert [m.expenses for m in figures[b]] == [0, 10_000, 0]


def test_ledger_lines_fall_in_the_month_of_local_time(session: Session, world: World) -> None:
    """31 October 20:00 UTC is 1 November 03:00 in Jakarta: it belongs to November."""
    a = world.kube_a.id
    _ledger(session, a, EntryKind.SALE, 100_000, datetime(2026, 10, 31, 20, 0, tzinfo=UTC))
    _ledger(session, a, EntryKind.SALE, 7_000, datetime(2026, 10, 31, 16, 59, tzinfo=UTC))
    session.flush()
    october, november = books.monthly_figures(session, [a], date(2026, 10, 1), date(2026, 11, 1))[a]
    assert (october.income, november.income) == (7_000, 100_000)


def test_monthly_figures_take_two_queries_for_any_number_of_kubes(session: Session, world: World,
                                                                   count_queries) -> None:  # type: ignore[no-untyped-def]
    kubes = [world.kube_a.id, world.kube_b.id]
    for i in range(6):
        kube = factories.make_kube(session, f"KUBE Extra {i}")
        kubes.append(kube.id)
        _ledger(session, kube.id, EntryKind.SALE, 1_000 * (i + 1), datetime(2026, 5, 2, tzinfo=UTC))
        _cash(session, kube.id, Direction.EXPENSE, Category.TRANSPORT, 500, date(2026, 6, 1))
    session.flush()
    with count_queries() as counter:
        figures = books.monthly_figures(session, kubes, date(2025, 12, 1), date(2026, 11, 1))
    assert counter.count == 2
    assert sum(m.income for m in figures[kubes[-1]]) == 6_000


@pytest.mark.parametrize(("profit", "weights", "shares"), [
    (100, [1, 1, 1], [34, 33, 33]),
    (1_000_000, [10, 20, 0], [333_333, 666_667, 0]),
    (0, [1, 1], [0, 0]),
    (-50_000, [1, 1], [0, 0]),
    (7, [0, 0], [0, 0]),
    (5, [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]),
])
def test_profit_splits_into_whole_rupiah_that_add_up(profit: int, weights: list[int], shares: list[int]) -> None:
    assert books.split_profit(profit, weights) == shares
    if profit > 0 and sum(weights):
        assert sum(shares) == profit


def _october_profit(session: Session, world: World, amount: int = 900_001) -> None:
    _cash(session, world.kube_a.id, Direction.INCOME, Category.OTHER_SALES, amount, date(2026, 10, 10))
    session.flush()


def test_equal_shares_and_an_anggota_sees_only_their_own(session: Session, world: World) -> None:
    third = factories.make_user(session, "bendahara_a")
    session.add(factories.KubeMember(kube_id=world.kube_a.id, user_id=third.id, role=MemberRole.BENDAHARA))
    _october_profit(session, world)
    book = books.month_book(session, world.ketua_a, world.kube_a.id, date(2026, 10, 1))
    assert [s.amount for s in book.shares] == [300_001, 300_000, 300_000]
    assert book.basis == ShareBasis.EQUAL and book.member_count == 3
    own = books.month_book(session, world.anggota_a, world.kube_a.id, date(2026, 10, 1))
    assert [(s.user_id, s.amount) for s in own.shares] == [(world.anggota_a.id, 300_000)]
    assert own.contributions == {}
    for reader in (world.facilitator_a, world.operator):
        assert len(books.month_book(session, reader, world.kube_a.id, date(2026, 10, 1)).shares) == 3


def test_shares_by_contribution_fall_back_to_equal_without_any(session: Session, world: World) -> None:
    _october_profit(session, world, 900_000)
    books.update_settings(session, world.ketua_a, world.kube_a.id, "contribution", "kg")
    book = books.month_book(session, world.ketua_a, world.kube_a.id, date(2026, 10, 1))
    assert book.chosen_basis == ShareBasis.CONTRIBUTION and book.basis == ShareBasis.EQUAL
    assert [s.amount for s in book.shares] == [450_000, 450_000]
    assert books.record_contributions(session, world.ketua_a, world.kube_a.id, date(2026, 10, 17),
                                      {world.ketua_a.id: "20", world.anggota_a.id: "10"}) == 2
    book = books.month_book(session, world.ketua_a, world.kube_a.id, date(2026, 10, 1))
    assert book.basis == ShareBasis.CONTRIBUTION and book.unit == "kg"
    assert [(s.contribution, s.amount) for s in book.shares] == [(20, 600_000), (10, 300_000)]
    # An empty value clears a member's contribution.
    assert books.record_contributions(session, world.ketua_a, world.kube_a.id, date(2026, 10, 1),
                                      {world.anggota_a.id: ""}) == 1
    assert [s.amount for s in books.month_book(session, world.ketua_a, world.kube_a.id,
                                               date(2026, 10, 1)).shares] == [900_000, 0]


@pytest.mark.parametrize("amounts", [{"ketua_b": "5"}, {"ketua_a": "-3"}, {"ketua_a": "2,5"}, {"ketua_a": "١٢"}])
def test_bad_contributions_are_refused(session: Session, world: World, amounts: dict[str, str]) -> None:
    users = {"ketua_a": world.ketua_a.id, "ketua_b": world.ketua_b.id}
    with pytest.raises(ValidationError):
        books.record_contributions(session, world.ketua_a, world.kube_a.id, date(2026, 10, 1),
                                   {users[k]: v for k, v in amounts.items()})


def _entry(direction: str = "expense", category: str = "raw_materials", amount: object = "150.000",
           day: date | None = date(2026, 11, 2), note: str = "") -> books.EntryInput:
    return books.EntryInput(direction, category, amount, day, note)


def test_an_officer_writes_an_entry(session: Session, world: World) -> None:
    entry = books.add_entry(session, world.ketua_a, world.kube_a.id, _entry(amount="Rp150.000", note="Kelapa 100"),
                            now=NOW)
    assert (entry.amount, entry.direction, entry.category, entry.created_by_id) == (
        150_000, Direction.EXPENSE, Category.RAW_MATERIALS, world.ketua_a.id)
    book = books.month_book(session, world.anggota_a, world.kube_a.id, date(2026, 11, 1))
    assert [(line.expense, line.entry) for line in book.lines] == [(150_000, entry)]
    assert book.by_category == [("raw_materials", Direction.EXPENSE, 150_000)]


@pytest.mark.parametrize(("data", "field"), [
    (_entry(direction="gift"), "direction"),
    (_entry(category="nonsense"), "category"),
    (_entry(category="other_sales"), "category"),  # an income category on an expense
    (_entry(amount="0"), "amount"),
    (_entry(amount="-5"), "amount"),
    (_entry(amount="12,5"), "amount"),
    (_entry(amount="10" * 8), "amount"),
    (_entry(amount=""), "amount"),
    (_entry(day=None), "occurred_on"),
    (_entry(day=date(2026, 11, 21)), "occurred_on"),  # tomorrow in Jakarta
    (_entry(day=date(1999, 12, 31)), "occurred_on"),
    (_entry(note="x" * 501), "note"),
])
def test_bad_entries_are_refused_on_their_field(session: Session, world: World, data: books.EntryInput,
                                                field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        books.add_entry(session, world.ketua_a, world.kube_a.id, data, now=NOW)
    assert refused.value.field == field


def test_only_officers_write_and_only_its_own_kube(session: Session, world: World) -> None:
    for who in (world.anggota_a, world.facilitator_a, world.operator, world.ketua_b, world.buyer):
        with pytest.raises(PermissionDenied):
            books.add_entry(session, who, world.kube_a.id, _entry(), now=NOW)
        with pytest.raises(PermissionDenied):
            books.update_settings(session, who, world.kube_a.id, "equal", "")
        with pytest.raises(PermissionDenied):
            books.record_contributions(session, who, world.kube_a.id, date(2026, 10, 1), {})
    mine = books.add_entry(session, world.ketua_a, world.kube_a.id, _entry(), now=NOW)
    with pytest.raises(PermissionDenied):
        books.delete_entry(session, world.ketua_b, world.kube_a.id, mine.id)
    with pytest.raises(NotFoundError):  # another KUBE's entry through one's own KUBE
        books.delete_entry(session, world.ketua_b, world.kube_b.id, mine.id)
    books.delete_entry(session, world.ketua_a, world.kube_a.id, mine.id)
    assert session.get(CashEntry, mine.id) is None


@pytest.mark.parametrize("who", ["ketua_b", "facilitator_b", "buyer", "order_taker"])
def test_outsiders_do_not_read_the_book(session: Session, world: World, who: str) -> None:
    actor: User = getattr(world, who)
    with pytest.raises(PermissionDenied):
        books.month_book(session, actor, world.kube_a.id, date(2026, 10, 1))
    with pytest.raises(PermissionDenied):
        books.history(session, actor, world.kube_a.id)


def test_finance_is_for_officers_facilitators_and_operators(session: Session, world: World) -> None:
    _october_profit(session, world, 10_000)
    for reader in (world.ketua_a, world.facilitator_a, world.operator):
        months = books.finance(session, reader, world.kube_a.id, date(2026, 9, 1), date(2026, 10, 1))
        assert [m.income for m in months] == [0, 10_000]
    for refused in (world.anggota_a, world.facilitator_b, world.ketua_b):
        with pytest.raises(PermissionDenied):
            books.finance(session, refused, world.kube_a.id, date(2026, 9, 1), date(2026, 10, 1))
    with pytest.raises(ValidationError):
        books.finance(session, world.ketua_a, world.kube_a.id, date(2026, 10, 1), date(2026, 9, 1))
    with pytest.raises(ValidationError):
        books.finance(session, world.ketua_a, world.kube_a.id, date(2020, 1, 1), date(2026, 9, 1))


@pytest.mark.parametrize("text", ["2026-13", "26-11", "november", "2026-1-1", "1999-12"])
def test_bad_months_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        books.parse_month(text, field="from")


def test_months_arithmetic() -> None:
    assert books.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert books.add_months(date(2026, 11, 1), 14) == date(2028, 1, 1)
    assert books.month_end(date(2028, 2, 1)) == date(2028, 2, 29)
    assert len(books.months_between(date(2025, 6, 1), date(2026, 11, 30))) == 18
    assert books.month_range(None, None, now=NOW) == (date(2025, 12, 1), date(2026, 11, 1))


def test_settings_default_to_equal_shares(session: Session, world: World) -> None:
    assert session.get(BookSettings, world.kube_a.id) is None
    assert books.settings_of(session, world.kube_a.id).share_basis == ShareBasis.EQUAL
    books.update_settings(session, world.ketua_a, world.kube_a.id, "contribution", "")
    assert books.settings_of(session, world.kube_a.id).contribution_unit == "hari"
    with pytest.raises(ValidationError):
        books.update_settings(session, world.ketua_a, world.kube_a.id, "by_age", "")
    assert session.query(Contribution).count() == 0


def test_aid_is_income_in_the_book_and_counted_apart(session: Session, world: World) -> None:
    _cash(session, world.kube_a.id, Direction.INCOME, Category.GRANT, 2_000_000, date(2026, 10, 1))
    _cash(session, world.kube_a.id, Direction.INCOME, Category.OTHER_SALES, 300_000, date(2026, 10, 2))
    _cash(session, world.kube_a.id, Direction.EXPENSE, Category.RAW_MATERIALS, 100_000, date(2026, 10, 3))
    session.flush()
    (october,) = books.monthly_figures(session, [world.kube_a.id], date(2026, 10, 1), date(2026, 10, 1))[
        world.kube_a.id]
    assert (october.income, october.grants, october.earned, october.profit, october.earned_profit) == (
        2_300_000, 2_000_000, 300_000, 2_200_000, 200_000)
