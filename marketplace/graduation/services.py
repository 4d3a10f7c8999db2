"""Graduation readiness for the people who steer KUBEs towards KUR credit (no flask here).

Who sees what (checked here, not in the views):
- operators and ministry / Dinas Sosial users (User.is_ministry): every KUBE;
- a facilitator (pendamping, Permensos 2/2019 art. 9 "monitors" and "accompanies the business"): the KUBEs
  assigned to them;
- a KUBE's officers (ketua, sekretaris, bendahara): their own KUBE;
- anyone else (an anggota who is no officer, a buyer, an order taker): refused.

Readiness is read from the cash book's monthly figures (marketplace.books.services.monthly_figures), up to the
last complete month. A constant number of queries whatever the number of KUBEs: the KUBEs, their member counts
(one grouped query) and the two queries of monthly_figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.books.services import LOCAL_TZ, MonthFigures, add_months, monthly_figures, this_month
from marketplace.catalog.models import OFFICER_ROLES, PUBLIC_KUBE_STATUSES, FacilitatorAssignment, Kube, KubeMember
from marketplace.common import N_, NotFoundError, Page, PermissionDenied
from marketplace.graduation.rules import STATUS_ORDER, Readiness, Rules, Status, evaluate

CHART_MONTHS = 12  # the detail page's chart: a year of complete months
REFUSED = N_("Only operators, ministry staff, a KUBE's facilitator and its officers see graduation readiness.")


@dataclass(frozen=True)
class Filters:
    """Which KUBEs to list. Unknown values are the view's to drop; here they simply match nothing."""

    province: str | None = None  # Kemendagri province code, e.g. "72"
    status: Status | None = None
    kube_ids: Sequence[int] | None = None


@dataclass(frozen=True)
class KubeReadiness:
    kube: Kube
    member_count: int
    readiness: Readiness
    history: list[MonthFigures]  # complete months up to readiness.last_month (at least CHART_MONTHS), oldest first


@dataclass(frozen=True)
class Overview:
    page: Page[KubeReadiness]  # the KUBEs of the asked status, ready first, then by score and name
    counts: dict[Status, int]  # per status, before the status filter
    last_month: date


def last_complete_month(now: datetime, tz: ZoneInfo = LOCAL_TZ) -> date:
    """The month before the current one (the current month is partial)."""
    return add_months(this_month(now, tz), -1)


def _sees_all(actor: User) -> bool:
    return bool(actor.is_operator or actor.is_ministry)


def _active(actor: User) -> bool:
    return bool(actor.is_authenticated and not actor.is_disabled)


def _visible(session: Session, actor: User) -> Select[Kube]:
    """The KUBEs the actor may see the readiness of; PermissionDenied for someone who may see none."""
    if not _active(actor):
        raise PermissionDenied(REFUSED)
    query = select(Kube)
    if _sees_all(actor):
        return query
    officer_of = select(KubeMember.kube_id).where(KubeMember.user_id == actor.id, KubeMember.role.in_(OFFICER_ROLES))
    if not actor.is_facilitator:
        if session.scalar(officer_of.limit(1)) is None:
            raise PermissionDenied(REFUSED)
        return query.where(Kube.id.in_(officer_of))
    assigned = select(FacilitatorAssignment.kube_id).where(FacilitatorAssignment.facilitator_id == actor.id)
    return query.where(Kube.id.in_(assigned) | Kube.id.in_(officer_of))


def _evaluate(session: Session, kubes: Sequence[Kube], rules: Rules, last: date,
              tz: ZoneInfo) -> list[KubeReadiness]:
    """Every KUBE's readiness in three queries (member counts, then the two of monthly_figures)."""
    ids = [k.id for k in kubes]
    if not ids:
        return []
    members = dict(session.execute(
        select(KubeMember.kube_id, func.count(KubeMember.id)).where(KubeMember.kube_id.in_(ids))
        .group_by(KubeMember.kube_id)).all())
    first = add_months(last, -(max(rules.months_needed, CHART_MONTHS) - 1))
    figures = monthly_figures(session, ids, first, last, tz)
    rows = []
    for kube in kubes:
        history = figures[kube.id]
        count = int(members.get(kube.id, 0))
        readiness = evaluate(history, count, rules, last_complete=last,
                             verified=kube.status in PUBLIC_KUBE_STATUSES)
        rows.append(KubeReadiness(kube, count, readiness, history))
    return rows


def readiness_for(session: Session, actor: User, filters: Filters, now: datetime, rules: Rules, *,
                  page: int = 1, per_page: int = 50, tz: ZoneInfo = LOCAL_TZ) -> Overview:
    """The readiness of every KUBE the actor may see that matches the filters, one page of it."""
    query = _visible(session, actor)
    if filters.province:
        query = query.where(Kube.province_code == filters.province)
    if filters.kube_ids is not None:
        query = query.where(Kube.id.in_(list(filters.kube_ids)))
    kubes = list(session.scalars(query.order_by(Kube.name, Kube.id)))
    last = last_complete_month(now, tz)
    rows = _evaluate(session, kubes, rules, last, tz)
    counts = {status: 0 for status in STATUS_ORDER}
    for row in rows:
        counts[row.readiness.status] += 1
    if filters.status is not None:
        rows = [row for row in rows if row.readiness.status == filters.status]
    # Ready first, then close, then not yet; the best scores first within each.
    rows.sort(key=lambda row: (STATUS_ORDER.index(row.readiness.status), -row.readiness.score))
    per_page = max(1, per_page)
    page = max(1, min(page, max(1, -(-len(rows) // per_page))))
    items = rows[(page - 1) * per_page: page * per_page]
    return Overview(Page(items, len(rows), page, per_page), counts, last)


def readiness_of(session: Session, actor: User, slug: str, now: datetime, rules: Rules, *,
                 tz: ZoneInfo = LOCAL_TZ) -> KubeReadiness:
    """One KUBE's readiness, rule by rule, with a year of figures for its chart."""
    kube = session.scalar(select(Kube).where(Kube.slug == slug))
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    allowed = False
    if _active(actor):
        if _sees_all(actor):
            allowed = True
        else:
            links = [select(KubeMember.id).where(KubeMember.kube_id == kube.id, KubeMember.user_id == actor.id,
                                                 KubeMember.role.in_(OFFICER_ROLES))]
            if actor.is_facilitator:
                links.append(select(FacilitatorAssignment.id).where(FacilitatorAssignment.kube_id == kube.id,
                                                                    FacilitatorAssignment.facilitator_id == actor.id))
            allowed = any(session.scalar(link.limit(1)) is not None for link in links)
    if not allowed:
        if not kube.is_public:
            raise NotFoundError(N_("KUBE not found."))
        raise PermissionDenied(REFUSED)
    return _evaluate(session, [kube], rules, last_complete_month(now, tz), tz)[0]
