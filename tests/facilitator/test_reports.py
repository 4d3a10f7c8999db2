"""Monthly reports: the rows, the CSV and the PDF (services without HTTP), then the download routes."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.books.models import Direction
from marketplace.catalog.models import KubeStatus, MemberRole
from marketplace.common import NotFoundError, PermissionDenied
from marketplace.facilitator import reports
from marketplace.orders.models import OrderStatus
from tests import factories
from tests.facilitator.support import at, cash, order, sale, visit
from tests.factories import World

pytestmark = pytest.mark.usefixtures("english")
Login = Callable[[str], FlaskClient]
MAY = date(2026, 5, 1)


def _may(session: Session, world: World) -> None:
    """KUBE A in May 2026: sales 100.000 (ledger) + 20.000 cash income, 30.000 expenses; 2 orders (a third was
    cancelled, a fourth is of June); 2 visits (one in April does not count). KUBE B: nothing but 1 sale."""
    sale(session, world.kube_a, 100_000, at(2026, 5, 10, 3))
    cash(session, world.kube_a, Direction.INCOME, 20_000, date(2026, 5, 12))
    cash(session, world.kube_a, Direction.EXPENSE, 30_000, date(2026, 5, 13))
    order(session, world, world.kube_a, OrderStatus.COMPLETED, paid_at=at(2026, 5, 10), created_at=at(2026, 5, 10))
    order(session, world, world.kube_a, OrderStatus.PAID, paid_at=at(2026, 5, 20), created_at=at(2026, 5, 20))
    order(session, world, world.kube_a, OrderStatus.CANCELLED, paid_at=None, created_at=at(2026, 5, 21))
    order(session, world, world.kube_a, OrderStatus.PAID, paid_at=at(2026, 6, 2), created_at=at(2026, 6, 2))
    visit(session, world, date(2026, 4, 30), "April visit")
    visit(session, world, date(2026, 5, 5), "=Bimbingan pembukuan, harga \"sabun\"", guidance_given=True,
          bookkeeping_checked=True, video_links="https://youtu.be/abc")
    visit(session, world, date(2026, 5, 25), "Cek stok", problems_found=True, problems="Kemasan bocor",
          follow_up="Beli kemasan baru")
    sale(session, world.kube_b, 50_000, at(2026, 5, 3))
    session.commit()


def _parse(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_kube_report_rows_and_csv(world: World, session: Session) -> None:
    _may(session, world)
    report = reports.kube_report(session, world.facilitator_a, world.kube_a.id, MAY)
    (row,) = report.rows
    f = row.figures
    assert (f.income, f.expenses, f.profit, f.sales, f.entries) == (120_000, 30_000, 90_000, 100_000, 2)
    assert row.orders == 2 and [v.notes for v in row.visits][1] == "Cek stok" and len(row.visits) == 2

    rows = _parse(reports.report_csv(report))
    assert rows[0][:6] == ["KUBE", "Regency", "Month", "Income", "Expenses", "Profit"]
    assert rows[1] == ["KUBE Kelapa A", "Kabupaten Banggai", "2026-05", "120000", "30000", "90000", "100000", "2",
                       "2", "2", "2026-05-25"]
    assert rows[2] == []
    assert rows[3][0] == "Visit date"
    first, second = rows[4], rows[5]
    assert first[0] == "2026-05-05" and first[2:6] == ["yes", "no", "yes", "no"]
    assert first[8] == "'=Bimbingan pembukuan, harga \"sabun\""  # no formula for a spreadsheet to run
    assert first[9] == "https://youtu.be/abc"
    assert second[5:8] == ["yes", "Kemasan bocor", "Beli kemasan baru"]
    assert len(rows) == 6


def test_facilitator_report_has_a_row_per_kube(world: World, session: Session) -> None:
    _may(session, world)
    extra = factories.make_kube(session, "KUBE Sabut C", facilitators=[world.facilitator_a])
    session.commit()
    report = reports.facilitator_report(session, world.facilitator_a, MAY)
    rows = _parse(reports.report_csv(report))
    assert [r[0] for r in rows[1:]] == ["KUBE Kelapa A", "KUBE Sabut C"]  # not KUBE B (another facilitator's)
    assert rows[1][9] == "2" and rows[2][3:10] == ["0", "0", "0", "0", "0", "0", "0"]
    assert extra.id in {r.kube.id for r in report.rows}
    # An operator's report holds every KUBE.
    assert len(reports.facilitator_report(session, world.operator, MAY).rows) == 3


def _pdf_text(data: bytes) -> str:
    """The text shown by an uncompressed ReportLab PDF: the strings of its Tj operators, joined."""
    assert data.startswith(b"%PDF-")
    return " ".join(m.decode("latin-1") for m in re.findall(rb"\((.*?)(?<!\\)\) Tj", data))


def test_kube_pdf(world: World, session: Session) -> None:
    _may(session, world)
    report = reports.kube_report(session, world.facilitator_a, world.kube_a.id, MAY)
    data = reports.report_pdf(report, title="Laporan KUBE Kelapa A")
    text = _pdf_text(data)
    assert "KUBE Kelapa A" in text and "Rp120.000" in text and "Rp90.000" in text
    assert "Cek stok" in text and "Kemasan bocor" in text and "April visit" not in text
    assert b"/Helvetica" in data
    # The same report gives the same bytes (invariant), and compressing still gives a PDF.
    assert reports.report_pdf(report, title="Laporan KUBE Kelapa A", now=at(2026, 6, 1)) == reports.report_pdf(
        report, title="Laporan KUBE Kelapa A", now=at(2026, 6, 1))
    assert reports.report_pdf(report, compress=True).startswith(b"%PDF-")


def test_pdf_survives_any_text(world: World, session: Session) -> None:
    visit(session, world, date(2026, 5, 5), "<b>tebal</b> & emoji 🥥 中文 (kurung) \\ garis\r\nbaris dua")
    session.commit()
    report = reports.kube_report(session, world.facilitator_a, world.kube_a.id, MAY)
    text = _pdf_text(reports.report_pdf(report))
    assert "tebal" in text and "emoji ?" in text


def test_facilitator_pdf_lists_each_kube(world: World, session: Session) -> None:
    _may(session, world)
    factories.make_kube(session, "KUBE Sabut C", facilitators=[world.facilitator_a])
    session.commit()
    text = _pdf_text(reports.report_pdf(reports.facilitator_report(session, world.facilitator_a, MAY)))
    assert "KUBE Kelapa A" in text and "KUBE Sabut C" in text and "Total" in text
    assert "KUBE Anyaman B" not in text


def test_report_permissions(world: World, session: Session) -> None:
    _may(session, world)
    for who in (world.ketua_a, world.anggota_a, world.operator, world.facilitator_a):
        assert reports.kube_report(session, who, world.kube_a.id, MAY).rows
    for who in (world.facilitator_b, world.ketua_b, world.buyer):
        with pytest.raises(PermissionDenied):
            reports.kube_report(session, who, world.kube_a.id, MAY)
    with pytest.raises(NotFoundError):
        reports.kube_report(session, world.facilitator_a, 999_999, MAY)
    with pytest.raises(PermissionDenied):
        reports.facilitator_report(session, world.ketua_a, MAY)


# --- Downloads --------------------------------------------------------------------------------------


def test_kube_downloads(world: World, session: Session, login_as: Login) -> None:
    _may(session, world)
    client = login_as("facilitator_a")
    response = client.get(f"/facilitator/kubes/{world.kube_a.slug}/report.csv?month=2026-05")
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    assert 'filename="report-kube-kelapa-a-2026-05.csv"' in response.headers["Content-Disposition"]
    rows = _parse(response.get_data(as_text=True))
    assert rows[1][0] == "KUBE Kelapa A" and rows[1][3] == "120000"
    response = client.get(f"/facilitator/kubes/{world.kube_a.slug}/report.pdf?month=2026-05")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.get_data())
    assert "Monthly report: KUBE Kelapa A" in text and "May 2026" in text and "Rp120.000" in text


def test_facilitator_downloads(world: World, session: Session, login_as: Login) -> None:
    _may(session, world)
    client = login_as("facilitator_a")
    rows = _parse(client.get("/facilitator/report.csv?month=2026-05").get_data(as_text=True))
    assert [r[0] for r in rows[1:]] == ["KUBE Kelapa A"]
    response = client.get("/facilitator/report.pdf?month=2026-05")
    assert response.status_code == 200
    assert "Facilitator A" in _pdf_text(response.get_data())


def test_default_month_is_last_month(world: World, session: Session, login_as: Login) -> None:
    client = login_as("facilitator_a")
    rows = _parse(client.get("/facilitator/report.csv").get_data(as_text=True))
    assert rows[1][2] == reports.last_month().strftime("%Y-%m")


@pytest.mark.parametrize("month", ["2026-13", "mei", "1999-01", "2026-05-01"])
def test_bad_month_is_a_400(world: World, login_as: Login, month: str) -> None:
    client = login_as("facilitator_a")
    for url in ("/facilitator/report.csv", f"/facilitator/kubes/{world.kube_a.slug}/report.pdf"):
        response = client.get(url, query_string={"month": month})
        assert response.status_code == 400 and "YYYY-MM" in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a", "operator"])
def test_kube_report_for_its_people(world: World, session: Session, login_as: Login, who: str) -> None:
    client = login_as(who)
    assert client.get(f"/facilitator/kubes/{world.kube_a.slug}/report.csv?month=2026-05").status_code == 200


@pytest.mark.parametrize(("who", "status"), [("facilitator_b", 403), ("ketua_b", 403), ("buyer", 403),
                                             ("order_taker", 403)])
def test_kube_report_forbidden(world: World, login_as: Login, who: str, status: int) -> None:
    client = login_as(who)
    for ext in ("csv", "pdf"):
        assert client.get(f"/facilitator/kubes/{world.kube_a.slug}/report.{ext}").status_code == status


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a", "buyer"])
def test_facilitator_report_forbidden(world: World, login_as: Login, who: str) -> None:
    client = login_as(who)
    assert client.get("/facilitator/report.csv").status_code == 403
    assert client.get("/facilitator/report.pdf").status_code == 403


def test_reports_need_sign_in(world: World, client: FlaskClient) -> None:
    for url in ("/facilitator/report.csv", f"/facilitator/kubes/{world.kube_a.slug}/report.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_hidden_kube_report_is_404_to_outsiders(world: World, session: Session, login_as: Login) -> None:
    kube = factories.make_kube(session, "KUBE Draf", status=KubeStatus.DRAFT,
                               members=[(factories.make_user(session, "ketua_d"), MemberRole.KETUA)],
                               facilitators=[world.facilitator_a])
    session.commit()
    client = login_as("facilitator_b")
    assert client.get(f"/facilitator/kubes/{kube.slug}/report.csv").status_code == 404
    assert login_as("facilitator_a").get(
        f"/facilitator/kubes/{kube.slug}/report.csv").status_code == 200


def test_pdf_with_long_reports_spans_pages(world: World, session: Session) -> None:
    """A visit's text longer than a page is split across pages (a table row never has to fit on one)."""
    for day in (5, 6, 7):
        visit(session, world, date(2026, 5, day), ("catatan panjang " * 400)[:5000], problems_found=True,
              problems="masalah " * 250, follow_up="lanjut " * 285)
    session.commit()
    report = reports.kube_report(session, world.facilitator_a, world.kube_a.id, MAY)
    data = reports.report_pdf(report)
    assert data.startswith(b"%PDF-") and data.count(b"/Type /Page\n") >= 3
