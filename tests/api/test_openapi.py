"""The OpenAPI document is valid, complete and matches what the endpoints answer."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from tests import factories

PREFIX = "/api/v1"


def _spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    return dict(response.get_json())


def test_openapi_document_is_valid(client: FlaskClient) -> None:
    spec = _spec(client)
    validate(spec)
    assert spec["openapi"].startswith("3.")
    bearer = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert {"Product", "Kube", "Error", "ProductList", "KubeList"} <= set(spec["components"]["schemas"])


def test_endpoint_name_used_by_the_layout(app: Flask) -> None:
    with app.test_request_context():
        assert url_for("api.openapi") == f"{PREFIX}/openapi.json"


def test_every_api_route_is_documented(app: Flask, client: FlaskClient) -> None:
    paths = _spec(client)["paths"]
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIX + "/")]
    assert rules
    for rule in rules:
        # /api/v1/products/<int:product_id> -> /products/{product_id}
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX):])
        assert path in paths, f"{rule.rule} is not in the OpenAPI document"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], f"{method} {rule.rule} is not in the OpenAPI document"


def _properties(spec: dict[str, Any], name: str) -> set[str]:
    """All property names of a component schema, following allOf and $ref."""
    schema = spec["components"]["schemas"][name]
    names: set[str] = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            names |= _properties(spec, part["$ref"].rsplit("/", 1)[1])
        names |= set(part.get("properties", {}))
    return names


def test_schemas_match_the_answers(client: FlaskClient, world: factories.World) -> None:
    spec = _spec(client)
    product = client.get(f"{PREFIX}/products/{world.product_a.id}").get_json()
    assert set(product) == _properties(spec, "Product")
    kube_item = client.get(f"{PREFIX}/kubes").get_json()["items"][0]
    assert set(kube_item) == _properties(spec, "KubeListItem")
    kube = client.get(f"{PREFIX}/kubes/{world.kube_a.slug}").get_json()
    assert set(kube) | {"bank_account", "members"} == _properties(spec, "Kube")  # both need permission
    credentials = {"email": factories.email_of("buyer"), "password": factories.PASSWORD}
    token = client.post(f"{PREFIX}/auth/token", json=credentials).get_json()
    assert set(token) == _properties(spec, "Token")
    error = client.get(f"{PREFIX}/products?per_page=0").get_json()["error"]
    assert set(error) == set(spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"])
