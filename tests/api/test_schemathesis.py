"""Property-based checks of the JSON API against its own OpenAPI document (schemathesis).

Every operation of /api/v1/openapi.json gets generated requests, valid ones and invalid ones. Each answer must
be no 5xx, and have a documented status, content type and headers and a body that matches the documented
schema. Each operation is its own test with a fresh database holding a small world (two KUBEs, products, a
supply chain, an order) and bearer tokens; generated slugs, ids and credentials are mixed with ones that exist,
so that the success answers are checked as well as the refusals. The run is derandomized: the same requests
every time, a bounded number per operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from sqlalchemy.orm import Session

from marketplace import create_app
from tests import factories

OPENAPI = "/api/v1/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    # A secured operation refuses a request without a token or with a wrong one (401).
    ignored_auth,
    # Methods the document does not list get 405 with an Allow header (RFC 9110).
    unsupported_method,
]
# Not run: negative_data_rejection, because the API reads an empty query argument as absent and ignores unknown
# ones on purpose (and the body hooks below turn some invalid bodies into valid ones), and
# positive_data_acceptance, because a well-formed request may still name a province, category or KUBE that does
# not exist: those 400/404 answers are documented.
# Generated requests per operation (the document's examples and schemathesis' coverage requests come on top):
# enough to reach every documented answer, and the whole module stays within a few minutes on a small machine.
MAX_EXAMPLES = 40


def _schema_app() -> Flask:
    """An app only to read the document from (it serves it without touching a database)."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SEARCH_INDEXER": "off",
                       "RATELIMIT_ENABLED": False})


schema = schemathesis.openapi.from_wsgi(OPENAPI, _schema_app())

# What exists in the current test's database: filled by the `known` fixture before any case is generated.
KNOWN: dict[str, Any] = {}


def _who(method: str, path: str) -> str:
    """Whose token a secured operation is called with: the user who may do the most with it."""
    if path.startswith("/insights"):
        return "operator"  # ministry and operator figures
    if path.startswith("/orders"):
        return "buyer"
    return "ketua_a"  # KUBE A's officer: its products, orders, finance; refused for KUBE B


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> SearchStrategy:
    """Half the time, a slug or id that exists instead of a generated one."""
    if not KNOWN or not path_parameters:  # the document's own examples are built at collection time
        return st.just(path_parameters)
    path = context.operation.path if context.operation else ""
    known = dict(path_parameters)
    if "slug" in known:
        choices = [KNOWN["chain"]] if path.startswith("/supply-chains") else KNOWN["kubes"]
        return st.sampled_from([path_parameters] + [{**known, "slug": slug} for slug in choices])
    if "product_id" in known:
        return st.sampled_from([path_parameters] + [{**known, "product_id": pid} for pid in KNOWN["products"]])
    if "order_id" in known:
        return st.sampled_from([path_parameters, {**known, "order_id": KNOWN["order"]}])
    return st.just(path_parameters)


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> SearchStrategy:
    """Half the time, a body that names what exists (a KUBE, products, real credentials)."""
    operation_id = context.operation.definition.raw.get("operationId") if context.operation else None
    if not KNOWN or not isinstance(body, dict):
        return st.just(body)
    if operation_id == "createProduct":
        return st.sampled_from([body] + [{**body, "kube": slug, "category": KNOWN["category"]}
                                         for slug in KNOWN["kubes"]])
    if operation_id == "updateProduct" and "category" in body:
        return st.sampled_from([body, {**body, "category": KNOWN["category"]}])
    if operation_id == "createToken":
        return st.sampled_from([body, KNOWN["credentials"]])
    if operation_id == "placeOrder" and isinstance(body.get("items"), list):
        items = [{**item, "product_id": KNOWN["products"][i % len(KNOWN["products"])]} if isinstance(item, dict)
                 else item for i, item in enumerate(body["items"])]
        return st.sampled_from([body, {**body, "items": items}])
    if operation_id == "planSupplyChain" and isinstance(body.get("demand"), list):
        demand = [{**line, "product": "sabut"} if isinstance(line, dict) else line for line in body["demand"]]
        return st.sampled_from([body, {**body, "demand": demand}])
    return st.just(body)


@pytest.fixture
def known(app: Flask, session: Session, client: FlaskClient, world: factories.World,
          token_for: Callable[[str], str]) -> dict[str, Any]:
    """The world, a supply chain and one order, committed; tokens of the users the operations run as."""
    factories.make_chain(session, world)
    session.commit()
    tokens = {who: token_for(who) for who in ("ketua_a", "buyer", "operator")}
    placed = client.post("/api/v1/orders", headers={"Authorization": f"Bearer {tokens['buyer']}"},
                         json={"items": [{"product_id": world.product_a.id, "quantity": 1}],
                               "payment_method": "manual"})
    assert placed.status_code == 201, placed.get_json()
    KNOWN.clear()
    KNOWN.update(
        kubes=[world.kube_a.slug, world.kube_b.slug],
        chain=factories.CHAIN_SLUG,
        products=[world.product_a.id, world.product_b.id, world.draft_b.id],
        order=placed.get_json()["orders"][0]["id"],
        category=world.category.slug,
        credentials={"email": factories.email_of("ketua_a"), "password": factories.PASSWORD},
        tokens=tokens,
    )
    return KNOWN


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          # One database per operation on purpose: the requests of an operation share its world. A shared
          # CI machine can be slow; timing must not decide whether the test passes.
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api_matches_its_openapi_document(case: schemathesis.Case, app: Flask, known: dict[str, Any]) -> None:
    headers = {}
    if case.operation.definition.raw.get("security"):
        token = known["tokens"][_who(case.method, case.path)]
        headers["Authorization"] = f"Bearer {token}"
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)


# What the run above found, pinned as plain tests.


@pytest.mark.parametrize("path", ["/api/v1/products/0", "/api/v1/products/2147483648", "/api/v1/products/01",
                                  "/api/v1/orders/99999999999"])
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_an_id_out_of_range_is_not_found_whatever_the_method(client: FlaskClient, method: str, path: str) -> None:
    """Not 405 "GET allowed" for PATCH /products/0: the router compared methods before it checked the id."""
    response = client.open(path, method=method, json={})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_largest_id_still_reaches_its_route(client: FlaskClient, world: factories.World) -> None:
    assert client.get("/api/v1/products/2147483647").status_code == 404  # looked up, not found
    assert client.get(f"/api/v1/products/{world.product_a.id}").status_code == 200


def test_a_method_not_allowed_names_the_allowed_ones(client: FlaskClient) -> None:
    response = client.delete("/api/v1/kubes")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    page = client.delete("/healthz")  # the HTML error page too
    assert page.status_code == 405
    assert "GET" in page.headers["Allow"]


def test_every_operation_documents_the_rate_limit(client: FlaskClient) -> None:
    spec = client.get(OPENAPI).get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert operation["responses"]["429"] == {"$ref": "#/components/responses/TooManyRequests"}, (
                    method, path)
    assert "Retry-After" in spec["components"]["responses"]["TooManyRequests"]["headers"]
