"""GET /insights and /insights.csv: who may see them, filters and their errors, the CSV, no personal data."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import World
from tests.insights.support import BUYER_NAME, MEMBER_NAME, MEMBER_PHONE, NIK, Dataset, grow

pytestmark = pytest.mark.usefixtures("english")

PERIOD = "from=2025-01&to=2025-06"
PERSONAL = [MEMBER_NAME, MEMBER_PHONE, BUYER_NAME, NIK, "ketua_a@test.pasarkube", "buyer@test.pasarkube",
            "Jl. Mawar"]


def _csv(response: Any) -> list[dict[str, str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # a BOM: Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_operator_sees_provinces(data: Dataset, login_as: Callable[[str], FlaskClient]) -> None:
    response = login_as("operator").get(f"/insights?{PERIOD}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sulawesi Tengah" in html and "Jawa Barat" in html
    assert "/insights?province=72" in html.replace("&amp;", "&")  # drill-down link
    assert "Rp805.000" in html  # orders and contracts
    assert "Tas Anyaman B" in html and "Sabun Sereh" in html and "Arang Tempurung" in html
    assert "<svg" in html


def test_ministry_user_drills_down(data: Dataset, ministry: str, login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as(ministry)
    html = client.get(f"/insights?{PERIOD}&province=72").get_data(as_text=True)
    assert "Kabupaten Banggai" in html and "Kabupaten Donggala" in html
    assert "Jawa Barat" not in html.split("By kabupaten/kota")[1]
    assert "kabupaten=72.01" in html
    response = client.get(f"/insights?{PERIOD}&kabupaten=72.01")
    assert response.status_code == 200
    assert "Rp545.000" in response.get_data(as_text=True)  # 45.000 in orders, 500.000 in contracts


@pytest.mark.parametrize("who", ["buyer", "facilitator_a", "ketua_a", "order_taker"])
def test_others_are_refused(world: World, login_as: Callable[[str], FlaskClient], who: str) -> None:
    client = login_as(who)
    assert client.get("/insights").status_code == 403
    assert client.get("/insights.csv").status_code == 403


def test_anonymous_is_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    for path in ("/insights", "/insights.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(("query", "message"), [
    ("from=2025-13-01", "Give a date as YYYY-MM-DD"),
    ("to=tomorrow", "Give a date as YYYY-MM-DD"),
    ("from=2025-06-01&to=2025-05-01", "comes after its end"),
    ("province=99", "Unknown province code"),
    ("province=32&kabupaten=72.01", "not in the chosen province"),
    ("kabupaten=%00", None),
])
def test_bad_filters_give_a_form_error(world: World, login_as: Callable[[str], FlaskClient], query: str,
                                       message: str | None) -> None:
    response = login_as("operator").get(f"/insights?{query}")
    if message is None:  # NUL bytes are refused before any view
        assert response.status_code == 400
        return
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "invalid-feedback" in html
    assert "By province" not in html


def test_csv_export(data: Dataset, login_as: Callable[[str], FlaskClient]) -> None:
    response = login_as("operator").get(f"/insights.csv?{PERIOD}&province=72")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "insights-72-2025-01-01-2025-06-30.csv" in response.headers["Content-Disposition"]
    rows = _csv(response)
    regions = {r["region_code"]: r for r in rows if r["section"] == "region"}
    assert set(regions) == {"72.01", "72.03"}
    assert (regions["72.01"]["orders"], regions["72.01"]["sales"], regions["72.01"]["contract_sales"]) == (
        "2", "45000", "500000")
    total = next(r for r in rows if r["section"] == "total")
    assert (total["region_name"], total["sales"], total["open_requests"]) == ("Sulawesi Tengah", "105000", "2")
    products = [(r["item"], r["quantity"], r["sales"]) for r in rows if r["section"] == "product"]
    assert products == [("Minyak Kelapa A", "6", "105000")]
    assert [r["item"] for r in rows if r["section"] == "search_no_results"] == ["Sabun Sereh"]
    assert [(r["item"], r["quantity"]) for r in rows if r["section"] == "open_request"] == [
        ("Arang Tempurung", "150.5")]
    assert len([r for r in rows if r["section"] == "month"]) == 6


def test_csv_bad_filter_is_a_400(world: World, login_as: Callable[[str], FlaskClient]) -> None:
    assert login_as("operator").get("/insights.csv?from=nope").status_code == 400


def test_no_personal_data_anywhere(data: Dataset, ministry: str, login_as: Callable[[str], FlaskClient],
                                   bearer: Callable[[str], dict[str, str]], client: FlaskClient) -> None:
    web = login_as(ministry)
    outputs = [
        web.get(f"/insights?{PERIOD}").get_data(as_text=True),
        web.get(f"/insights?{PERIOD}&province=72").get_data(as_text=True),
        web.get(f"/insights?{PERIOD}&kabupaten=72.01").get_data(as_text=True),
        web.get(f"/insights.csv?{PERIOD}").get_data(as_text=True),
        web.get(f"/insights.csv?{PERIOD}&kabupaten=72.01").get_data(as_text=True),
        client.get(f"/api/v1/insights/regions?{PERIOD}", headers=bearer(ministry)).get_data(as_text=True),
        client.get(f"/api/v1/insights/regions?{PERIOD}&province=72",
                   headers=bearer(ministry)).get_data(as_text=True),
    ]
    assert all("Minyak Kelapa A" in text for text in outputs)  # the figures are there...
    for text in outputs:
        for secret in PERSONAL:
            assert secret not in text  # ...but no member, buyer or order taker


def test_page_queries_do_not_grow_with_rows(session: Session, world: World, data: Dataset,
                                            login_as: Callable[[str], FlaskClient],
                                            count_queries: Callable[[], Any]) -> None:
    client = login_as("operator")
    with count_queries() as few:
        assert client.get(f"/insights?{PERIOD}").status_code == 200
    grow(session, world, data, 8)
    session.commit()
    with count_queries() as many:
        html = client.get(f"/insights?{PERIOD}").get_data(as_text=True)
    assert "Produk" in html
    assert many.count == few.count
    with count_queries() as exported:
        assert client.get(f"/insights.csv?{PERIOD}").status_code == 200
    assert exported.count <= many.count
