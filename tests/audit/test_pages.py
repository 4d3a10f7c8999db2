"""The operators' audit log page and its CSV: who may read it, filters, pages, and the actions done through
the HTML and API routes landing in it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.audit import services as audit
from marketplace.audit.models import AuditEvent
from marketplace.catalog.models import KubeStatus, ProductStatus
from tests import factories
from tests.api.test_orders_api import API, token
from tests.factories import World

Login = Callable[[str], FlaskClient]
pytestmark = pytest.mark.usefixtures("english")
ROLES = ["buyer", "order_taker", "anggota_a", "ketua_a", "ketua_b", "facilitator_a", "facilitator_b"]


def _add(session: Session, world: World, count: int = 1, *, at: datetime | None = None,
         **fields: Any) -> list[AuditEvent]:
    made = []
    actor, action = fields.pop("actor", world.operator), fields.pop("action", "kube.suspended")
    target = fields.pop("target", world.kube_a)
    for _ in range(count):
        made.append(audit.record(session, actor, action, target, **fields))
        if at is not None:
            made[-1].occurred_at = at  # still pending: a new row is not an edited one
    session.commit()
    return made


def _html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    html: str = response.get_data(as_text=True)
    return html


def _events(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


# --- Who may read it -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/admin/audit/", "/admin/audit/audit.csv"])
@pytest.mark.parametrize("who", ROLES)
def test_only_operators_read_the_log(world: World, login_as: Login, url: str, who: str) -> None:
    assert login_as(who).get(url).status_code == 403


@pytest.mark.parametrize("url", ["/admin/audit/", "/admin/audit/audit.csv"])
def test_signed_out_visitors_are_sent_to_sign_in(world: World, client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_ministry_staff_cannot_read_it(session: Session, world: World, login_as: Login) -> None:
    factories.make_user(session, "ministry", is_ministry=True)
    session.commit()
    assert login_as("ministry").get("/admin/audit/").status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_there_is_no_route_that_changes_an_event(session: Session, world: World, login_as: Login,
                                                 method: str) -> None:
    event = _add(session, world)[0]
    client = login_as("operator")
    for url in ("/admin/audit/", f"/admin/audit/{event.id}", "/admin/audit/audit.csv"):
        assert getattr(client, method)(url).status_code in (404, 405)
    assert len(_events(session)) == 1


def test_the_admin_home_links_to_the_log(world: World, login_as: Login) -> None:
    assert 'href="/admin/audit/"' in _html(login_as("operator").get("/admin/"))


# --- The page ----------------------------------------------------------------------------------------------


def test_the_page_shows_events_newest_first_with_readable_details(session: Session, world: World,
                                                                    login_as: Login) -> None:
    _add(session, world, action="kube.suspended", status={"from": KubeStatus.ACTIVE, "to": KubeStatus.SUSPENDED})
    _add(session, world, action="bank_account.changed", actor=world.ketua_a,
         account_number={"from": "0123456789012", "to": "5555666677"}, bank_name={"from": "BRI", "to": "BNI"})
    _add(session, world, action="product.price_changed", actor=world.anggota_a, target=world.product_a,
         price={"from": 15000, "to": 17500})
    html = _html(login_as("operator").get("/admin/audit/"))
    assert "<script>" not in html and 'style="' not in html
    assert html.index("Product price changed</span>") < html.index("Bank account changed</span>") \
        < html.index("KUBE suspended</span>")
    assert "Price:</dt> <dd class=\"d-inline mb-0\">Rp15.000 → Rp17.500" in html
    assert "Account number:</dt> <dd class=\"d-inline mb-0\">****9012 → ****6677" in html
    assert "Status:</dt> <dd class=\"d-inline mb-0\">Active → Suspended" in html
    assert "0123456789012" not in html and "5555666677" not in html
    assert "Ketua · Ketua A" in html and "ketua_a@test.pasarkube" in html and "KUBE Kelapa A" in html


def test_a_deleted_actor_shows_by_role_and_id(session: Session, world: World, login_as: Login) -> None:
    gone = factories.make_user(session, "gone", is_operator=True)
    _add(session, world, actor=gone)
    session.execute(AuditEvent.__table__.update().values(actor_id=None))  # what ON DELETE SET NULL leaves
    session.commit()
    html = _html(login_as("operator").get("/admin/audit/"))
    assert f"operator #{gone.id}" in html and "gone@test.pasarkube" not in html


def test_pages_go_back_in_time_by_keyset(session: Session, world: World, login_as: Login) -> None:
    made = _add(session, world, audit.PER_PAGE + 5)
    client = login_as("operator")
    first = _html(client.get("/admin/audit/"))
    older = made[5].id  # the oldest on the first page
    assert first.count("KUBE suspended</span>") == audit.PER_PAGE
    assert f"/admin/audit/?before={older}" in first and "?after=" not in first
    second = _html(client.get(f"/admin/audit/?before={older}"))
    assert second.count("KUBE suspended</span>") == 5 and "?before=" not in second
    assert f"/admin/audit/?after={made[4].id}" in second
    back = _html(client.get(f"/admin/audit/?after={made[4].id}"))
    assert back.count("KUBE suspended</span>") == audit.PER_PAGE and "?after=" not in back


def test_the_service_pages_by_id(session: Session, world: World) -> None:
    made = _add(session, world, 7)
    ids = [e.id for e in made]
    page = audit.events(session, world.operator, audit.Filters(), per_page=3)
    assert [e.id for e in page.items] == ids[-1:-4:-1] and page.older == ids[-3] and page.newer is None
    page = audit.events(session, world.operator, audit.Filters(), before=page.older, per_page=3)
    assert [e.id for e in page.items] == ids[-4:-7:-1] and page.older == ids[-6] and page.newer == ids[-4]
    page = audit.events(session, world.operator, audit.Filters(), before=page.older, per_page=3)
    assert [e.id for e in page.items] == ids[:1] and page.older is None and page.newer == ids[0]
    page = audit.events(session, world.operator, audit.Filters(), after=ids[0], per_page=3)
    assert [e.id for e in page.items] == ids[3:0:-1] and page.newer == ids[3] and page.older == ids[1]


def test_the_page_runs_a_fixed_number_of_queries(session: Session, world: World, login_as: Login,
                                                 count_queries: Any) -> None:
    client = login_as("operator")
    actors = [world.ketua_a, world.anggota_a, world.facilitator_a, world.operator, world.ketua_b]

    def cost() -> int:
        with count_queries() as counter:
            _html(client.get("/admin/audit/"))
        return int(counter.count)

    _add(session, world, 2)
    small = cost()
    for i in range(30):
        kube = world.kube_a if i % 2 else world.kube_b
        _add(session, world, actor=actors[i % len(actors)], target=kube, action="kube.suspended")
    assert cost() == small


# --- Filters ---------------------------------------------------------------------------------------------


def _shown(client: FlaskClient, query: str) -> str:
    return _html(client.get(f"/admin/audit/?{query}"))


def test_filters(session: Session, world: World, login_as: Login) -> None:
    _add(session, world, action="kube.suspended", target=world.kube_b, actor=world.facilitator_b)
    _add(session, world, action="product.price_changed", actor=world.anggota_a, target=world.product_a,
         price={"from": 1, "to": 2})
    _add(session, world, action="user.roles_changed", target=world.buyer)
    _add(session, world, action="payout.recorded", target=("payout", 77), kube_id=world.kube_a.id,
         at=datetime(2026, 1, 15, 3, 0, tzinfo=UTC))
    client = login_as("operator")
    labels = ["KUBE suspended</span>", "Product price changed</span>", "User roles changed</span>",
              "Payout recorded</span>"]

    def only(query: str, *expected: int) -> None:
        html = _shown(client, query)
        assert [i for i, label in enumerate(labels) if label in html] == list(expected), query

    only("", 0, 1, 2, 3)
    only("action=product.price_changed", 1)
    only(f"actor={world.anggota_a.id}", 1)
    only(f"actor=%23{world.facilitator_b.id}", 0)
    only("actor=FACILITATOR_B@test", 0)
    only("actor=operator@", 2, 3)
    only(f"kube={world.kube_a.id}", 1, 3)
    only(f"kube={world.kube_b.id}", 0)
    only("target=user", 2)
    only(f"target=product&target_id={world.product_a.id}", 1)
    only("target=payout&target_id=77", 3)
    only("from=2026-01-15&to=2026-01-15", 3)
    only("to=2026-01-14")
    only("from=2026-01-16", 0, 1, 2)
    only(f"action=kube.suspended&kube={world.kube_a.id}")


def test_the_date_filter_reads_days_in_indonesian_time(session: Session, world: World) -> None:
    # 2026-01-15 18:30 UTC is already 16 January in Jakarta (UTC+7).
    _add(session, world, at=datetime(2026, 1, 15, 18, 30, tzinfo=UTC))

    def found(first: str, last: str) -> int:
        filters = audit.clean_filters(first=first, last=last)
        return len(audit.events(session, world.operator, filters).items)

    assert found("2026-01-16", "2026-01-16") == 1 and found("2026-01-15", "2026-01-15") == 0


@pytest.mark.parametrize("query, field, message", [
    ("action=kube.deleted", "action", "Not a valid choice."),
    ("target=invoice", "target", "Not a valid choice."),
    ("target_id=12", "target", "Choose what the id is of."),
    ("target=order&target_id=abc", "target_id", "Enter a whole number."),
    ("target=order&target_id=99999999999", "target_id", "Must be at most"),
    ("kube=x", "kube", "Enter a whole number."),
    ("actor=0", "actor", "Must be at least 1."),
    ("from=2026-13-01", "from", "Give a date as YYYY-MM-DD."),
    ("to=yesterday", "to", "Give a date as YYYY-MM-DD."),
    ("from=2026-02-01&to=2026-01-01", "from", "The start of the period comes after its end."),
    ("from=1900-01-01", "from", "Give a date as YYYY-MM-DD."),
])
def test_bad_filters_are_form_errors(session: Session, world: World, login_as: Login, query: str, field: str,
                                     message: str) -> None:
    _add(session, world)
    html = _shown(login_as("operator"), query)
    assert f'id="f-{field}-error">{message}' in html
    assert "KUBE suspended</span>" not in html  # no list under a bad filter
    assert login_as("operator").get(f"/admin/audit/audit.csv?{query}").status_code == 400


def test_odd_paging_values_are_ignored(session: Session, world: World, login_as: Login) -> None:
    _add(session, world)
    client = login_as("operator")
    for query in ("before=abc", "after=-1", "before=99999999999999", "page=%00", "actor=" + "9" * 5000,
                  "actor=%C2%B2", "actor=" + "a" * 300, "kube=%C2%B2", "target_id=-0", "action=" + "x" * 5000,
                  "from=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-01-01"):
        for url in ("/admin/audit/", "/admin/audit/audit.csv"):
            with client.get(f"{url}?{query}") as response:
                assert response.status_code in (200, 400), (url, query)


# --- CSV -------------------------------------------------------------------------------------------------


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_csv_holds_the_filtered_log_with_formulas_escaped(session: Session, world: World,
                                                              login_as: Login) -> None:
    world.kube_a.name = "=HYPERLINK(\"http://evil\")"
    session.commit()
    _add(session, world, action="product.rejected", target=world.product_a, note="=1+1",
         status={"from": ProductStatus.PENDING_REVIEW, "to": ProductStatus.DRAFT})
    _add(session, world, action="bank_account.changed", actor=world.ketua_a,
         account_number={"from": "0123456789012", "to": "5555666677"})
    _add(session, world, action="user.roles_changed", target=world.buyer)
    rows = _csv(login_as("operator").get(f"/admin/audit/audit.csv?kube={world.kube_a.id}"))
    assert tuple(rows[0]) == audit.CSV_COLUMNS
    body = rows[1:]
    assert [r[2] for r in body] == ["Bank account changed", "Product sent back"]
    assert all(r[9] == "'=HYPERLINK(\"http://evil\")" for r in body)
    assert json.loads(body[0][11]) == {"account_number": {"from": "****9012", "to": "****6677"}}
    assert body[0][3:6] == ["ketua", f"ketua #{world.ketua_a.id}", str(world.ketua_a.id)]
    assert "0123456789012" not in "".join(map(str, rows))
    everything = _csv(login_as("operator").get("/admin/audit/audit.csv"))
    assert len(everything) == 4


def test_the_page_links_to_the_csv_with_its_filters(session: Session, world: World, login_as: Login) -> None:
    _add(session, world)
    html = _shown(login_as("operator"), f"action=kube.suspended&kube={world.kube_a.id}&from=2026-01-01")
    assert (f'href="/admin/audit/audit.csv?action=kube.suspended&amp;kube={world.kube_a.id}&amp;from=2026-01-01"'
            in html)


# --- Through the real routes -------------------------------------------------------------------------------


def test_a_role_change_through_the_admin_page(session: Session, world: World, login_as: Login) -> None:
    response = login_as("operator").post("/admin/users", data={"action": "roles", "user_id": str(world.buyer.id),
                                                                 "is_facilitator": "y"})
    assert response.status_code == 302
    rows = _events(session)
    assert [r.action for r in rows] == ["user.roles_changed"] and rows[0].ip_address == "127.0.0.1"
    assert rows[0].actor_id == world.operator.id and rows[0].target_id == world.buyer.id


def test_a_refused_role_change_through_the_page_leaves_no_row(world: World, session: Session,
                                                              login_as: Login) -> None:
    response = login_as("operator").post("/admin/users", data={"action": "roles",
                                                                 "user_id": str(world.operator.id)})
    assert response.status_code == 200  # "You cannot remove your own operator role"
    assert _events(session) == []
    assert login_as("ketua_a").post("/admin/users", data={"action": "roles", "user_id": str(world.buyer.id),
                                                            "is_operator": "y"}).status_code == 403
    assert _events(session) == []


def test_approval_through_the_facilitator_page(session: Session, world: World, login_as: Login) -> None:
    product = factories.make_product(session, world.kube_a, world.category, status=ProductStatus.PENDING_REVIEW)
    session.commit()
    assert login_as("facilitator_b").post(f"/facilitator/products/{product.id}/approve").status_code in (403, 404)
    assert _events(session) == []
    assert login_as("facilitator_a").post(f"/facilitator/products/{product.id}/approve").status_code == 302
    rows = _events(session)
    assert [(r.action, r.actor_role, r.target_id) for r in rows] == [("product.approved", "facilitator", product.id)]


def test_bank_account_through_the_kube_profile(session: Session, world: World, login_as: Login) -> None:
    response = login_as("ketua_a").post(f"/my-kube/{world.kube_a.slug}/profile", data={
        "action": "bank", "bank-bank_name": "BNI", "bank-account_number": "5555666677",
        "bank-account_holder": "KUBE Kelapa A group"})
    assert response.status_code == 302
    rows = _events(session)
    assert [r.action for r in rows] == ["bank_account.changed"]
    assert "5555666677" not in rows[0].details and "****6677" in rows[0].details


def test_a_price_change_through_the_api(client: FlaskClient, session: Session, world: World) -> None:
    headers = token(client, "ketua_a")
    url = f"{API}/products/{world.product_a.id}"
    response = client.patch(url, headers=headers, json={"stock": 3})
    assert response.status_code == 200 and _events(session) == []
    response = client.patch(url, headers=headers, json={"price": 18000})
    assert response.status_code == 200
    rows = _events(session)
    assert [(r.action, r.actor_role, json.loads(r.details)) for r in rows] == [
        ("product.price_changed", "ketua", {"price": {"from": 15000, "to": 18000}})]
    response = client.patch(url, headers=headers, json={"price": -5})
    assert response.status_code == 400
    response = client.patch(f"{API}/products/{world.product_b.id}", headers=headers, json={"price": 1})
    assert response.status_code in (403, 404)
    assert len(_events(session)) == 1
    assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.target_id == world.product_b.id)) == 0


def test_occurred_at_is_now(session: Session, world: World) -> None:
    event = _add(session, world)[0]
    session.expire_all()
    assert abs(datetime.now(UTC) - event.occurred_at) < timedelta(minutes=1)
