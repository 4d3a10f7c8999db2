"""Who sees graduation readiness, and what the service reads from the cash book."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.catalog.models import KubeStatus, MemberRole
from marketplace.common import NotFoundError, PermissionDenied
from marketplace.graduation import services
from marketplace.graduation.rules import Rules, Status
from tests import factories
from tests.factories import World
from tests.graduation.support import fill

NOW = datetime(2026, 7, 15, 3, 0, tzinfo=UTC)
LAST = date(2026, 6, 1)
RULES = Rules()


def _overview(session: Session, actor: User, **filters: object) -> services.Overview:
    return services.readiness_for(session, actor, services.Filters(**filters), NOW, RULES)  # type: ignore[arg-type]


def _names(overview: services.Overview) -> list[str]:
    return [row.kube.name for row in overview.page]


def _ready_world(session: Session, world: World) -> None:
    """KUBE A: 5 households, a year of Rp3 juta profit, book kept: ready. KUBE B: nothing yet."""
    factories.add_households(session, world.kube_a, 3)  # ketua_a, anggota_a + 3
    fill(session, world.kube_a, LAST, 12)
    session.commit()


@pytest.mark.parametrize("who", ["operator", "ministry"])
def test_operators_and_ministry_see_every_kube(session: Session, world: World, who: str) -> None:
    actor = world.operator if who == "operator" else factories.make_user(session, "ministry", is_ministry=True)
    _ready_world(session, world)
    overview = _overview(session, actor)
    assert _names(overview) == ["KUBE Kelapa A", "KUBE Anyaman B"]  # ready first
    assert overview.last_month == LAST
    row = overview.page.items[0]
    assert row.member_count == 5
    assert row.readiness.status == Status.READY and row.readiness.score == 100
    assert overview.counts == {Status.READY: 1, Status.CLOSE: 0, Status.NOT_YET: 1}
    assert len(row.history) == 12 and row.history[-1].month == LAST
    assert row.history[-1].income == 4_000_000 and row.history[-1].sales == 500_000
    assert row.history[-1].entries == 2


def test_the_current_partial_month_is_not_read(session: Session, world: World) -> None:
    _ready_world(session, world)
    fill(session, world.kube_a, date(2026, 7, 1), 1, profit=-5_000_000, expenses=6_000_000)
    session.commit()
    row = _overview(session, world.operator).page.items[0]
    assert row.readiness.status == Status.READY and row.history[-1].month == LAST


def test_a_facilitator_sees_only_assigned_kubes(session: Session, world: World) -> None:
    _ready_world(session, world)
    assert _names(_overview(session, world.facilitator_a)) == ["KUBE Kelapa A"]
    assert _names(_overview(session, world.facilitator_b)) == ["KUBE Anyaman B"]
    services.readiness_of(session, world.facilitator_a, world.kube_a.slug, NOW, RULES)
    with pytest.raises(PermissionDenied):
        services.readiness_of(session, world.facilitator_a, world.kube_b.slug, NOW, RULES)


def test_officers_see_their_own_kube_only(session: Session, world: World) -> None:
    _ready_world(session, world)
    assert _names(_overview(session, world.ketua_a)) == ["KUBE Kelapa A"]
    assert services.readiness_of(session, world.ketua_a, world.kube_a.slug, NOW, RULES).member_count == 5
    with pytest.raises(PermissionDenied):
        services.readiness_of(session, world.ketua_a, world.kube_b.slug, NOW, RULES)


@pytest.mark.parametrize("who", ["anggota_a", "buyer", "order_taker"])
def test_others_are_refused(session: Session, world: World, who: str) -> None:
    actor = getattr(world, who)
    with pytest.raises(PermissionDenied):
        _overview(session, actor)
    with pytest.raises(PermissionDenied):
        services.readiness_of(session, actor, world.kube_a.slug, NOW, RULES)


def test_a_disabled_operator_is_refused(session: Session, world: World) -> None:
    world.operator.is_disabled = True
    with pytest.raises(PermissionDenied):
        _overview(session, world.operator)


def test_outsiders_do_not_learn_of_a_draft_kube(session: Session, world: World) -> None:
    draft = factories.make_kube(session, "KUBE Draft", status=KubeStatus.DRAFT)
    session.commit()
    with pytest.raises(NotFoundError):
        services.readiness_of(session, world.facilitator_a, draft.slug, NOW, RULES)
    with pytest.raises(NotFoundError):
        services.readiness_of(session, world.operator, "no-such-kube", NOW, RULES)
    row = services.readiness_of(session, world.operator, draft.slug, NOW, RULES)
    verified = row.readiness.rule("verified")
    assert verified is not None and not verified.passed


def test_filters_by_province_status_and_ids(session: Session, world: World) -> None:
    _ready_world(session, world)
    assert _names(_overview(session, world.operator, province="72")) == ["KUBE Kelapa A"]
    assert _names(_overview(session, world.operator, province="32")) == ["KUBE Anyaman B"]
    assert _names(_overview(session, world.operator, province="99")) == []
    by_status = _overview(session, world.operator, status=Status.NOT_YET)
    assert _names(by_status) == ["KUBE Anyaman B"]
    assert by_status.counts[Status.READY] == 1  # the counts are before the status filter
    assert _names(_overview(session, world.operator, kube_ids=[world.kube_b.id])) == ["KUBE Anyaman B"]


def test_good_sales_without_a_book_are_close(session: Session, world: World) -> None:
    factories.add_households(session, world.kube_a, 3)
    fill(session, world.kube_a, LAST, 12, book=False)
    session.commit()
    row = services.readiness_of(session, world.operator, world.kube_a.slug, NOW, RULES)
    assert row.readiness.status == Status.CLOSE
    assert [m.english() for m in row.readiness.missing] == ["cash-book entries in 5 more months"]


def test_a_facilitator_who_is_also_an_officer_sees_both(session: Session, world: World) -> None:
    other = factories.make_kube(session, "KUBE Lain", members=[(world.facilitator_a, MemberRole.BENDAHARA)])
    session.commit()
    assert _names(_overview(session, world.facilitator_a)) == ["KUBE Kelapa A", "KUBE Lain"]
    assert services.readiness_of(session, world.facilitator_a, other.slug, NOW, RULES).kube.id == other.id


def test_pages_of_the_list(session: Session, world: World) -> None:
    for i in range(5):
        factories.make_kube(session, f"KUBE Extra {i}")
    session.commit()
    overview = services.readiness_for(session, world.operator, services.Filters(), NOW, RULES, page=2, per_page=3)
    assert overview.page.total == 7 and overview.page.page == 2 and len(overview.page.items) == 3
    last = services.readiness_for(session, world.operator, services.Filters(), NOW, RULES, page=99, per_page=3)
    assert last.page.page == 3 and len(last.page.items) == 1
