"""The facilitator's workspace and field visit reports (no flask here).

Who may do what (Permensos 2/2019 art. 9: the pendamping accompanies, monitors and reports):
- the workspace (all their KUBEs at a glance) is for facilitators (their assigned KUBEs) and operators (all);
- a KUBE's visit reports are written only by a facilitator assigned to it; operators read them but do not
  write them (a report is the facilitator's own account of a visit);
- the KUBE's members (officers and anggota) read their own KUBE's reports; nobody else does (a report of a
  KUBE that is not public, or a photo, is "not found" to outsiders).

A report is never changed: an edit adds a version and the earlier ones stay readable.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, func, select, union_all
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from marketplace import media
from marketplace.auth.models import User
from marketplace.books.models import CashEntry
from marketplace.books.services import LATEST_TZ, LOCAL_TZ, add_months, monthly_figures, this_month
from marketplace.catalog.models import FacilitatorAssignment, Kube, KubeMember, Product, ProductStatus
from marketplace.catalog.permissions import require_insider
from marketplace.catalog.services import ImageLimits
from marketplace.common import (
    N_,
    ConflictError,
    NotFoundError,
    Page,
    PermissionDenied,
    ValidationError,
    clean_text,
    utcnow,
)
from marketplace.facilitator.models import VisitPhoto, VisitReport
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Order, OrderStatus

# A paid order the KUBE has not shipped after this long is "waiting too long" on the workspace.
LATE_AFTER = timedelta(days=2)
LATE_STATUSES = (OrderStatus.PAID, OrderStatus.PROCESSING)
TREND_MONTHS = 6
MAX_PHOTOS = 10
MAX_LINKS = 10
MAX_LINK_LENGTH = 500
# The latest clock in Indonesia (WIT, UTC+9): a visit made "today" in Papua is not in the future.
EARLIEST_VISIT = date(2000, 1, 1)


# --- Who may do what ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitAccess:
    """What the actor may do with a KUBE's visit reports (reading is implied: outsiders never get one)."""

    writes: bool
    facilitator: bool
    operator: bool
    member: KubeMember | None


def visit_access(session: Session, actor: User | None, kube: Kube) -> VisitAccess:
    """The actor's access to the KUBE's reports; outsiders are refused (404 for a KUBE that is not public)."""
    found = require_insider(session, actor, kube,
                            N_("Only the KUBE's members, its facilitator and operators read its visit reports."))
    return VisitAccess(writes=found.facilitator, facilitator=found.facilitator, operator=found.operator,
                       member=found.member)


def require_writer(session: Session, actor: User, kube: Kube) -> VisitAccess:
    found = visit_access(session, actor, kube)
    if not found.writes:
        raise PermissionDenied(N_("Only a facilitator assigned to this KUBE writes its visit reports."))
    return found


def kube_by_slug(session: Session, actor: User, slug: str) -> tuple[Kube, VisitAccess]:
    """A KUBE of the facilitator's page, with the actor's access (refused to outsiders)."""
    kube = session.scalar(select(Kube).where(Kube.slug == slug))
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    return kube, visit_access(session, actor, kube)


def my_kubes(session: Session, actor: User) -> list[Kube]:
    """The facilitator's assigned KUBEs (every KUBE for an operator), by name."""
    if not (actor.is_facilitator or actor.is_operator) or actor.is_disabled:
        raise PermissionDenied(N_("Only facilitators and operators have a workspace."))
    stmt = select(Kube).order_by(Kube.name, Kube.id)
    if not actor.is_operator:
        stmt = stmt.join(FacilitatorAssignment).where(FacilitatorAssignment.facilitator_id == actor.id)
    return list(session.scalars(stmt))


# --- The workspace -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KubeGlance:
    """One KUBE on the facilitator's workspace."""

    kube: Kube
    pending_products: int = 0
    late_orders: int = 0
    last_activity: datetime | None = None
    last_visit: date | None = None
    months: list[date] = field(default_factory=list)
    profits: list[int] = field(default_factory=list)  # the last whole months, oldest first

    @property
    def trend(self) -> str:
        return profit_trend(self.profits)

    @property
    def needs_attention(self) -> bool:
        return self.pending_products > 0 or self.late_orders > 0


def profit_trend(profits: Sequence[int]) -> str:
    """'up', 'down' or 'flat': the later half of the months against the earlier half (a change under 5 % of
    the larger half is flat)."""
    half = len(profits) // 2
    if half == 0:
        return "flat"
    earlier, later = sum(profits[:half]), sum(profits[-half:])
    if abs(later - earlier) <= max(abs(earlier), abs(later)) // 20:
        return "flat"
    return "up" if later > earlier else "down"


def spark_points(values: Sequence[int], *, width: int = 80, height: int = 24, pad: int = 2) -> str:
    """The `points` of an SVG polyline drawing `values` left to right in a width x height box."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    step = (width - 2 * pad) / max(1, len(values) - 1)
    points = []
    for i, value in enumerate(values):
        y = height / 2 if span == 0 else pad + (height - 2 * pad) * (high - value) / span
        points.append(f"{pad + step * i:.1f},{y:.1f}")
    return " ".join(points)


def _is_current() -> ColumnElement[bool]:
    """A report that is its latest version (no later version supersedes it)."""
    later = aliased(VisitReport)
    return ~exists().where(later.supersedes_id == VisitReport.id)


def glances(session: Session, kubes: Sequence[Kube], now: datetime | None = None,
            tz: ZoneInfo = LOCAL_TZ) -> list[KubeGlance]:
    """Each KUBE's state at a glance: a fixed number of grouped queries whatever the number of KUBEs."""
    now = now or utcnow()
    ids = [kube.id for kube in kubes]
    if not ids:
        return []
    pending = dict(session.execute(
        select(Product.kube_id, func.count()).where(Product.kube_id.in_(ids),
                                                    Product.status == ProductStatus.PENDING_REVIEW)
        .group_by(Product.kube_id)).all())
    late = dict(session.execute(
        select(Order.kube_id, func.count()).where(Order.kube_id.in_(ids), Order.status.in_(LATE_STATUSES),
                                                  # Cash on delivery is never "paid" while it waits: its
                                                  # clock starts when it was placed.
                                                  func.coalesce(Order.paid_at, Order.created_at) < now - LATE_AFTER)
        .group_by(Order.kube_id)).all())
    sources = [
        select(Order.kube_id.label("kube_id"), func.max(Order.updated_at).label("at"))
        .where(Order.kube_id.in_(ids)).group_by(Order.kube_id),
        select(LedgerEntry.kube_id, func.max(LedgerEntry.created_at))
        .where(LedgerEntry.kube_id.in_(ids)).group_by(LedgerEntry.kube_id),
        select(CashEntry.kube_id, func.max(CashEntry.created_at))
        .where(CashEntry.kube_id.in_(ids)).group_by(CashEntry.kube_id),
        select(Product.kube_id, func.max(Product.updated_at))
        .where(Product.kube_id.in_(ids)).group_by(Product.kube_id),
        select(VisitReport.kube_id, func.max(VisitReport.created_at))
        .where(VisitReport.kube_id.in_(ids)).group_by(VisitReport.kube_id),
    ]
    union = union_all(*sources).subquery()
    # Each source's column is a UTC timestamp, so the union's maximum is read back as one too.
    activity: dict[int, datetime] = dict(session.execute(
        select(union.c.kube_id, func.max(union.c.at)).group_by(union.c.kube_id)).all())
    visits: dict[int, date] = dict(session.execute(
        select(VisitReport.kube_id, func.max(VisitReport.visited_on))
        .where(VisitReport.kube_id.in_(ids), _is_current()).group_by(VisitReport.kube_id)).all())
    last_whole = add_months(this_month(now, tz), -1)
    figures = monthly_figures(session, ids, add_months(last_whole, -(TREND_MONTHS - 1)), last_whole, tz)
    return [
        KubeGlance(
            kube=kube,
            pending_products=int(pending.get(kube.id, 0)),
            late_orders=int(late.get(kube.id, 0)),
            last_activity=activity.get(kube.id),
            last_visit=visits.get(kube.id),
            months=[f.month for f in figures[kube.id]],
            profits=[f.profit for f in figures[kube.id]],
        )
        for kube in kubes
    ]


def workspace(session: Session, actor: User, now: datetime | None = None) -> list[KubeGlance]:
    """The facilitator's KUBEs at a glance (every KUBE for an operator)."""
    return glances(session, my_kubes(session, actor), now)


# --- Visit reports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitInput:
    visited_on: date | None
    notes: str
    video_links: str = ""
    guidance_given: bool = False
    business_monitored: bool = False
    bookkeeping_checked: bool = False
    problems_found: bool = False
    problems: str = ""
    follow_up: str = ""


def clean_links(text: str | None) -> list[str]:
    """Video links, one a line: only whole http(s) addresses (no javascript:, no relative paths)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_LINKS:
        raise ValidationError(N_("Give at most %(count)d video links."), field="video_links", count=MAX_LINKS)
    for line in lines:
        parts = urlsplit(line)
        if (len(line) > MAX_LINK_LENGTH or parts.scheme.lower() not in ("http", "https") or not parts.netloc
                or any(ch.isspace() or ord(ch) < 32 for ch in line)):
            raise ValidationError(N_("“%(link)s” is not a web address starting with http:// or https://."),
                                  field="video_links", link=line[:80])
    return lines


def _clean(data: VisitInput, now: datetime) -> dict[str, object]:
    if data.visited_on is None:
        raise ValidationError(N_("Give the date of the visit."), field="visited_on")
    if data.visited_on > now.astimezone(LATEST_TZ).date():
        raise ValidationError(N_("The date cannot be in the future."), field="visited_on")
    if data.visited_on < EARLIEST_VISIT:
        raise ValidationError(N_("The date is too far in the past."), field="visited_on")
    problems = clean_text(data.problems, field="problems", max_length=2000, required=False)
    if data.problems_found and not problems:
        raise ValidationError(N_("Describe the problems found."), field="problems")
    return {
        "visited_on": data.visited_on,
        "notes": clean_text(data.notes, field="notes", max_length=5000),
        "video_links": "\n".join(clean_links(data.video_links)),
        "guidance_given": bool(data.guidance_given),
        "business_monitored": bool(data.business_monitored),
        "bookkeeping_checked": bool(data.bookkeeping_checked),
        "problems_found": bool(data.problems_found or problems),
        "problems": problems,
        "follow_up": clean_text(data.follow_up, field="follow_up", max_length=2000, required=False),
    }


def _store_photos(session: Session, report: VisitReport, uploads: Sequence[bytes], limits: ImageLimits,
                  start: int) -> None:
    for position, data in enumerate(uploads, start=start):
        stored = media.store_image(data, limits.media_root, max_bytes=limits.max_bytes,
                                   max_pixels=limits.max_pixels, field="photos")
        media.keep_if_committed(session, limits.media_root, stored.key)
        report.photos.append(VisitPhoto(key=stored.key, width=stored.width, height=stored.height,
                                        position=position))


def _check_photo_count(count: int) -> None:
    if count > MAX_PHOTOS:
        raise ValidationError(N_("A report has at most %(count)d photos."), field="photos", count=MAX_PHOTOS)


def create_visit(session: Session, actor: User, kube_id: int, data: VisitInput, photos: Sequence[bytes] = (),
                 limits: ImageLimits | None = None, now: datetime | None = None) -> VisitReport:
    """An assigned facilitator reports a visit, with photos (bytes of each upload) stored privately."""
    kube = session.get(Kube, kube_id)
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    require_writer(session, actor, kube)
    now = now or utcnow()
    fields = _clean(data, now)
    _check_photo_count(len(photos))
    report = VisitReport(kube_id=kube.id, facilitator_id=actor.id, group_key=secrets.token_hex(16), version=1,
                         created_at=now, **fields)
    session.add(report)
    if photos:
        if limits is None:
            raise ValueError("photos need the image limits")
        _store_photos(session, report, photos, limits, 0)
    session.flush()
    return report


def _report(session: Session, report_id: int) -> VisitReport:
    report = session.scalar(select(VisitReport).where(VisitReport.id == report_id)
                            .options(joinedload(VisitReport.kube), selectinload(VisitReport.photos)))
    if report is None:
        raise NotFoundError(N_("Report not found."))
    return report


def _readable(session: Session, actor: User | None, report_id: int) -> tuple[VisitReport, VisitAccess]:
    """The report and the actor's access; outsiders learn nothing of it (404)."""
    report = _report(session, report_id)
    try:
        found = visit_access(session, actor, report.kube)
    except PermissionDenied:
        raise NotFoundError(N_("Report not found.")) from None
    return report, found


def _is_latest(session: Session, report: VisitReport) -> bool:
    return session.scalar(select(VisitReport.id).where(VisitReport.supersedes_id == report.id)) is None


def revise_visit(session: Session, actor: User, report_id: int, data: VisitInput, photos: Sequence[bytes] = (),
                 limits: ImageLimits | None = None, drop_photo_ids: Iterable[object] = (),
                 now: datetime | None = None) -> VisitReport:
    """A new version of the latest version of a report: the given fields, the earlier version's photos but the
    dropped ones, and the new photos. The earlier version stays as it was."""
    previous, found = _readable(session, actor, report_id)
    if not found.writes:
        raise PermissionDenied(N_("Only a facilitator assigned to this KUBE writes its visit reports."))
    if not _is_latest(session, previous):
        raise ConflictError(N_("This report has a newer version: open the latest version and edit that."))
    now = now or utcnow()
    fields = _clean(data, now)
    known = {photo.id: photo for photo in previous.photos}
    dropped: set[int] = set()
    for raw in drop_photo_ids:
        text = str(raw).strip()
        if not text.isdigit() or int(text) not in known:
            raise ValidationError(N_("Choose photos of this report to remove."), field="photos")
        dropped.add(int(text))
    kept = [photo for photo in previous.photos if photo.id not in dropped]
    _check_photo_count(len(kept) + len(photos))
    report = VisitReport(kube_id=previous.kube_id, facilitator_id=actor.id, group_key=previous.group_key,
                         version=previous.version + 1, supersedes_id=previous.id, created_at=now, **fields)
    report.photos = [VisitPhoto(key=p.key, width=p.width, height=p.height, position=i) for i, p in enumerate(kept)]
    session.add(report)
    if photos:
        if limits is None:
            raise ValueError("photos need the image limits")
        _store_photos(session, report, photos, limits, len(kept))
    session.flush()
    return report


@dataclass(frozen=True)
class VisitView:
    report: VisitReport
    versions: list[VisitReport]  # every version of the report, oldest first
    access: VisitAccess

    @property
    def latest(self) -> VisitReport:
        return self.versions[-1]

    @property
    def is_latest(self) -> bool:
        return self.report.id == self.latest.id


def visit(session: Session, actor: User | None, report_id: int) -> VisitView:
    """One version of a report with the list of all its versions (members, facilitators, operators)."""
    report, found = _readable(session, actor, report_id)
    versions = list(session.scalars(select(VisitReport).where(VisitReport.group_key == report.group_key)
                                    .options(joinedload(VisitReport.facilitator))
                                    .order_by(VisitReport.version)))
    return VisitView(report=report, versions=versions, access=found)


def editable_visit(session: Session, actor: User, report_id: int) -> VisitView:
    """The report as the edit form starts from it (its writers only)."""
    view = visit(session, actor, report_id)
    if not view.access.writes:
        raise PermissionDenied(N_("Only a facilitator assigned to this KUBE writes its visit reports."))
    return view


def visit_log(session: Session, kube_id: int, *, page: int = 1, per_page: int = 20) -> Page[VisitReport]:
    """The latest version of each report of the KUBE, latest visit first (the caller has checked access)."""
    base = select(VisitReport).where(VisitReport.kube_id == kube_id, _is_current())
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    items = list(session.scalars(
        base.options(joinedload(VisitReport.facilitator), selectinload(VisitReport.photos))
        .order_by(VisitReport.visited_on.desc(), VisitReport.id.desc())
        .limit(per_page).offset((max(1, page) - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)


def visits_between(session: Session, kube_ids: Sequence[int], first: date, last: date) -> dict[int, list[VisitReport]]:
    """The latest versions of the reports of visits from `first` to `last` (both included), per KUBE, in order
    of the visit. One query (photos aside) for any number of KUBEs; no permission check."""
    found: dict[int, list[VisitReport]] = {kube_id: [] for kube_id in kube_ids}
    if kube_ids:
        for report in session.scalars(
            select(VisitReport).where(VisitReport.kube_id.in_(list(kube_ids)), _is_current(),
                                      VisitReport.visited_on >= first, VisitReport.visited_on <= last)
            .options(joinedload(VisitReport.facilitator))
            .order_by(VisitReport.visited_on, VisitReport.id)
        ):
            found[report.kube_id].append(report)
    return found


def photo(session: Session, actor: User | None, key: str) -> VisitPhoto:
    """A visit photo by its key, for those who may read its report; anyone else gets "not found"."""
    found = session.scalars(select(VisitPhoto).where(VisitPhoto.key == key)
                            .options(joinedload(VisitPhoto.report).joinedload(VisitReport.kube))
                            .order_by(VisitPhoto.id).limit(1)).first()
    if found is None:
        raise NotFoundError(N_("Photo not found."))
    try:
        visit_access(session, actor, found.report.kube)
    except (PermissionDenied, NotFoundError):
        raise NotFoundError(N_("Photo not found.")) from None
    return found
