"""Monthly reports of a KUBE and of a facilitator's KUBEs, as rows, CSV text and PDF bytes (no flask here).

Per KUBE: the month's income, expenses, profit, platform sales, book entries and orders (from the cash book,
marketplace.books), and the log of that month's visits. Per facilitator: one row per assigned KUBE with the
same figures and the number of visits. Texts are English msgids: the caller passes a translate function,
and functions that show a month, a day and an amount in the reader's language.

The PDF is drawn with ReportLab's built-in Helvetica (no font files, nothing from the network).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from lokal.rupiah import format_rupiah
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import regions
from marketplace.auth.models import User
from marketplace.books.services import LOCAL_TZ, MonthFigures, add_months, month_end, monthly_figures, this_month
from marketplace.catalog.models import Kube
from marketplace.common import N_, NotFoundError, csv_cell, utcnow
from marketplace.facilitator import services
from marketplace.facilitator.models import VisitReport
from marketplace.orders.models import SOLD_STATUSES, Order


def last_month(now: datetime | None = None, tz: ZoneInfo = LOCAL_TZ) -> date:
    """The default month of a report: the last whole month."""
    return add_months(this_month(now, tz), -1)


@dataclass(frozen=True)
class KubeMonth:
    """One KUBE's month."""

    kube: Kube
    figures: MonthFigures
    orders: int
    visits: list[VisitReport] = field(default_factory=list)


@dataclass(frozen=True)
class MonthReport:
    month: date
    rows: list[KubeMonth]
    facilitator: User | None = None  # the facilitator report's owner; None for one KUBE's report

    @property
    def totals(self) -> MonthFigures:
        return MonthFigures(self.month, income=sum(r.figures.income for r in self.rows),
                            expenses=sum(r.figures.expenses for r in self.rows),
                            sales=sum(r.figures.sales for r in self.rows),
                            entries=sum(r.figures.entries for r in self.rows))


def _orders(session: Session, kube_ids: Sequence[int], month: date, tz: ZoneInfo) -> dict[int, int]:
    start = datetime.combine(month, time(), tz).astimezone(UTC)
    end = datetime.combine(add_months(month, 1), time(), tz).astimezone(UTC)
    return dict(session.execute(
        select(Order.kube_id, func.count()).where(Order.kube_id.in_(list(kube_ids)), Order.created_at >= start,
                                                  Order.created_at < end, Order.status.in_(SOLD_STATUSES))
        .group_by(Order.kube_id)).all())


def _rows(session: Session, kubes: Sequence[Kube], month: date, tz: ZoneInfo) -> list[KubeMonth]:
    """The month of each KUBE: four queries whatever the number of KUBEs."""
    ids = [kube.id for kube in kubes]
    if not ids:
        return []
    figures = monthly_figures(session, ids, month, month, tz)
    orders = _orders(session, ids, month, tz)
    visits = services.visits_between(session, ids, month, month_end(month))
    return [KubeMonth(kube=kube, figures=figures[kube.id][0], orders=int(orders.get(kube.id, 0)),
                      visits=visits[kube.id]) for kube in kubes]


def kube_report(session: Session, actor: User, kube_id: int, month: date, tz: ZoneInfo = LOCAL_TZ) -> MonthReport:
    """One KUBE's month (its members, its facilitators and operators)."""
    kube = session.get(Kube, kube_id)
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    services.visit_access(session, actor, kube)
    return MonthReport(month=month, rows=_rows(session, [kube], month, tz))


def facilitator_report(session: Session, actor: User, month: date, tz: ZoneInfo = LOCAL_TZ) -> MonthReport:
    """The month of each of the facilitator's KUBEs (every KUBE for an operator)."""
    return MonthReport(month=month, rows=_rows(session, services.my_kubes(session, actor), month, tz),
                       facilitator=actor)


# --- Texts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formatting:
    """How the reader reads: a translate function and the shapes of a month, a day and an amount."""

    translate: Callable[[str], str] = lambda text: text
    month: Callable[[date], str] = lambda month: month.strftime("%Y-%m")
    day: Callable[[date], str] = lambda day: day.isoformat()
    money: Callable[[int], str] = format_rupiah


FIGURE_HEADERS = (N_("KUBE"), N_("Regency"), N_("Month"), N_("Income"), N_("Expenses"), N_("Profit"),
                  N_("Platform sales"), N_("Book entries"), N_("Orders"), N_("Visits"), N_("Last visit"))
VISIT_HEADERS = (N_("Visit date"), N_("Facilitator"), N_("Guidance given"), N_("Business monitored"),
                 N_("Bookkeeping checked"), N_("Problems found"), N_("Problems"), N_("Follow-up"), N_("Notes"),
                 N_("Video links"), N_("Version"))
YES, NO = N_("yes"), N_("no")


def _region(code: str) -> str:
    return regions.name(code) or code



def _figure_row(row: KubeMonth, month: date) -> list[object]:
    last = row.visits[-1].visited_on.isoformat() if row.visits else ""
    f = row.figures
    return [row.kube.name, _region(row.kube.regency_code), month.strftime("%Y-%m"), f.income, f.expenses,
            f.profit, f.sales, f.entries, row.orders, len(row.visits), last]


def _visit_row(report: VisitReport, fmt: Formatting) -> list[object]:
    def yes_no(flag: bool) -> str:
        return fmt.translate(YES if flag else NO)

    return [report.visited_on.isoformat(), report.facilitator.name, yes_no(report.guidance_given),
            yes_no(report.business_monitored), yes_no(report.bookkeeping_checked), yes_no(report.problems_found),
            report.problems, report.follow_up, report.notes, " ".join(report.links), report.version]


def report_csv(report: MonthReport, fmt: Formatting | None = None) -> str:
    """The report as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the accents right).

    Amounts are whole Rupiah without separators, dates ISO, so the file can be computed with. One KUBE's
    report has its figures, an empty line, then its visits; a facilitator's has one line per KUBE."""
    fmt = fmt or Formatting()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([fmt.translate(h) for h in FIGURE_HEADERS])
    for row in report.rows:
        writer.writerow([csv_cell(v) for v in _figure_row(row, report.month)])
    if report.facilitator is None:
        writer.writerow([])
        writer.writerow([fmt.translate(h) for h in VISIT_HEADERS])
        for row in report.rows:
            for visit in row.visits:
                writer.writerow([csv_cell(v) for v in _visit_row(visit, fmt)])
    return "\ufeff" + buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------------------------


def _text(value: str) -> str:
    """Text for a ReportLab paragraph: markup escaped, line breaks kept, and only what Helvetica can draw
    (its built-in encoding is Latin-1 like; anything else becomes "?")."""
    safe = value.encode("cp1252", "replace").decode("cp1252")
    return escape(safe).replace("\r\n", "\n").replace("\n", "<br/>")


def report_pdf(report: MonthReport, fmt: Formatting | None = None, *, title: str | None = None,
               compress: bool = False, now: datetime | None = None) -> bytes:
    """The report as an A4 PDF. Uncompressed by default: the files are small and their text searchable by
    simple tools; `invariant` makes the same report the same bytes."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    fmt = fmt or Formatting()
    tr = fmt.translate
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontName="Helvetica", fontSize=8, leading=10)
    head = small.clone("head", fontName="Helvetica-Bold")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, invariant=1, pageCompression=int(compress),
                            title=title or tr(N_("Monthly report")), author="Pasar KUBE",
                            creator="Pasar KUBE")
    story: list[object] = [Paragraph(_text(title or tr(N_("Monthly report"))), styles["Title"])]
    subtitle = [tr(N_("Month")) + ": " + fmt.month(report.month)]
    if report.facilitator is not None:
        subtitle.append(tr(N_("Facilitator")) + ": " + report.facilitator.name)
    subtitle.append(tr(N_("Made on")) + ": " + fmt.day((now or utcnow()).astimezone(LOCAL_TZ).date()))
    story += [Paragraph(_text(" · ".join(subtitle)), styles["Normal"]), Spacer(1, 4 * mm)]

    def table(header: Sequence[str], body: list[list[str]], widths: Sequence[float], numeric: set[int]) -> Table:
        data = [[Paragraph(_text(tr(h)), head) for h in header]]
        data += [[Paragraph(_text(cell), small) for cell in row] for row in body]
        found = Table(data, colWidths=list(widths), repeatRows=1, splitInRow=1)
        style = [("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8efe9")),
                 ("VALIGN", (0, 0), (-1, -1), "TOP")]
        style += [("ALIGN", (i, 1), (i, -1), "RIGHT") for i in numeric]
        found.setStyle(TableStyle(style))
        return found

    money = fmt.money
    body = []
    for row in report.rows:
        f = row.figures
        body.append([row.kube.name, _region(row.kube.regency_code), money(f.income), money(f.expenses),
                     money(f.profit), money(f.sales), str(f.entries), str(row.orders), str(len(row.visits)),
                     fmt.day(row.visits[-1].visited_on) if row.visits else "–"])
    if len(report.rows) > 1:
        t = report.totals
        body.append([tr(N_("Total")), "", money(t.income), money(t.expenses), money(t.profit), money(t.sales),
                     str(t.entries), str(sum(r.orders for r in report.rows)),
                     str(sum(len(r.visits) for r in report.rows)), ""])
    headers = (FIGURE_HEADERS[0], FIGURE_HEADERS[1], *FIGURE_HEADERS[3:])
    widths = [52 * mm, 40 * mm, 24 * mm, 24 * mm, 24 * mm, 24 * mm, 18 * mm, 16 * mm, 16 * mm, 25 * mm]
    if report.rows:
        story.append(table(headers, body, widths, {2, 3, 4, 5, 6, 7, 8}))
    else:
        story.append(Paragraph(_text(tr(N_("No KUBE is assigned to you."))), styles["Normal"]))

    if report.facilitator is None:
        story += [Spacer(1, 6 * mm), Paragraph(_text(tr(N_("Visits this month"))), styles["Heading2"])]
        visits = [visit for row in report.rows for visit in row.visits]
        if visits:
            def checks(visit: VisitReport) -> str:
                done = [label for flag, label in (
                    (visit.guidance_given, N_("Guidance given")),
                    (visit.business_monitored, N_("Business monitored")),
                    (visit.bookkeeping_checked, N_("Bookkeeping checked")),
                    (visit.problems_found, N_("Problems found")),
                ) if flag]
                return "\n".join(tr(label) for label in done) or "–"

            rows = [[fmt.day(v.visited_on), v.facilitator.name, checks(v),
                     v.notes + ("\n\n" + tr(N_("Problems")) + ": " + v.problems if v.problems else ""),
                     v.follow_up] for v in visits]
            story.append(table((N_("Visit date"), N_("Facilitator"), N_("Checklist"), N_("Notes"), N_("Follow-up")),
                               rows, [24 * mm, 36 * mm, 40 * mm, 110 * mm, 62 * mm], set()))
        else:
            story.append(Paragraph(_text(tr(N_("No visit was reported this month."))), styles["Normal"]))
    doc.build(story)
    return buffer.getvalue()
