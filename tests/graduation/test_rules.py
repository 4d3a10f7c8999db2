"""The readiness rules on hand-built histories (no database, no app)."""

from __future__ import annotations

from datetime import date

import pytest

from marketplace.books.services import MonthFigures, add_months
from marketplace.graduation.rules import Readiness, Rules, Status, evaluate

LAST = date(2026, 6, 1)  # the last complete month of every history here
RULES = Rules()
MEMBERS = 5


def months(profits: list[int], *, entries: int = 3, expenses: int = 1_000_000, last: date = LAST,
           income: list[int] | None = None) -> list[MonthFigures]:
    """A history ending at `last`: one month per profit (income = profit + expenses), oldest first."""
    first = add_months(last, -(len(profits) - 1))
    incomes = income or [p + expenses for p in profits]
    return [MonthFigures(add_months(first, i), income=incomes[i], expenses=expenses, sales=incomes[i] // 2,
                         entries=entries) for i in range(len(profits))]


def missing(readiness: Readiness) -> list[str]:
    return [m.english() for m in readiness.missing]


def reasons(readiness: Readiness) -> dict[str, str]:
    return {r.name: r.reason.english() for r in readiness.rules}


def test_a_steady_group_is_ready() -> None:
    # 5 members, Rp3 juta profit a month for a year: Rp600.000 per member a month.
    readiness = evaluate(months([3_000_000] * 12), MEMBERS, RULES, verified=True)
    assert readiness.status == Status.READY
    assert readiness.score == 100
    assert readiness.missing == []
    assert all(r.passed for r in readiness.rules)
    assert readiness.last_month == LAST
    said = reasons(readiness)
    assert said["sales"] == "Sales in 12 months in a row up to Jun 2026; KUR needs 6."
    assert "Rp600.000 a month (5 members, profit Rp18.000.000); the rule asks Rp500.000" in said["profit"]
    assert "(100 %; stable means at least 90 %)" in said["trend"]
    assert said["books"] == "Hand-written cash-book entries in 6 of the last 6 complete months; the rule asks 5."


def test_a_seasonal_dip_of_one_month_does_not_fail_the_trend() -> None:
    # One weak month (Rp1 juta instead of 3) in the last three: the three-month sum falls to 78 % of the three
    # before, but the other two months keep the level, so the dip is taken as seasonal. The six-month average
    # (Rp533.333 per member) still clears the bar: the group stays ready.
    readiness = evaluate(months([3_000_000] * 10 + [1_000_000, 3_000_000]), MEMBERS, RULES, verified=True)
    trend = readiness.rule("trend")
    assert trend is not None and trend.passed
    assert "(77 %; stable" in trend.reason.english()
    assert trend.note is not None and "One weaker month (May 2026) is taken as a seasonal dip" in trend.note.english()
    assert readiness.status == Status.READY


def test_a_deep_dip_is_close_not_failed_on_the_trend() -> None:
    # A month with a loss pulls the six-month average under the bar: only the profit rule is missing.
    history = months([3_000_000] * 12)
    history[-1] = MonthFigures(LAST, income=500_000, expenses=2_500_000, entries=3)  # sold a little, at a loss
    readiness = evaluate(history, MEMBERS, RULES, verified=True)
    assert readiness.rule("trend").passed  # type: ignore[union-attr]
    assert readiness.status == Status.CLOSE
    assert missing(readiness) == ["profit per member Rp433.333 of Rp500.000 a month"]
    assert readiness.score == 70


def test_two_weak_months_are_a_falling_trend() -> None:
    readiness = evaluate(months([4_000_000] * 9 + [4_000_000, 2_000_000, 2_000_000]), MEMBERS, RULES)
    trend = readiness.rule("trend")
    assert trend is not None and not trend.passed
    assert trend.missing is not None
    assert trend.missing.english() == "profit of the last 3 months Rp8.000.000 of at least Rp10.800.000"


def test_a_new_group_needs_two_more_months() -> None:
    # Four months old, doing well: but KUR needs a business running six months (Permenko 1/2022).
    readiness = evaluate(months([4_000_000] * 4), MEMBERS, RULES, verified=True)
    assert readiness.status == Status.NOT_YET
    assert "2 more months of sales" in missing(readiness)
    assert reasons(readiness)["sales"] == "Sales in 4 months in a row up to Jun 2026; KUR needs 6."
    assert "cash-book entries in 1 more month" in missing(readiness)  # only 4 of the last 6 months kept
    assert len(readiness.months) == 6 and readiness.months[0].income == 0  # months before it count as zeros


def test_one_more_month_is_singular() -> None:
    readiness = evaluate(months([4_000_000] * 5), MEMBERS, RULES)
    assert "1 more month of sales" in missing(readiness)


def test_a_group_that_stopped_selling_three_months_ago_is_not_yet() -> None:
    history = months([3_000_000] * 9 + [0, 0, 0], entries=2)
    history = [m if m.month < date(2026, 4, 1) else MonthFigures(m.month) for m in history]
    readiness = evaluate(history, MEMBERS, RULES, verified=True)
    assert readiness.status == Status.NOT_YET
    assert reasons(readiness)["sales"] == ("No sales in Jun 2026; the last month with sales was Mar 2026. "
                                           "KUR needs sales in 6 months in a row.")
    assert "6 more months of sales" in missing(readiness)
    assert not readiness.rule("trend").passed  # type: ignore[union-attr]
    assert not readiness.rule("books").passed  # type: ignore[union-attr]


def test_good_sales_without_bookkeeping_is_close() -> None:
    readiness = evaluate(months([3_000_000] * 12, entries=0), MEMBERS, RULES, verified=True)
    assert readiness.status == Status.CLOSE
    assert readiness.score == 85
    assert missing(readiness) == ["cash-book entries in 5 more months"]
    assert reasons(readiness)["books"].startswith("Hand-written cash-book entries in 0 of the last 6")


def test_a_loss_making_group_is_not_yet() -> None:
    readiness = evaluate(months([-500_000] * 12), MEMBERS, RULES, verified=True)
    assert readiness.status == Status.NOT_YET
    assert readiness.rule("sales").passed  # type: ignore[union-attr]  # it sells, at a loss
    assert "profit per member -Rp100.000 of Rp500.000 a month" in missing(readiness)
    assert "a profit in the last 3 months above the 3 before" in missing(readiness)
    assert readiness.score == 55  # sales 30 + books 15 + verified 10


def test_a_loss_that_shrinks_is_rising() -> None:
    readiness = evaluate(months([-900_000] * 9 + [-100_000] * 3), MEMBERS, RULES)
    assert readiness.rule("trend").passed  # type: ignore[union-attr]


def test_no_sales_at_all() -> None:
    readiness = evaluate([MonthFigures(LAST)], MEMBERS, RULES, verified=False)
    assert readiness.status == Status.NOT_YET
    assert readiness.score == 0
    assert reasons(readiness)["sales"] == "No sales recorded yet. KUR needs sales in 6 months in a row."
    assert "verification of the KUBE by its facilitator" in missing(readiness)


# --- Edges --------------------------------------------------------------------------------------------


def test_profit_exactly_at_the_threshold_passes_and_a_rupiah_less_fails() -> None:
    exact = evaluate(months([2_500_000] * 12), MEMBERS, RULES)  # 2.5 juta / 5 = 500.000
    assert exact.rule("profit").passed  # type: ignore[union-attr]
    history = months([2_500_000] * 12)
    history[-1] = MonthFigures(LAST, income=history[-1].income - 1, expenses=1_000_000, entries=3)
    under = evaluate(history, MEMBERS, RULES)
    assert not under.rule("profit").passed  # type: ignore[union-attr]
    assert "profit per member Rp499.999 of Rp500.000 a month" in missing(under)


def test_trend_exactly_at_ninety_percent_is_stable() -> None:
    # Previous three months 3 x 1.000.000, last three 900.000 each: exactly 90 %.
    at = evaluate(months([1_000_000] * 9 + [900_000] * 3), 1, RULES)
    assert at.rule("trend").passed and at.rule("trend").note is None  # type: ignore[union-attr]
    below = months([1_000_000] * 9 + [900_000] * 3)
    below[-1] = MonthFigures(LAST, income=below[-1].income - 3, expenses=1_000_000, entries=3)
    # The other two months (1.8 juta) still keep 90 % when the third is averaged in: a dip, not a fall.
    assert evaluate(below, 1, RULES).rule("trend").passed  # type: ignore[union-attr]
    falling = months([1_000_000] * 9 + [899_999] * 3)
    trend = evaluate(falling, 1, RULES).rule("trend")
    assert trend is not None and not trend.passed


def test_exactly_six_months_of_sales_and_five_of_six_books() -> None:
    history = months([3_000_000] * 6)
    history[0] = MonthFigures(history[0].month, income=4_000_000, expenses=1_000_000, entries=0)
    readiness = evaluate(history, MEMBERS, RULES, verified=True)
    assert readiness.rule("sales").passed and readiness.rule("books").passed  # type: ignore[union-attr]
    history[1] = MonthFigures(history[1].month, income=4_000_000, expenses=1_000_000, entries=0)
    assert not evaluate(history, MEMBERS, RULES).rule("books").passed  # type: ignore[union-attr]


def test_income_from_the_book_alone_counts_as_sales() -> None:
    history = [MonthFigures(m.month, income=m.income, expenses=m.expenses, sales=0, entries=m.entries)
               for m in months([3_000_000] * 6)]
    assert evaluate(history, MEMBERS, RULES).rule("sales").passed  # type: ignore[union-attr]


def test_the_partial_current_month_is_ignored() -> None:
    history = [*months([3_000_000] * 6), MonthFigures(add_months(LAST, 1))]  # July: nothing yet
    readiness = evaluate(history, MEMBERS, RULES, last_complete=LAST)
    assert readiness.status == Status.READY and readiness.last_month == LAST


def test_one_member_is_singular() -> None:
    readiness = evaluate(months([600_000] * 6), 1, RULES)
    assert "Rp600.000 a month (1 member, profit Rp3.600.000)" in reasons(readiness)["profit"]


def test_no_members_fails_the_profit_rule() -> None:
    readiness = evaluate(months([3_000_000] * 6), 0, RULES)
    assert "the KUBE's members recorded" in missing(readiness)


def test_one_missing_rule_is_close_even_with_a_low_score() -> None:
    rules = Rules(weights={"sales": 90, "profit": 5, "trend": 5, "books": 0, "verified": 0})
    readiness = evaluate(months([3_000_000] * 5), MEMBERS, rules)
    assert readiness.score == 10 and readiness.status == Status.CLOSE


def test_the_settings_change_the_rules() -> None:
    strict = Rules(sales_months=12, profit_per_member=700_000, book_months=6)
    readiness = evaluate(months([3_000_000] * 12, entries=1), MEMBERS, strict)
    assert readiness.rule("sales").passed  # type: ignore[union-attr]
    assert missing(readiness) == ["profit per member Rp600.000 of Rp700.000 a month"]
    assert evaluate(months([3_000_000] * 12), MEMBERS, Rules(require_verified=False),
                    verified=False).status == Status.READY


@pytest.mark.parametrize("fields", [{"sales_months": 0}, {"trend_months": 1}, {"profit_months": 1}, {"book_months": 7},
                                    {"weights": {"luck": 5}}, {"weights": {"sales": -1}}])
def test_nonsense_rules_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Rules(**fields)  # type: ignore[arg-type]


def test_aid_is_not_earned_a_group_living_on_it_is_not_ready() -> None:
    """Rp3 juta of aid a month and no sales: money in, but the rules read what the group earned."""
    history = [MonthFigures(m.month, income=3_000_000, expenses=300_000, grants=3_000_000, entries=2)
               for m in months([0] * 12)]
    readiness = evaluate(history, MEMBERS, RULES, verified=True)
    assert readiness.status == Status.NOT_YET
    passed = {r.name: r.passed for r in readiness.rules}
    assert passed == {"sales": False, "profit": False, "trend": False, "books": True, "verified": True}
    assert reasons(readiness)["sales"] == "No sales recorded yet. KUR needs sales in 6 months in a row."


def test_aid_on_top_of_sales_does_not_lift_the_profit() -> None:
    """Rp2,4 juta earned a month (Rp480.000 per member) stays under the bar whatever aid comes in."""
    history = [MonthFigures(m.month, income=m.income + 5_000_000, expenses=m.expenses, grants=5_000_000,
                            entries=3) for m in months([2_400_000] * 12)]
    readiness = evaluate(history, MEMBERS, RULES, verified=True)
    profit = next(r for r in readiness.rules if r.name == "profit")
    assert not profit.passed and "Rp480.000 a month" in profit.reason.english()
