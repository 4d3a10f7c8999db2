"""GET /api/v1/insights/regions: bearer tokens of operators and ministry staff; JSON errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.factories import World
from tests.insights.support import Dataset

URL = "/api/v1/insights/regions"
PERIOD = "from=2025-01-01&to=2025-06-30"


def _error(response: object, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)  # type: ignore[attr-defined]
    error = response.get_json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == code and error["message"]
    if field is not None:
        assert error["field"] == field


def test_operator_reads_provinces(client: FlaskClient, data: Dataset,
                                  bearer: Callable[[str], dict[str, str]]) -> None:
    response = client.get(f"{URL}?{PERIOD}", headers=bearer("operator"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["period"] == {"from": "2025-01-01", "to": "2025-06-30"}
    assert body["region"] == {"province": None, "kabupaten": None, "rows_level": "province"}
    assert [(r["region"]["code"], r["orders"], r["sales"], r["contract_sales"], r["active_kubes"],
             r["open_requests"]) for r in body["rows"]] == [("72", 3, 105_000, 500_000, 2, 2),
                                                            ("32", 1, 200_000, 0, 1, 1)]
    assert body["total"]["total_sales"] == 805_000
    assert body["top_products"][0] == {"name": "Tas Anyaman B", "unit": "botol", "quantity": 4, "orders": 1,
                                       "kubes": 1, "sales": 200_000}
    assert [c["slug"] for c in body["top_categories"]] == ["crafts", "coconut"]
    assert body["searches"]["scope"] == "national" and body["searches"]["total"] == 5
    assert body["searches"]["no_results"] == [{"query": "Sabun Sereh", "searches": 2}]
    assert body["open_requests"][0]["item"] == "arang-tempurung" and body["open_requests"][0]["quantity"] == "150.5"
    assert len(body["months"]) == 6


def test_ministry_reads_a_province(client: FlaskClient, data: Dataset, ministry: str,
                                   bearer: Callable[[str], dict[str, str]]) -> None:
    response = client.get(f"{URL}?{PERIOD}&province=72", headers=bearer(ministry))
    assert response.status_code == 200
    body = response.get_json()
    assert body["region"]["province"] == {"code": "72", "name": "Sulawesi Tengah"}
    assert body["region"]["rows_level"] == "kabupaten"
    assert {r["region"]["code"] for r in body["rows"]} == {"72.01", "72.03"}
    kabupaten = client.get(f"{URL}?{PERIOD}&kabupaten=72.01", headers=bearer(ministry)).get_json()
    assert [r["sales"] for r in kabupaten["rows"]] == [45_000]


def test_without_a_token_401(client: FlaskClient, world: World) -> None:
    response = client.get(URL)
    _error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    _error(client.get(URL, headers={"Authorization": "Bearer nonsense"}), 401, "unauthorized")


@pytest.mark.parametrize("who", ["buyer", "facilitator_a", "ketua_a", "order_taker"])
def test_others_403(client: FlaskClient, world: World, bearer: Callable[[str], dict[str, str]], who: str) -> None:
    _error(client.get(URL, headers=bearer(who)), 403, "forbidden")


@pytest.mark.parametrize(("query", "field"), [
    ("province=99", "province"),
    ("province=abc", "province"),
    ("kabupaten=72.99", "kabupaten"),
    ("province=32&kabupaten=72.01", "kabupaten"),
    ("from=2025-02-30", "from"),
    ("to=06/2025", "to"),
    ("from=2025-06-01&to=2025-01-01", "from"),
])
def test_bad_parameters_400(client: FlaskClient, world: World, bearer: Callable[[str], dict[str, str]],
                            query: str, field: str) -> None:
    _error(client.get(f"{URL}?{query}", headers=bearer("operator")), 400, "invalid", field)
