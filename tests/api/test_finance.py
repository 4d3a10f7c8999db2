"""GET /api/v1/kubes/<slug>/finance: a KUBE's monthly figures for its officers, facilitators and operators."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.books import services as books
from marketplace.books.models import CashEntry, Category, Direction
from marketplace.ledger.models import EntryKind, LedgerEntry
from tests.factories import World


def test_the_finance_api(session: Session, world: World, client: FlaskClient,
                         bearer: Callable[[str], dict[str, str]]) -> None:
    this = books.this_month()
    session.add(CashEntry(kube_id=world.kube_a.id, direction=Direction.INCOME, category=Category.SERVICES,
                          amount=120_000, occurred_on=this))
    session.add(LedgerEntry(kube_id=world.kube_a.id, kind=EntryKind.SALE, amount=30_000))
    session.commit()
    url = "/api/v1/kubes/kube-kelapa-a/finance"
    body = client.get(url, headers=bearer("facilitator_a")).get_json()
    assert len(body["months"]) == 12 and body["to"] == this.strftime("%Y-%m")
    assert body["months"][-1] == {"month": this.strftime("%Y-%m"), "income": 150_000, "expenses": 0,
                                  "profit": 150_000, "platform_sales": 30_000, "book_entries": 1}
    assert body["totals"]["profit"] == 150_000 and body["currency"] == "IDR"
    first = books.add_months(this, -2).strftime("%Y-%m")
    ranged = client.get(f"{url}?from={first}", headers=bearer("ketua_a")).get_json()
    assert ranged["from"] == ranged["months"][0]["month"] == first and len(ranged["months"]) == 3
    for who in ("anggota_a", "facilitator_b", "ketua_b", "buyer"):
        refused = client.get(url, headers=bearer(who))
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert client.get(url).status_code == 401
    for query in ("from=2026-13", "to=abc", "from=2026-10&to=2026-01", "from=2015-01&to=2026-01"):
        bad = client.get(f"{url}?{query}", headers=bearer("operator"))
        assert bad.status_code == 400 and bad.get_json()["error"]["message"]
    assert client.get("/api/v1/kubes/no-such-kube/finance", headers=bearer("operator")).status_code == 404
