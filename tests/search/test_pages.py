"""/search and the search API as a buyer (or a client program) uses them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.search.models import SearchLog
from tests import factories

API = "/api/v1/search"


@pytest.fixture
def indexed(world: factories.World, session: Session, index_now: Callable[[], int]) -> factories.World:
    """The world plus a few coconut products, indexed."""
    snacks = factories.make_category(session, "snacks")
    factories.make_product(session, world.kube_a, world.category, "Sabun Kelapa Sereh", price=12_000)
    factories.make_product(session, world.kube_a, snacks, "Keripik Pisang Pedas", price=18_000, stock=0)
    factories.make_product(session, world.kube_b, world.category, "Kelapa Muda Hijau", price=8_000)
    session.commit()
    index_now()
    return world


def test_search_page_highlights_and_counts(client: FlaskClient, indexed: factories.World) -> None:
    html = client.get("/search?q=kelapa").get_data(as_text=True)
    assert "<mark>Kelapa</mark> Muda Hijau" in html
    assert "Minyak <mark>Kelapa</mark> A" in html
    assert "4 produk" in html
    assert "Tas Anyaman B" not in html
    assert 'href="/search?q=kelapa&amp;province=72"' in html  # province facet (KUBE A is in Banggai)
    assert "Sulawesi Tengah" in html


def test_every_page_has_the_search_box(client: FlaskClient, indexed: factories.World) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'action="/search"' in html and 'data-suggest-url="/api/v1/search/suggest"' in html


def test_stemming_through_the_page(client: FlaskClient, indexed: factories.World) -> None:
    html = client.get("/search?q=mengolah").get_data(as_text=True)
    # The factories' KUBEs' products say "... dari KUBE ..."; the KUBE story is not indexed, so nothing.
    assert "produk" in html
    html = client.get("/search?q=pedas").get_data(as_text=True)
    assert "<mark>Pedas</mark>" in html


def test_filters_and_sorting(client: FlaskClient, indexed: factories.World) -> None:
    data = client.get(f"{API}?q=kelapa&sort=price_asc").get_json()
    # "Keripik" is found too: its KUBE is called "KUBE Kelapa A".
    assert [i["price"] for i in data["items"]] == [8_000, 12_000, 15_000, 18_000]
    data = client.get(f"{API}?q=kelapa&province=32").get_json()
    assert [i["name"] for i in data["items"]] == ["Kelapa Muda Hijau"]
    assert data["facets"]["province"] == {"72": 3, "32": 1}
    data = client.get(f"{API}?category=snacks").get_json()
    assert [i["name"] for i in data["items"]] == ["Keripik Pisang Pedas"]
    data = client.get(f"{API}?q=keripik&in_stock=1").get_json()
    assert data["total"] == 0 and data["facets"]["in_stock"] == {"1": 0}
    data = client.get(f"{API}?min_price=10000&max_price=16000").get_json()
    assert sorted(i["price"] for i in data["items"]) == [12_000, 15_000, 15_000]


def test_api_shape(client: FlaskClient, indexed: factories.World) -> None:
    data = client.get(f"{API}?q=kelapa").get_json()
    assert set(data) >= {"items", "total", "page", "facets", "suggestion"}
    item = data["items"][0]
    assert set(item) >= {"id", "name", "kube", "price", "unit", "highlight"}
    assert set(data["facets"]) >= {"category", "province"}
    assert data["suggestion"] is None


def test_typo_gets_a_suggestion(client: FlaskClient, indexed: factories.World) -> None:
    data = client.get(f"{API}?q=kelpa").get_json()
    assert data["total"] == 0 and data["suggestion"] == "kelapa"
    html = client.get("/search?q=kelpa").get_data(as_text=True)
    assert "Mungkin maksud Anda:" in html and 'href="/search?q=kelapa"' in html


def test_completions(client: FlaskClient, indexed: factories.World) -> None:
    assert client.get(f"{API}/suggest?q=kel").get_json()["suggestions"][0] == "kelapa"
    assert client.get(f"{API}/suggest?q=sabun+ser").get_json()["suggestions"] == ["sabun sereh"]
    assert client.get(f"{API}/suggest?q=").get_json()["suggestions"] == []
    assert client.get(f"{API}/suggest?q=%2A%28").get_json()["suggestions"] == []


@pytest.mark.parametrize("q", ["", "a" * 2000, "!!!@@@###", "name:(", "*", "kelapa AND (", "\"", "yang",
                               "%", "_", "\\", "' OR 1=1 --", "<script>alert(1)</script>"])
def test_absurd_queries_give_a_normal_page(client: FlaskClient, indexed: factories.World, q: str) -> None:
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    api = client.get(API, query_string={"q": q})
    assert api.status_code == 200


@pytest.mark.parametrize("args, field", [
    ("sort=cheapest", "sort"),
    ("province=99", "province"),
    ("category=nothing", "category"),
    ("kube=nothing", "kube"),
    ("min_price=500&max_price=100", "min_price"),
    ("in_stock=yes", "in_stock"),
    ("page=0", "page"),
    ("per_page=500", "per_page"),
    ("min_price=-5", "min_price"),
    (f"q={'a' * 2001}", "q"),
])
def test_bad_api_arguments_are_400_naming_the_field(client: FlaskClient, indexed: factories.World, args: str,
                                                    field: str) -> None:
    response = client.get(f"{API}?{args}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"]


def test_bad_page_arguments_show_a_message(client: FlaskClient, indexed: factories.World) -> None:
    response = client.get("/search?q=kelapa&sort=cheapest")
    assert response.status_code == 400
    assert "Urutan tidak dikenal." in response.get_data(as_text=True)
    response = client.get("/search?q=kelapa&min_price=abc")  # junk numbers are ignored, like the catalogue
    assert response.status_code == 200


def test_a_page_past_the_end_goes_to_the_last_page(client: FlaskClient, indexed: factories.World) -> None:
    response = client.get("/search?q=kelapa&page=7")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/search?q=kelapa&page=1")
    data = client.get(f"{API}?q=kelapa&page=7").get_json()
    assert data["items"] == [] and data["total"] == 4 and data["page"] == 7


def test_searches_are_logged_without_personal_data(app: Flask, session: Session, indexed: factories.World,
                                                   login_as: Callable[[str], FlaskClient]) -> None:
    login_as("buyer").get("/search?q=Kelapa&province=72")
    app.test_client().get(f"{API}?q=durian")
    logs = session.scalars(select(SearchLog).order_by(SearchLog.id)).all()
    assert [(r.query, r.terms, r.result_count, r.source) for r in logs] == [
        ("Kelapa", "kelapa", 3, "web"), ("durian", "durian", 0, "api")]
    assert logs[0].filters == {"province": "72"}
    assert logs[0].took_ms >= 0 and logs[0].backend == "whoosh"
    columns = set(SearchLog.__table__.columns.keys())
    assert not columns & {"user_id", "ip", "ip_address", "session_id", "email", "user_agent"}


def test_result_pages_run_a_constant_number_of_queries(client: FlaskClient, session: Session,
                                                       indexed: factories.World, count_queries: Any,
                                                       index_now: Callable[[], int]) -> None:
    def queries() -> int:
        with count_queries() as counter:
            assert client.get("/search?q=produk").status_code == 200
        return int(counter.count)

    for _ in range(3):
        factories.make_product(session, indexed.kube_a, indexed.category)
    session.commit()
    index_now()
    few = queries()
    for _ in range(20):
        factories.make_product(session, indexed.kube_b, indexed.category)
    session.commit()
    index_now()
    assert queries() == few


def test_only_public_products_are_found(client: FlaskClient, indexed: factories.World) -> None:
    assert client.get(f"{API}?q=draft").get_json()["total"] == 0


def test_operators_see_what_buyers_search(session: Session, indexed: factories.World,
                                          login_as: Callable[[str], FlaskClient], client: FlaskClient) -> None:
    for q in ["kelapa", "Kelapa", "durian", "kelapa", "durian montong"]:
        client.get("/search", query_string={"q": q})
    from marketplace.search.services import search_demand

    demand = search_demand(session, indexed.operator, days=30)
    assert demand.searches == 5
    assert [(r.query, r.searches) for r in demand.top][:1] == [("Kelapa", 3)]
    assert {r.query for r in demand.unmet} == {"durian", "durian montong"}
    html = login_as("operator").get("/admin/").get_data(as_text=True)
    assert "durian montong" in html and html.count("Yang dicari pembeli") == 1
    from marketplace.common import PermissionDenied

    with pytest.raises(PermissionDenied):
        search_demand(session, indexed.buyer)


def test_the_log_masks_what_could_identify_someone(session: Session, indexed: factories.World,
                                                   client: FlaskClient) -> None:
    client.get("/search", query_string={"q": "kelapa hubungi 0812-3456-7890 budi@contoh.id"})
    log = session.scalars(select(SearchLog)).one()
    assert log.query == "kelapa hubungi [number] [email]"
    assert "0812" not in log.terms and "budi" not in log.terms


def test_old_log_rows_are_purged(app: Flask, session: Session, indexed: factories.World,
                                 client: FlaskClient) -> None:
    from datetime import timedelta

    from marketplace.common import utcnow

    client.get("/search?q=kelapa")
    client.get("/search?q=sabun")
    old = session.scalars(select(SearchLog).where(SearchLog.query == "kelapa")).one()
    old.created_at = utcnow() - timedelta(days=500)
    session.commit()
    result = app.test_cli_runner().invoke(args=["search", "purge-log"])
    assert "Deleted 1 search log rows" in result.output
    assert [r.query for r in session.scalars(select(SearchLog))] == ["sabun"]


def test_choosing_a_parent_category_does_not_mark_its_children(session: Session, client: FlaskClient,
                                                               indexed: factories.World,
                                                               index_now: Callable[[], int]) -> None:
    food = factories.make_category(session, "food")
    chips = factories.make_category(session, "chips", parent=food)
    factories.make_product(session, indexed.kube_a, chips, "Keripik Talas")
    session.commit()
    index_now()
    html = client.get("/search?category=food").get_data(as_text=True)
    assert "Keripik Talas" in html
    assert "✓ Food › Chips" not in html
    assert 'href="/search?category=chips"' in html  # narrowing to the child


def test_a_page_past_the_end_is_not_logged_twice(session: Session, client: FlaskClient,
                                                 indexed: factories.World) -> None:
    client.get("/search?q=kelapa&page=9", follow_redirects=True)
    assert [(r.query, r.page) for r in session.scalars(select(SearchLog))] == [("kelapa", 1)]
