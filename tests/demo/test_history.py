"""The demo's 18 months of history (marketplace/demo/history.py): orders posted to the ledger as the real flow
posts them, kept cash books, the graduation profiles, searches, and loading once only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from marketplace.books.models import BookSettings, CashEntry, Contribution, ShareBasis
from marketplace.books.services import LOCAL_TZ, MonthFigures, add_months, monthly_figures, this_month
from marketplace.catalog.models import Kube, KubeMember
from marketplace.common import utcnow
from marketplace.demo import history
from marketplace.demo.loader import DemoSummary, load_demo
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderLine, OrderStatus, PaymentMethod
from marketplace.payments.models import Refund
from marketplace.search.analysis import query_terms
from marketplace.search.models import SearchLog

SCALE = 0.1
FEE_BPS = 250
HISTORY_STATUSES = (OrderStatus.COMPLETED, OrderStatus.REFUNDED, OrderStatus.CANCELLED)
NEW_STATUSES = (OrderStatus.DELIVERED, OrderStatus.SHIPPED)  # the demo orders placed through the services


def _load(app: Flask, session: Session, now: datetime) -> DemoSummary:
    summary = load_demo(session, app.config["MEDIA_ROOT"], image_scale=SCALE, now=now, fee_bps=FEE_BPS)
    session.commit()
    return summary


@dataclass(frozen=True)
class Readiness:
    """The graduation rules, over the last six complete months (oldest first)."""

    sales_every_month: bool
    profit_per_member: float
    holding_up: bool  # the last 3 months' profit is at least 90 % of the 3 before
    books_kept: bool  # hand-written entries in at least 5 of the 6 months

    @property
    def ready(self) -> bool:
        return self.sales_every_month and self.profit_per_member >= 500_000 and self.holding_up and self.books_kept


def _readiness(months: list[MonthFigures], members: int) -> Readiness:
    assert len(months) == 6
    before, last = sum(m.profit for m in months[:3]), sum(m.profit for m in months[3:])
    return Readiness(all(m.sales > 0 for m in months), sum(m.profit for m in months) / 6 / members,
                     last >= 0.9 * before, sum(m.entries > 0 for m in months) >= 5)


def _kubes(session: Session) -> dict[str, Kube]:
    return {k.slug: k for k in session.scalars(select(Kube))}


def _members(session: Session, kube_id: int) -> int:
    return session.scalar(select(func.count(KubeMember.id)).where(KubeMember.kube_id == kube_id)) or 0


def test_the_profiles_hold(app: Flask, session: Session) -> None:
    now = utcnow()
    summary = _load(app, session, now)
    assert summary.created["history orders"] > 1000
    kubes = _kubes(session)
    month0 = this_month(now)
    first, last = add_months(month0, -history.HISTORY_MONTHS), add_months(month0, -1)
    figures = monthly_figures(session, [k.id for k in kubes.values()], first, month0)

    def rules(slug: str) -> Readiness:
        kube = kubes[slug]
        return _readiness(figures[kube.id][-7:-1], _members(session, kube.id))

    # Ready: 18 complete months of sales and a kept book, every month.
    nyiur = kubes["kube-nyiur-melambai"]
    months = figures[nyiur.id][:-1]
    assert months[0].month == first and months[-1].month == last and len(months) == 18
    assert all(m.sales > 0 and m.entries > 0 and m.profit > 0 for m in months)
    assert sum(m.sales for m in months[-6:]) > sum(m.sales for m in months[:6])  # growing
    assert rules("kube-nyiur-melambai").ready and rules("kube-getas-bahari").ready

    # Close: books kept in only 3 of the last 6 months; profit per member just under Rp500.000.
    mutiara = rules("kube-mutiara-kelapa")
    assert not mutiara.books_kept and mutiara.sales_every_month and mutiara.profit_per_member >= 500_000
    pisang = rules("kube-pisang-agung")
    assert 430_000 <= pisang.profit_per_member < 500_000
    assert pisang.sales_every_month and pisang.books_kept and pisang.holding_up

    # Seasonal: everything but the dip of the last three months.
    kopi = rules("kube-kopi-sekincau")
    assert not kopi.holding_up and kopi.sales_every_month and kopi.books_kept and not kopi.ready
    kopi_sales = [m.sales for m in figures[kubes["kube-kopi-sekincau"].id][:-1]]
    assert max(kopi_sales) > 2 * min(kopi_sales)

    # New: nothing before four months ago, sales every month since.
    busa = figures[kubes["kube-busa-nyiur"].id]
    assert all(m.income == m.expenses == m.entries == 0 for m in busa[:-5])
    assert all(m.sales > 0 and m.entries > 0 for m in busa[-5:-1])
    assert not rules("kube-busa-nyiur").sales_every_month

    # Stopped three months ago: sales until then, nothing since (this month included).
    tiwul = figures[kubes["kube-tiwul-sumber-rejeki"].id]
    assert all(m.sales > 0 for m in tiwul[:-4])
    assert all(m.income == m.expenses == m.entries == 0 for m in tiwul[-4:])
    tiwul_id = kubes["kube-tiwul-sumber-rejeki"].id
    recent = session.scalar(select(func.max(Order.created_at)).where(Order.kube_id == tiwul_id))
    assert recent is not None and recent.astimezone(LOCAL_TZ).date() < add_months(month0, -3)

    # Shares by days worked: the setting, and every member's days in every month of the ready KUBE.
    settings = {s.kube_id: s for s in session.scalars(select(BookSettings))}
    assert settings[nyiur.id].share_basis == ShareBasis.CONTRIBUTION
    days = session.execute(select(Contribution.month, func.count()).where(Contribution.kube_id == nyiur.id)
                           .group_by(Contribution.month)).all()
    assert len(days) == 18 and {count for _, count in days} == {_members(session, nyiur.id)}

    # Hand-written entries carry no receipt and are dated in the past.
    assert session.scalar(select(func.count(CashEntry.id)).where(CashEntry.receipt_key.is_not(None))) == 0
    assert session.scalar(select(func.max(CashEntry.occurred_on))) <= now.astimezone(LOCAL_TZ).date()

    # Searches over the last twelve months, analysed like real ones; some find nothing.
    logs = list(session.scalars(select(SearchLog)))
    assert len({log.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m") for log in logs}) == 12
    assert all(log.terms == " ".join(query_terms(log.query)) and log.created_at <= now for log in logs)
    plain = [log for log in logs if not log.filters]
    assert {log.result_count for log in plain if log.terms == "madu hutan"} == {0}
    assert min(log.result_count for log in plain if log.query.lower() == "keripik pisang") > 0


def test_history_orders_post_what_the_real_flow_posts(app: Flask, session: Session) -> None:
    now = utcnow()
    _load(app, session, now)
    history = list(session.scalars(select(Order).where(Order.status.in_(HISTORY_STATUSES))))
    assert {o.status for o in history} == set(HISTORY_STATUSES)
    newest = session.scalar(select(func.min(Order.created_at)).where(Order.status.in_(NEW_STATUSES)))
    assert newest is not None and max(o.created_at for o in history) < newest
    orders = [o for o in history if o.status != OrderStatus.CANCELLED]  # the paid ones

    entries: dict[int, dict[EntryKind, LedgerEntry]] = defaultdict(dict)
    for entry in session.scalars(select(LedgerEntry).where(LedgerEntry.order_id.is_not(None))):
        entries[entry.order_id][EntryKind(entry.kind)] = entry
    lines = {order_id: int(total) for order_id, total in session.execute(
        select(OrderLine.order_id, func.sum(OrderLine.line_total)).group_by(OrderLine.order_id))}
    events: dict[int, list[OrderEvent]] = defaultdict(list)
    for event in session.scalars(select(OrderEvent).order_by(OrderEvent.id)):
        events[event.order_id].append(event)
    methods = dict(session.execute(select(Checkout.id, Checkout.payment_method)).all())
    refunds = {r.order_id: r for r in session.scalars(select(Refund))}
    for order in orders:
        cod = methods[order.checkout_id] == PaymentMethod.COD
        assert order.paid_at is not None and order.created_at <= order.paid_at <= now
        assert lines[order.id] == order.goods_total and order.total == order.goods_total + order.delivery_fee
        assert order.platform_fee == ledger.platform_fee(order.goods_total, FEE_BPS)
        expected = {EntryKind.SALE: order.goods_total, EntryKind.DELIVERY: order.delivery_fee,
                    EntryKind.FEE: -order.platform_fee}
        if cod:
            expected[EntryKind.CASH] = -order.total
        if order.status == OrderStatus.REFUNDED:
            expected[EntryKind.REFUND] = -(order.goods_total + order.delivery_fee - order.platform_fee)
            assert refunds[order.id].amount == order.total
        expected = {kind: amount for kind, amount in expected.items() if amount}
        mine = entries[order.id]
        assert {kind: e.amount for kind, e in mine.items()} == expected, order.id
        assert all(e.kube_id == order.kube_id for e in mine.values())
        posted = mine[EntryKind.SALE].created_at
        assert posted == order.paid_at
        assert posted.astimezone(LOCAL_TZ).strftime("%Y-%m") == order.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m")
        steps = events[order.id]
        assert steps[0].to_status == OrderStatus.PENDING_PAYMENT.value and steps[0].created_at == order.created_at
        assert steps[-1].to_status == order.status.value and steps[-1].created_at == order.updated_at
        assert [e.created_at for e in steps] == sorted(e.created_at for e in steps) and steps[-1].created_at <= now
        assert all(a.to_status == b.from_status for a, b in pairwise(steps))
    assert any(methods[o.checkout_id] == PaymentMethod.COD for o in orders)

    # The real services post the same lines: take one order of each kind, undo its entries, post them again.
    samples = {}
    for order in orders:
        key = (order.status, methods[order.checkout_id])
        if order.delivery_fee and key not in samples:
            samples[key] = order
    assert len(samples) == 3  # transfer, cash on delivery, refunded
    for (status, method), order in samples.items():
        before = {(kind, e.amount, e.created_at) for kind, e in entries[order.id].items()}
        session.execute(delete(LedgerEntry).where(LedgerEntry.order_id == order.id))
        paid = entries[order.id][EntryKind.SALE].created_at
        if method == PaymentMethod.COD:
            ledger.record_cash(session, order, paid)
        else:
            ledger.credit_order(session, order, paid)
        if status == OrderStatus.REFUNDED:
            ledger.debit_refund(session, order, entries[order.id][EntryKind.REFUND].created_at)
        session.flush()
        again = {(EntryKind(e.kind), e.amount, e.created_at)
                 for e in session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order.id))}
        assert again == before, (status, method)
    session.rollback()


def test_loading_twice_adds_nothing(app: Flask, session: Session) -> None:
    models = (Order, Checkout, OrderLine, OrderEvent, LedgerEntry, Refund, CashEntry, Contribution, BookSettings,
              SearchLog)

    def counts() -> dict[str, int]:
        return {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0 for m in models}

    now = utcnow()
    _load(app, session, now)
    loaded = counts()
    assert all(loaded.values()), loaded

    again = _load(app, session, now)
    assert again.created["history orders"] == 0 and not again.created_anything
    assert history.load_history(session, utcnow(), FEE_BPS) == 0
    assert counts() == loaded


def test_the_same_now_gives_the_same_history(app: Flask, session: Session) -> None:
    now = utcnow()
    _load(app, session, now)

    def draw() -> tuple[object, ...]:
        made = history._History(session, now, FEE_BPS)
        kube = next(k for k in made.demo_kubes() if k.kube.slug == "kube-getas-bahari")
        cutoff = made.cutoff()
        orders = [(o.placed, o.order["goods_total"], o.order["status"])
                  for back in (12, 5) for o in made.month_orders(kube, back, cutoff, made.buyers(), 1)]
        return tuple(orders), tuple((r["query"], r["created_at"]) for r in made.search_rows())

    assert draw() == draw()


def test_orders_cancelled_before_payment_post_nothing(app: Flask, session: Session,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "CANCELLED_SHARE", 0.06)
    _load(app, session, utcnow())
    cancelled = list(session.scalars(select(Order).where(Order.status == OrderStatus.CANCELLED)))
    assert cancelled and all(o.paid_at is None for o in cancelled)
    ids = [o.id for o in cancelled]
    assert session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.order_id.in_(ids))) == 0
    assert session.scalar(select(func.count(Refund.id)).where(Refund.order_id.in_(ids))) == 0
    for order in cancelled:
        assert order.events[-1].to_status == OrderStatus.CANCELLED.value and order.events[-1].note
