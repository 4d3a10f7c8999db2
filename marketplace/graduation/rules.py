"""Graduation readiness rules: is a KUBE ready for KUR credit and to leave social assistance? (no flask, no database)

`evaluate(history, member_count, rules)` reads a KUBE's monthly figures (marketplace.books.services.MonthFigures)
and gives a pass/fail with a reason for each rule, a score and a status. Why these rules
(shared/domain/KUBE.md, "Graduasi"):
- a family graduates (leaves social assistance, Permensos 2/2019 on UEP aid to KUBE) once it has its own steady
  income: so profit per member, and a profit that is not falling;
- growing groups are steered to KUR credit: KUR Super Mikro (up to Rp10 juta, names KUBE as eligible) and KUR
  Mikro both need a business running 6 months (Permenko 1/2022): so sales in each of the last 6 months;
- a bank and the facilitator judge a group on its books: so hand-written cash-book entries month after month.

Only complete months count: the current month is partial, so the last month a rule looks at is the one before it
(`last_complete`). Every figure is a setting (docs/graduation.md); the defaults are those of `Rules()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from lokal.rupiah import format_rupiah

from marketplace.books.services import MonthFigures, add_months, month_start, months_between
from marketplace.common import N_, NP_

RULE_NAMES = ("sales", "profit", "trend", "books", "verified")
DEFAULT_WEIGHTS: Mapping[str, int] = {"sales": 30, "profit": 30, "trend": 15, "books": 15, "verified": 10}


class Status(StrEnum):
    READY = "ready"  # every rule met: ready for KUR credit / graduation
    CLOSE = "close"  # a high score, or only one rule missing
    NOT_YET = "not_yet"


STATUS_ORDER = (Status.READY, Status.CLOSE, Status.NOT_YET)


@dataclass(frozen=True)
class Rules:
    """The settings of the rules (config key GRADUATION, from MARKETPLACE_GRADUATION_* variables)."""

    # KUR Super Mikro / Mikro need a business running 6 months (Permenko 1/2022).
    sales_months: int = 6
    # Whole Rupiah of profit per member per month, averaged over `profit_months` complete months.
    profit_per_member: int = 500_000
    profit_months: int = 6
    # The last `trend_months` months' profit against the `trend_months` before; "stable" down to this percent.
    trend_months: int = 3
    trend_stable_percent: int = 90
    # Hand-written cash-book entries in at least `book_months` of the last `book_window` complete months.
    book_months: int = 5
    book_window: int = 6
    # Whether the KUBE must be verified or active (a draft or suspended group is not ready).
    require_verified: bool = True
    # "close" from this score up (or with only one rule missing).
    close_score: int = 60
    weights: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    def __post_init__(self) -> None:
        if self.sales_months < 1 or min(self.profit_months, self.book_window, self.trend_months) < 2:
            raise ValueError("the sales window is at least one month, the other windows at least two")
        if not 0 <= self.book_months <= self.book_window:
            raise ValueError("book_months must be between 0 and book_window")
        if set(self.weights) - set(RULE_NAMES) or any(w < 0 for w in self.weights.values()):
            raise ValueError(f"weights are for {RULE_NAMES} and never negative")

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Rules:
        """From the app's GRADUATION setting (marketplace.config checked every value)."""
        return cls(
            sales_months=int(values["SALES_MONTHS"]),
            profit_per_member=int(values["PROFIT_PER_MEMBER"]),
            profit_months=int(values["PROFIT_MONTHS"]),
            trend_months=int(values["TREND_MONTHS"]),
            trend_stable_percent=int(values["TREND_STABLE_PERCENT"]),
            book_months=int(values["BOOK_MONTHS"]),
            book_window=int(values["BOOK_WINDOW"]),
            require_verified=bool(values["REQUIRE_VERIFIED"]),
            close_score=int(values["CLOSE_SCORE"]),
            weights=dict(values["WEIGHTS"]),
        )

    @property
    def months_needed(self) -> int:
        """How many complete months the rules read."""
        return max(self.sales_months, self.profit_months, 2 * self.trend_months, self.book_window)


@dataclass(frozen=True)
class Message:
    """An English msgid with its parameters, translated where it is shown (with ngettext when `plural` is set,
    the count being params["num"]). Money parameters are already formatted (Rp320.000: the same in both
    languages); month parameters are dates, formatted in the page's language."""

    text: str
    params: Mapping[str, object] = field(default_factory=dict)
    plural: str | None = None

    def english(self) -> str:
        """The message in English (tests, logs)."""
        text = self.plural if self.plural is not None and self.params.get("num") != 1 else self.text
        params = {k: v.strftime("%b %Y") if isinstance(v, date) else v for k, v in self.params.items()}
        return text % params if params else text

    def __str__(self) -> str:
        return self.english()


def _msg(text: str, **params: object) -> Message:
    return Message(text, params)


def _plural(forms: tuple[str, str], num: int, **params: object) -> Message:
    return Message(forms[0], {"num": num, **params}, forms[1])


def _rp(amount: int) -> str:
    return format_rupiah(amount)


@dataclass(frozen=True)
class RuleResult:
    name: str  # one of RULE_NAMES
    passed: bool
    weight: int
    title: Message
    reason: Message  # what the figures say, with the numbers
    missing: Message | None = None  # what is still needed, when not passed
    note: Message | None = None  # an extra explanation (e.g. a seasonal dip forgiven)


@dataclass(frozen=True)
class Readiness:
    status: Status
    score: int  # 0-100: the weighted share of rules met
    rules: tuple[RuleResult, ...]
    last_month: date  # the last complete month the rules read
    months: tuple[MonthFigures, ...]  # the months the rules read, oldest first, ending at last_month

    @property
    def missing(self) -> list[Message]:
        return [r.missing for r in self.rules if not r.passed and r.missing is not None]

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.passed]

    def rule(self, name: str) -> RuleResult | None:
        return next((r for r in self.rules if r.name == name), None)


# --- The rules ---------------------------------------------------------------------------------------


def _sales(months: Sequence[MonthFigures], rules: Rules) -> RuleResult:
    """Sales (income earned > 0, through the platform or written in the book; aid and grants do not count)
    in each of the last N complete months."""
    streak = 0
    for month in reversed(months):
        if month.earned <= 0:
            break
        streak += 1
    needed, last = rules.sales_months, months[-1].month
    passed = streak >= needed
    title = _msg(N_("Business running: sales every month"))
    if streak:
        reason = _plural(NP_("Sales in %(num)d month in a row up to %(month)s; KUR needs %(needed)d.",
                             "Sales in %(num)d months in a row up to %(month)s; KUR needs %(needed)d."),
                         streak, month=last, needed=needed)
    else:
        earlier = next((m.month for m in reversed(months) if m.earned > 0), None)
        reason = (_msg(N_("No sales in %(month)s; the last month with sales was %(last)s. KUR needs sales in "
                          "%(needed)d months in a row."), month=last, last=earlier, needed=needed)
                  if earlier else
                  _msg(N_("No sales recorded yet. KUR needs sales in %(needed)d months in a row."), needed=needed))
    missing = None if passed else _plural(NP_("%(num)d more month of sales", "%(num)d more months of sales"),
                                          needed - streak)
    return RuleResult("sales", passed, 0, title, reason, missing)


def _profit(months: Sequence[MonthFigures], member_count: int, rules: Rules) -> RuleResult:
    """Average monthly profit per member over the last complete months, against the threshold (aid and grants
    are money the group received, not profit it made: they are left out)."""
    window = months[-rules.profit_months:]
    total = sum(m.earned_profit for m in window)
    threshold = rules.profit_per_member
    title = _msg(N_("Profit per member"))
    if member_count <= 0:
        return RuleResult("profit", False, 0, title, _msg(N_("No members are recorded for this KUBE.")),
                          _msg(N_("the KUBE's members recorded")))
    # Floor division on whole Rupiah: a group exactly at the threshold passes, a rupiah under does not.
    per_member = total // (len(window) * member_count)
    passed = per_member >= threshold
    reason = _plural(NP_("Average profit per member over the last %(months)d complete months: %(amount)s a month "
                         "(%(num)d member, profit %(total)s); the rule asks %(threshold)s.",
                         "Average profit per member over the last %(months)d complete months: %(amount)s a month "
                         "(%(num)d members, profit %(total)s); the rule asks %(threshold)s."),
                     member_count, months=len(window), amount=_rp(per_member), total=_rp(total),
                     threshold=_rp(threshold))
    missing = None if passed else _msg(N_("profit per member %(amount)s of %(threshold)s a month"),
                                       amount=_rp(per_member), threshold=_rp(threshold))
    return RuleResult("profit", passed, 0, title, reason, missing)


def _trend(months: Sequence[MonthFigures], rules: Rules) -> RuleResult:
    """The last few months' profit against the few before, as sums (one month never decides alone).

    A single weaker month in the recent window (a season: the harvest, Ramadan, the rains) does not fail a
    group whose other recent months keep the level: the recent sum is then judged with that month replaced
    by the average of the others. Whether the six-month level is good enough is the profit rule's question."""
    n, percent = rules.trend_months, rules.trend_stable_percent
    recent_months = months[-n:]
    recent = sum(m.earned_profit for m in recent_months)
    previous = sum(m.earned_profit for m in months[-2 * n:-n])
    title = _msg(N_("Profit rising or stable"))
    note = None
    if previous > 0:
        passed = recent * 100 >= previous * percent
        required = -(-previous * percent // 100)  # rounded up: whole Rupiah
        reason = _msg(N_("Profit of the last %(months)d months %(recent)s against %(previous)s in the %(months)d "
                         "before (%(share)d %%; stable means at least %(stable)d %%)."),
                      months=n, recent=_rp(recent), previous=_rp(previous), share=recent * 100 // previous,
                      stable=percent)
        if not passed:
            weakest = min(recent_months, key=lambda m: m.earned_profit)
            others = recent - weakest.earned_profit
            # The others' average stands in for the weak month: others * n / (n - 1) against the bar.
            if others * n * 100 >= previous * percent * (n - 1):
                passed = True
                note = _msg(N_("One weaker month (%(month)s) is taken as a seasonal dip: the other months of the "
                               "last %(months)d keep the level of the %(months)d before."),
                            month=weakest.month, months=n)
        missing = None if passed else _msg(
            N_("profit of the last %(months)d months %(recent)s of at least %(required)s"),
            months=n, recent=_rp(recent), required=_rp(required))
    else:
        # No profit before: rising is enough (a loss that shrinks, or a first profit); flat at zero is not.
        passed = recent > previous
        reason = _msg(N_("Profit of the last %(months)d months %(recent)s against %(previous)s in the %(months)d "
                         "before."), months=n, recent=_rp(recent), previous=_rp(previous))
        missing = None if passed else _msg(N_("a profit in the last %(months)d months above the %(months)d before"),
                                           months=n)
    return RuleResult("trend", passed, 0, title, reason, missing, note)


def _books(months: Sequence[MonthFigures], rules: Rules) -> RuleResult:
    """Hand-written cash-book entries (a sign the book is kept) in enough of the last complete months."""
    window = months[-rules.book_window:]
    kept = sum(1 for m in window if m.entries > 0)
    needed = rules.book_months
    passed = kept >= needed
    reason = _msg(N_("Hand-written cash-book entries in %(kept)d of the last %(window)d complete months; "
                     "the rule asks %(needed)d."), kept=kept, window=len(window), needed=needed)
    missing = None if passed else _plural(NP_("cash-book entries in %(num)d more month",
                                              "cash-book entries in %(num)d more months"), needed - kept)
    return RuleResult("books", passed, 0, _msg(N_("Cash book kept")), reason, missing)


def _verified(verified: bool) -> RuleResult:
    reason = (_msg(N_("The KUBE is verified by its facilitator.")) if verified
              else _msg(N_("The KUBE is not verified (or is suspended).")))
    missing = None if verified else _msg(N_("verification of the KUBE by its facilitator"))
    return RuleResult("verified", verified, 0, _msg(N_("KUBE verified")), reason, missing)


def window(history: Sequence[MonthFigures], last_complete: date | None, months_needed: int) -> list[MonthFigures]:
    """The history up to `last_complete` (default: its last month), every month present (missing ones as
    zeros), at least `months_needed` long. Months after `last_complete` (the partial current one) are left out."""
    by_month = {month_start(m.month): m for m in history}
    if last_complete is None:
        if not by_month:
            raise ValueError("an empty history needs last_complete")
        last_complete = max(by_month)
    last = month_start(last_complete)
    first = add_months(last, -(months_needed - 1))
    kept = [m for m in by_month if m <= last]
    if kept:
        first = min(first, min(kept))
    return [by_month.get(month, MonthFigures(month)) for month in months_between(first, last)]


def evaluate(history: Sequence[MonthFigures], member_count: int, settings: Rules, *,
             last_complete: date | None = None, verified: bool | None = None) -> Readiness:
    """A KUBE's readiness from its monthly figures. `history` runs up to the last complete month (or pass
    `last_complete`: later months are ignored); months before it that are missing count as zeros. `verified`
    (whether the KUBE is verified or active) is a rule when given and the settings ask for it."""
    months = window(history, last_complete, settings.months_needed)
    results = [_sales(months, settings), _profit(months, member_count, settings), _trend(months, settings),
               _books(months, settings)]
    if verified is not None and settings.require_verified:
        results.append(_verified(verified))
    weighted = tuple(RuleResult(r.name, r.passed, settings.weights.get(r.name, 0), r.title, r.reason, r.missing,
                                r.note) for r in results)
    total = sum(r.weight for r in weighted)
    if total > 0:
        score = 100 * sum(r.weight for r in weighted if r.passed) // total
    else:  # every weight 0: each rule counts the same
        score = 100 * sum(1 for r in weighted if r.passed) // len(weighted)
    failed = sum(1 for r in weighted if not r.passed)
    if failed == 0:
        status = Status.READY
    elif failed == 1 or score >= settings.close_score:
        status = Status.CLOSE
    else:
        status = Status.NOT_YET
    shown = tuple(months[-settings.months_needed:])
    return Readiness(status, score, weighted, months[-1].month, shown)
