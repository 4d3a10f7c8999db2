"""The demo's sourcing: what the order takers' dashboards and the chain's revenue show after `flask demo load`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.demo.loader import load_demo
from marketplace.demo.sourcing import load_sourcing
from marketplace.sourcing import services as sourcing
from marketplace.sourcing.models import Lot, SourcingRequest


def test_the_demo_order_takers_and_the_chain_revenue(session: Session, tmp_path: Path) -> None:
    summary = load_demo(session, tmp_path / "media", image_scale=0.1, fee_bps=200, history=False)
    session.commit()
    assert summary.created["sourcing requests"] == 5
    assert load_sourcing(session, sourcing.utcnow(), 200) == 0  # once
    takers = {u.email: u for u in session.scalars(select(User).where(User.email.like("%@pasarkube.test")))
              if u.is_order_taker}
    assert len(takers) == 3
    board = sourcing.taker_dashboard(session, takers["offtaker@pasarkube.test"])
    assert len(board.late) == 1 and board.late[0][1].outstanding == Decimal(80)
    assert board.due and len(board.to_confirm) == 1 and len(board.quotes) == 1
    assert sourcing.open_requests(session) and len(list(session.scalars(select(SourcingRequest)))) == 5

    # One split of 1,120 nuts: the four streams at the chain's yields.
    meat = session.scalars(select(Lot).where(Lot.item == "daging-kelapa").order_by(Lot.id)).first()
    assert meat is not None and meat.quantity == Decimal("392.000") and meat.batch
    assert {lot.item: lot.quantity for lot in session.scalars(select(Lot).where(Lot.batch == meat.batch))} == {
        "sabut": Decimal("490.000"), "tempurung": Decimal("168.000"), "daging-kelapa": Decimal("392.000"),
        "air-kelapa": Decimal("350.000")}

    # Every KUBE of the chain that worked for the paid deliveries earns something.
    operator = session.scalar(select(User).where(User.email == "admin@pasarkube.test"))
    _chain, revenue = sourcing.revenue_report(session, operator, "kelapa-terpadu-banggai")
    nets = {r.kube.slug: r.net for r in revenue}
    for slug in ("kube-nyiur-melambai", "kube-mutiara-kelapa", "kube-busa-nyiur", "kube-sinar-tempurung"):
        assert nets[slug] > 0, (slug, nets)
