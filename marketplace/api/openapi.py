"""The API's OpenAPI 3.0.3 description, written by hand as a dict and served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from marketplace.api import bp
from marketplace.api.helpers import MAX_PAGE, MAX_PER_PAGE
from marketplace.catalog.models import BusinessKind, KubeStatus, MemberRole, ProductStatus, Unit
from marketplace.catalog.services import MAX_PRICE, MAX_STOCK, SORTS
from marketplace.search.backend import SORTS as SEARCH_SORTS
from marketplace.search.services import MAX_PAGE as SEARCH_MAX_PAGE
from marketplace.search.services import MAX_PER_PAGE as SEARCH_MAX_PER_PAGE

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _text(max_length: int, description: str = "", **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, **extra}
    if description:
        schema["description"] = description
    return schema


def _integer(minimum: int, maximum: int, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum, "maximum": maximum}
    if description:
        schema["description"] = description
    return schema


_REGION = {
    "type": "object",
    "required": ["code", "name"],
    "properties": {
        "code": {"type": "string", "example": "72.01"},
        "name": {"type": "string", "example": "Kabupaten Banggai"},
    },
}

_PRODUCT_FIELDS: dict[str, Any] = {
    "name": _text(120, example="Minyak Kelapa Murni (VCO)"),
    "description": _text(5000),
    "category": _text(80, "Category slug, as in a product's category.slug.", example="olahan-kelapa"),
    "unit": {"type": "string", "enum": [u.value for u in Unit]},
    "price": _integer(0, MAX_PRICE, "Whole Rupiah per unit."),
    "stock": _integer(0, MAX_STOCK),
    "min_order_qty": _integer(1, MAX_STOCK),
    "weight_grams": _integer(0, 1_000_000, "Weight of one unit in grams."),
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "description": "Stable machine-readable code.",
                        "example": "invalid",
                        "enum": ["invalid", "bad_request", "unauthorized", "forbidden", "not_found",
                                 "method_not_allowed", "conflict", "too_large", "rate_limited",
                                 "server_error", "account_locked", "out_of_stock", "prices_changed",
                                 "payment_unavailable"],
                    },
                    "message": {"type": "string", "description": "Readable text in the request's language."},
                    "field": {"type": "string", "description": "The parameter or body field at fault."},
                },
            }
        },
    },
    "RegionRef": _REGION,
    "Region": {
        "type": "object",
        "description": "Kemendagri administrative codes, province to desa/kelurahan.",
        "required": ["province", "regency", "district", "village"],
        "properties": {
            "province": _ref("RegionRef"),
            "regency": _ref("RegionRef"),
            "district": _ref("RegionRef"),
            "village": _ref("RegionRef"),
        },
    },
    "KubeSummary": {
        "type": "object",
        "required": ["slug", "name", "region", "business_kind", "founded_on", "story", "photo_url",
                     "photo_thumb_url", "status", "url"],
        "properties": {
            "slug": {"type": "string", "example": "kube-kelapa-sejahtera"},
            "name": {"type": "string"},
            "region": _ref("Region"),
            "business_kind": {"type": "string", "enum": [k.value for k in BusinessKind]},
            "founded_on": {"type": "string", "format": "date", "nullable": True},
            "story": {"type": "string"},
            "photo_url": {"type": "string", "format": "uri", "nullable": True},
            "photo_thumb_url": {"type": "string", "format": "uri", "nullable": True},
            "status": {"type": "string", "enum": [s.value for s in KubeStatus]},
            "url": {"type": "string", "format": "uri", "description": "The KUBE's page on the site."},
        },
    },
    "KubeListItem": {
        "allOf": [
            _ref("KubeSummary"),
            {
                "type": "object",
                "required": ["product_count"],
                "properties": {"product_count": {"type": "integer", "description": "Published products."}},
            },
        ]
    },
    "FinanceMonth": {
        "type": "object",
        "required": ["month", "income", "expenses", "profit", "platform_sales", "book_entries"],
        "properties": {
            "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "income": {"type": "integer", "description": "Whole Rupiah: platform sales net of refunds, "
                       "contract and chain sales, and income written in the cash book."},
            "expenses": {"type": "integer", "description": "Whole Rupiah: platform fees, chain inputs and "
                         "expenses written in the cash book."},
            "profit": {"type": "integer"},
            "platform_sales": {"type": "integer", "description": "The part of income that came through the "
                               "platform."},
            "book_entries": {"type": "integer", "description": "Entries written by hand in the month."},
        },
    },
    "KubeFinance": {
        "type": "object",
        "required": ["kube", "currency", "from", "to", "months", "totals"],
        "properties": {
            "kube": {"type": "object", "properties": {"slug": {"type": "string"}, "name": {"type": "string"}}},
            "currency": {"type": "string", "enum": ["IDR"]},
            "from": {"type": "string"},
            "to": {"type": "string"},
            "months": {"type": "array", "items": {"$ref": "#/components/schemas/FinanceMonth"}},
            "totals": {"type": "object", "properties": {"income": {"type": "integer"},
                                                       "expenses": {"type": "integer"},
                                                       "profit": {"type": "integer"}}},
        },
    },
    "Kube": {
        "allOf": [
            _ref("KubeSummary"),
            {
                "type": "object",
                "required": ["member_count"],
                "properties": {
                    "member_count": {"type": "integer", "description": "Member households."},
                    "members": {
                        "type": "array",
                        "description": "Names and roles: only for the KUBE's members, its facilitator and operators "
                        "(members come from the poverty register).",
                        "items": {
                            "type": "object",
                            "required": ["name", "role"],
                            "properties": {
                                "name": {"type": "string"},
                                "role": {"type": "string", "enum": [r.value for r in MemberRole]},
                                "nik": {"type": "string", "nullable": True,
                                        "description": "The member's NIK (sensitive personal data, UU PDP 27/2022): "
                                        "in full for the KUBE's officers, its facilitators and operators (and the "
                                        "member), masked (\"7201\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022"
                                        "0003\") for other members; null when not entered."},
                            },
                        },
                    },
                    "bank_account": {
                        "type": "object",
                        "description": "Only for the KUBE's officers, its facilitator and operators. The number is "
                        "masked (all but its last 4 digits) for all but the KUBE's officers.",
                        "properties": {
                            "bank_name": {"type": "string", "nullable": True},
                            "account_number": {"type": "string", "nullable": True},
                            "account_number_masked": {"type": "boolean"},
                            "account_holder": {"type": "string", "nullable": True},
                        },
                    },
                },
            },
        ]
    },
    "Photo": {
        "type": "object",
        "required": ["url", "thumb_url", "width", "height"],
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "thumb_url": {"type": "string", "format": "uri"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
        },
    },
    "Product": {
        "type": "object",
        "required": ["id", "slug", "name", "description", "kube", "category", "unit", "price",
                     "price_display", "stock", "min_order_qty", "weight_grams", "status", "photos", "url"],
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "kube": {
                "type": "object",
                "required": ["slug", "name"],
                "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
            },
            "category": {
                "type": "object",
                "required": ["slug", "name_id", "name_en"],
                "properties": {
                    "slug": {"type": "string"},
                    "name_id": {"type": "string"},
                    "name_en": {"type": "string"},
                },
            },
            "unit": {"type": "string", "enum": [u.value for u in Unit]},
            "price": {"type": "integer", "description": "Whole Rupiah per unit.", "example": 15000},
            "price_display": {"type": "string", "example": "Rp15.000"},
            "stock": {"type": "integer"},
            "min_order_qty": {"type": "integer"},
            "weight_grams": {"type": "integer"},
            "status": {"type": "string", "enum": [s.value for s in ProductStatus]},
            "photos": {"type": "array", "items": _ref("Photo")},
            "url": {"type": "string", "format": "uri", "description": "The product's page on the site."},
        },
    },
    "KubeList": {
        "type": "object",
        "required": ["items", "total", "page", "per_page"],
        "properties": {
            "items": {"type": "array", "items": _ref("KubeListItem")},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
        },
    },
    "ProductList": {
        "type": "object",
        "required": ["items", "total", "page", "per_page"],
        "properties": {
            "items": {"type": "array", "items": _ref("Product")},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
        },
    },
    "OrderCreate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["items", "payment_method"],
        "properties": {
            "items": {"type": "array", "minItems": 1, "maxItems": 50, "items": {
                "type": "object", "additionalProperties": False, "required": ["product_id", "quantity"],
                "properties": {"product_id": {"type": "integer", "minimum": 1},
                               "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
                               "unit_price": {"type": "integer", "description":
                                              "Optional: the price the client showed. When the current price "
                                              "differs, nothing is placed (409 prices_changed)."}}}},
            "delivery": {"type": "object", "additionalProperties": False, "description":
                         "For every KUBE of the checkout: pickup (default) or courier (recipient and address "
                         "then required; the fee comes from each KUBE's settings).",
                         "properties": {"method": {"type": "string", "enum": ["pickup", "courier"]},
                                        "recipient_name": {"type": "string", "maxLength": 120},
                                        "recipient_phone": {"type": "string", "maxLength": 30},
                                        "address": {"type": "string", "maxLength": 1000}}},
            "payment_method": {"type": "string", "enum": ["manual", "cod", "stripe"],
                               "description": "manual: a bank transfer with a unique amount code; cod: cash "
                                              "on delivery or at pickup; stripe: a card (only where the "
                                              "platform has card payments on: otherwise 400)."},
        },
    },
    "Order": {
        "type": "object",
        "required": ["id", "checkout_id", "kube", "status", "delivery", "goods_total", "total", "lines",
                     "history", "created_at", "expires_at"],
        "properties": {
            "id": {"type": "integer"},
            "checkout_id": {"type": "integer"},
            "kube": {"type": "object", "properties": {"slug": {"type": "string"}, "name": {"type": "string"}}},
            "status": {"type": "string", "enum": ["pending_payment", "paid", "processing", "shipped", "delivered",
                                                  "completed", "cancelled", "expired", "refunded"]},
            "delivery": {"type": "object", "properties": {
                "method": {"type": "string"}, "fee": {"type": "integer"},
                "courier": {"type": "string", "nullable": True},
                "tracking_number": {"type": "string", "nullable": True}}},
            "goods_total": {"type": "integer"},
            "total": {"type": "integer", "description": "Whole Rupiah: goods + delivery."},
            "lines": {"type": "array", "items": {"type": "object", "properties": {
                "product_id": {"type": "integer", "nullable": True}, "name": {"type": "string"},
                "unit": {"type": "string"}, "unit_price": {"type": "integer"}, "quantity": {"type": "integer"},
                "line_total": {"type": "integer"}}}},
            "history": {"type": "array", "items": {"type": "object", "properties": {
                "from": {"type": "string", "nullable": True}, "to": {"type": "string"},
                "at": {"type": "string", "format": "date-time"}, "note": {"type": "string"}}}},
            "created_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": "string", "format": "date-time", "nullable": True},
            "paid_at": {"type": "string", "format": "date-time", "nullable": True},
        },
    },
    "OrderList": {
        "type": "object",
        "required": ["items", "total", "page", "per_page"],
        "properties": {"items": {"type": "array", "items": _ref("Order")}, "total": {"type": "integer"},
                       "page": {"type": "integer"}, "per_page": {"type": "integer"}},
    },
    "Checkout": {
        "type": "object",
        "required": ["id", "payment_method", "goods_total", "delivery_total", "total", "expires_at", "orders"],
        "properties": {
            "id": {"type": "integer"},
            "payment_method": {"type": "string"},
            "goods_total": {"type": "integer"},
            "delivery_total": {"type": "integer"},
            "total": {"type": "integer"},
            "expires_at": {"type": "string", "format": "date-time", "nullable": True},
            "orders": {"type": "array", "items": _ref("Order")},
            "bank_transfer": {"type": "object", "properties": {
                "amount": {"type": "integer", "description": "Total plus the unique code: transfer exactly this."},
                "unique_code": {"type": "integer"}, "account": {"type": "string"}}},
            "card": {"type": "object", "description": "stripe: confirm this PaymentIntent with Stripe.js; the "
                     "orders become paid when Stripe's webhook arrives.", "properties": {
                         "payment_intent_id": {"type": "string"},
                         "client_secret": {"type": "string", "nullable": True},
                         "publishable_key": {"type": "string", "nullable": True}}},
        },
    },
    "Flow": {
        "type": "object",
        "required": ["product", "name", "unit", "per_run"],
        "properties": {"product": {"type": "string", "description": "The product kind's slug."},
                       "name": {"type": "string"}, "unit": {"type": "string"},
                       "per_run": {"type": "number", "description": "Amount per run of the process."}},
    },
    "SupplyChain": {
        "type": "object",
        "required": ["slug", "name", "processes"],
        "properties": {
            "slug": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
            "regency_code": {"type": "string", "nullable": True},
            "processes": {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string"}, "name": {"type": "string"},
                "whole_runs": {"type": "boolean", "description": "Runs come in whole pieces (one nut)."},
                "yield_source": {"type": "string"},
                "inputs": {"type": "array", "items": _ref("Flow")},
                "outputs": {"type": "array", "items": _ref("Flow"),
                            "description": "Several outputs are joint products of one run."},
                "kubes": {"type": "array", "items": {"type": "object", "properties": {
                    "slug": {"type": "string"}, "name": {"type": "string"},
                    "capacity_per_week": {"type": "number", "description": "Runs a week."}}}}}}},
        },
    },
    "SupplyChainList": {
        "type": "object",
        "required": ["items", "total"],
        "properties": {"items": {"type": "array", "items": _ref("SupplyChain")}, "total": {"type": "integer"}},
    },
    "PlanRequest": {
        "type": "object",
        "additionalProperties": False,
        "description": "Without demand, the chain's open supply contracts give it (for the chain's managers, "
                       "operators and its KUBEs' members only: 403 otherwise).",
        "properties": {
            "demand": {"type": "array", "minItems": 1, "maxItems": 50, "items": {
                "type": "object", "additionalProperties": False, "required": ["product", "quantity"],
                "properties": {"product": {"type": "string"}, "quantity": {"type": "number", "minimum": 0}}}},
            "period": {"type": "string", "enum": ["week", "month"], "default": "week"},
        },
    },
    "Plan": {
        "type": "object",
        "required": ["chain", "period", "demand_from", "demand", "processes", "raw_inputs"],
        "properties": {
            "chain": {"type": "string"}, "period": {"type": "string"},
            "demand_from": {"type": "string", "enum": ["request", "contracts"]},
            "demand": {"type": "array", "items": {"type": "object", "properties": {
                "product": {"type": "string"}, "unit": {"type": "string"}, "quantity": {"type": "number"}}}},
            "processes": {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string"}, "runs": {"type": "number"},
                "required_input": {"type": "array", "items": {"type": "object"}},
                "output": {"type": "array", "items": {"type": "object"},
                           "description": "Each output with quantity, needed and surplus."},
                "kubes": {"type": "array", "items": {"type": "object", "properties": {
                    "slug": {"type": "string"}, "allocated": {"type": "number"}, "capacity": {"type": "number"}}},
                          "description": "Runs shared in proportion to each KUBE's capacity, never above it."},
                "shortfall": {"type": "number", "description": "Runs no KUBE has capacity for."},
                "surplus": {"type": "array", "items": {"type": "object"}}}}},
            "raw_inputs": {"type": "array", "items": {"type": "object"}},
        },
    },
    "SearchItem": {
        "type": "object",
        "required": ["id", "name", "url", "kube", "category", "price", "unit", "in_stock", "highlight", "snippet"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "kube": {"type": "object", "properties": {"slug": {"type": "string"}, "name": {"type": "string"},
                                                      "province": {"type": "string"}}},
            "category": {"type": "string", "description": "Category slug."},
            "price": {"type": "integer", "description": "Whole Rupiah per unit."},
            "unit": {"type": "string", "enum": [u.value for u in Unit]},
            "in_stock": {"type": "boolean"},
            "highlight": {"type": "string", "description": "The name as HTML (escaped), matched words in <mark>."},
            "snippet": {"type": "string", "description": "Part of the description as HTML, matches in <mark>."},
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "pages", "facets", "suggestion", "degraded"],
        "properties": {
            "items": {"type": "array", "items": _ref("SearchItem")},
            "total": {"type": "integer"},
            "page": {"type": "integer", "description": "As asked; a page past the end has no items."},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
            "facets": {
                "type": "object",
                "description": "Counts per value, each with every other filter applied: category (slug), "
                               "province (code), kube (slug), price (\"min-max\" in Rupiah), in_stock (\"1\").",
                "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
            "suggestion": {"type": "string", "nullable": True,
                           "description": "A corrected query when few products matched and it finds more."},
            "degraded": {"type": "boolean",
                         "description": "True while the index is rebuilt: a simpler database search answered."},
            "price_ranges": {"type": "array", "items": {"type": "object", "properties": {
                "min": {"type": "integer"}, "max": {"type": "integer", "nullable": True}}}},
        },
    },
    "SearchSuggestions": {
        "type": "object",
        "required": ["q", "suggestions"],
        "properties": {"q": {"type": "string"},
                       "suggestions": {"type": "array", "maxItems": 8, "items": {"type": "string"}}},
    },
    "ProductCreate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["kube", "name", "category", "unit", "price"],
        "properties": {
            "kube": _text(140, "Slug of a KUBE the token's user may edit."),
            **_PRODUCT_FIELDS,
            "submit": {"type": "boolean", "default": False, "description": "Send for review at once."},
        },
    },
    "ProductPatch": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **_PRODUCT_FIELDS,
            "status": {
                "type": "string",
                "enum": ["pending_review", "archived", "draft"],
                "description": "pending_review: send a draft for review; archived: archive; "
                "draft: restore an archived product. Changing what buyers read (name, description, "
                "category, unit) of a published product sends it back to review.",
            },
        },
    },
    "TokenRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["email", "password"],
        "properties": {
            "email": {"type": "string", "format": "email"},
            "password": {"type": "string", "format": "password"},
        },
    },
    "Token": {
        "type": "object",
        "required": ["token", "token_type", "expires_at"],
        "properties": {
            "token": {"type": "string", "description": "Shown once; send 'Authorization: Bearer <token>'."},
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
}

PARAMETERS: dict[str, Any] = {
    "page": _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                                      "default": 1}),
    "per_page": _query("per_page", "Items per page.", {"type": "integer", "minimum": 1,
                                                        "maximum": MAX_PER_PAGE, "default": 24}),
    "province": _query("province", "Province code (Kemendagri), e.g. 72 for Sulawesi Tengah.",
                       {"type": "string", "pattern": "^[0-9]{2}$"}),
}

RESPONSES: dict[str, Any] = {
    "BadRequest": _json(_ref("Error"), "Invalid parameter or body; error.field names it."),
    "Unauthorized": {
        **_json(_ref("Error"), "Missing, invalid, expired or revoked bearer token."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge."}},
    },
    "Forbidden": _json(_ref("Error"), "The token's user may not do this to this KUBE."),
    "NotFound": _json(_ref("Error"), "No such item, or not visible to this user."),
    "Conflict": _json(_ref("Error"), "Not possible in the item's current state."),
    "TooManyRequests": {
        **_json(_ref("Error"), "Too many requests from this address (error.code rate_limited): wait and retry."),
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0},
                                    "description": "Seconds to wait before the next try."}},
    },
}

_BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_OPTIONAL_BEARER: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]

PATHS: dict[str, Any] = {
    "/auth/token": {
        "post": {
            "operationId": "createToken",
            "tags": ["auth"],
            "summary": "Trade an e-mail and password for a bearer token.",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("TokenRequest")}}},
            "responses": {
                "201": _json(_ref("Token"), "A new token."),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "403": {
                    **_json(_ref("Error"), "Too many failed sign-ins: the account is locked for a while, even for "
                            "the right password (error.code account_locked). Unknown e-mails always get 401."),
                    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                                                "description": "Seconds until the lock ends."}},
                },
            },
        }
    },
    "/kubes": {
        "get": {
            "operationId": "listKubes",
            "tags": ["kubes"],
            "summary": "Verified and active KUBEs.",
            "parameters": [
                _param("province"),
                _query("kind", "Business kind.", {"type": "string", "enum": [k.value for k in BusinessKind]}),
                _query("q", "Words in the KUBE's name.", {"type": "string", "maxLength": 100}),
                _param("page"),
                _param("per_page"),
            ],
            "responses": {"200": _json(_ref("KubeList"), "One page of KUBEs."), "400": _error("BadRequest")},
        }
    },
    "/kubes/{slug}": {
        "get": {
            "operationId": "getKube",
            "tags": ["kubes"],
            "summary": "A KUBE's profile. With a token of its officers, facilitator or an operator, "
            "also its bank account.",
            "security": _OPTIONAL_BEARER,
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": _json(_ref("Kube"), "The KUBE."),
                "401": _error("Unauthorized"),
                "404": _error("NotFound"),
            },
        }
    },
    "/insights/regions": {
        "get": {
            "operationId": "getRegionInsights",
            "tags": ["insights"],
            "summary": "Demand insights for operators and ministry / Dinas Sosial staff: per province (or per "
                       "kabupaten/kota of ?province=) active KUBEs, orders sold, sales, contract sales and open "
                       "sourcing requests; top products and categories; national search demand. Aggregates only.",
            "security": _BEARER,
            "parameters": [
                _query("province", "Province code (Kemendagri), e.g. 72: rows become its kabupaten/kota. "
                       "A kabupaten code (72.01) here is read as ?kabupaten=.",
                       {"type": "string", "maxLength": 13}),
                _query("kabupaten", "Kabupaten/kota code, e.g. 72.01 (must be in ?province= when both are given).",
                       {"type": "string", "maxLength": 13}),
                _query("from", "First day, YYYY-MM-DD, or a month YYYY-MM (its first day). Default: the first "
                       "day of the month 11 months before ?to=.", {"type": "string", "maxLength": 10}),
                _query("to", "Last day, YYYY-MM-DD, or a month YYYY-MM (its last day). Default: today "
                       "(Asia/Jakarta). At most 60 months in all.", {"type": "string", "maxLength": 10}),
            ],
            "responses": {
                "200": _json({
                    "type": "object",
                    "required": ["period", "region", "total", "rows", "months", "top_products", "top_categories",
                                 "searches", "open_requests"],
                    "properties": {
                        "period": {"type": "object", "properties": {
                            "from": {"type": "string", "format": "date"},
                            "to": {"type": "string", "format": "date"}}},
                        "region": {"type": "object", "properties": {
                            "province": {**_REGION, "nullable": True},
                            "kabupaten": {**_REGION, "nullable": True},
                            "rows_level": {"type": "string", "enum": ["province", "kabupaten"]}}},
                        "total": {"type": "object", "description": "The whole region chosen (or Indonesia).",
                                  "properties": {name: {"type": "integer"} for name in (
                                      "active_kubes", "orders", "sales", "contract_sales", "total_sales",
                                      "open_requests")}},
                        "rows": {"type": "array", "description": "Regions with any KUBE, sale or open request, "
                                 "biggest sales first. Sales in whole Rupiah, in the selling KUBE's region.",
                                 "items": {"type": "object", "properties": {
                                     "region": _REGION,
                                     **{name: {"type": "integer"} for name in (
                                         "active_kubes", "orders", "sales", "contract_sales", "total_sales",
                                         "open_requests")}}}},
                        "months": {"type": "array", "items": {"type": "object", "properties": {
                            "month": {"type": "string", "example": "2025-03"}, "orders": {"type": "integer"},
                            "sales": {"type": "integer"}, "contract_sales": {"type": "integer"}}}},
                        "top_products": {"type": "array", "description": "By product name and unit, across KUBEs.",
                                         "items": {"type": "object", "properties": {
                                             "name": {"type": "string"}, "unit": {"type": "string"},
                                             "quantity": {"type": "integer"}, "orders": {"type": "integer"},
                                             "kubes": {"type": "integer"}, "sales": {"type": "integer"}}}},
                        "top_categories": {"type": "array", "items": {"type": "object", "properties": {
                            "slug": {"type": "string"}, "name_id": {"type": "string"}, "name_en": {"type": "string"},
                            "orders": {"type": "integer"}, "sales": {"type": "integer"}}}},
                        "searches": {"type": "object", "description": "National: the search log keeps no region.",
                                     "properties": {
                                         "scope": {"type": "string", "enum": ["national"]},
                                         "total": {"type": "integer"},
                                         "top": {"type": "array", "items": {"type": "object", "properties": {
                                             "query": {"type": "string"}, "searches": {"type": "integer"},
                                             "max_results": {"type": "integer"}}}},
                                         "no_results": {"type": "array", "items": {"type": "object", "properties": {
                                             "query": {"type": "string"}, "searches": {"type": "integer"}}}}}},
                        "open_requests": {"type": "array", "description": "Open today, delivered in the region.",
                                          "items": {"type": "object", "properties": {
                                              "item": {"type": "string"}, "item_name": {"type": "string"},
                                              "unit": {"type": "string"}, "requests": {"type": "integer"},
                                              "quantity": {"type": "string", "description":
                                                           "Decimal: the sum of the quantities per delivery.",
                                                           "example": "150.5"}}}},
                    },
                }, "The figures for the period and region."),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "403": _error("Forbidden"),
            },
        },
    },
    "/kubes/{slug}/finance": {
        "get": {
            "operationId": "getKubeFinance",
            "tags": ["kubes"],
            "summary": "A KUBE's monthly income, expenses and profit from its cash book (its officers, its "
            "facilitator and operators).",
            "security": _BEARER,
            "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                _query("from", "First month, YYYY-MM (default: 11 months before `to`).",
                       {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
                _query("to", "Last month, YYYY-MM (default: this month). At most 60 months in all.",
                       {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
            ],
            "responses": {
                "200": _json(_ref("KubeFinance"), "The months, oldest first, and their totals."),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "403": _error("Forbidden"),
                "404": _error("NotFound"),
            },
        }
    },
    "/products": {
        "get": {
            "operationId": "listProducts",
            "tags": ["products"],
            "summary": "Published products of public KUBEs.",
            "parameters": [
                _query("kube", "KUBE slug.", {"type": "string"}),
                _query("category", "Category slug (a parent category includes its children).",
                       {"type": "string"}),
                _param("province"),
                _query("min_price", "Lowest price in Rupiah.", _integer(0, MAX_PRICE)),
                _query("max_price", "Highest price in Rupiah.", _integer(0, MAX_PRICE)),
                _query("q", "Words in the name or description.", {"type": "string", "maxLength": 200}),
                _query("sort", "Order.", {"type": "string", "enum": sorted(SORTS), "default": "newest"}),
                _param("page"),
                _param("per_page"),
            ],
            "responses": {
                "200": _json(_ref("ProductList"), "One page of products."),
                "400": _error("BadRequest"),
            },
        },
        "post": {
            "operationId": "createProduct",
            "tags": ["products"],
            "summary": "Add a product to a KUBE (its members, facilitator or an operator) as a draft.",
            "security": _BEARER,
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("ProductCreate")}}},
            "responses": {
                "201": {
                    **_json(_ref("Product"), "The new product."),
                    "headers": {"Location": {"schema": {"type": "string", "format": "uri"},
                                             "description": "The product in the API."}},
                },
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "403": _error("Forbidden"),
                "404": _error("NotFound"),
                "409": _error("Conflict"),
            },
        },
    },
    "/orders": {
        "post": {
            "operationId": "placeOrder",
            "tags": ["orders"],
            "summary": "Place one checkout with one order per KUBE; stock is reserved (prices and fees come "
                       "from the server).",
            "security": _BEARER,
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("OrderCreate")}}},
            "responses": {
                "201": _json(_ref("Checkout"), "The checkout with its orders and how to pay."),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "404": _error("NotFound"),
                # out_of_stock, prices_changed or payment_unavailable: nothing was placed.
                "409": _error("Conflict"),
            },
        },
        "get": {
            "operationId": "listOrders",
            "tags": ["orders"],
            "summary": "The buyer's orders, newest first.",
            "security": _BEARER,
            "parameters": [_param("page"), _param("per_page")],
            "responses": {"200": _json(_ref("OrderList"), "The orders."), "400": _error("BadRequest"),
                          "401": _error("Unauthorized")},
        },
    },
    "/orders/{order_id}": {
        "parameters": [{"name": "order_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1}}],
        "get": {
            "operationId": "getOrder",
            "tags": ["orders"],
            "summary": "An order, for its buyer, its KUBE's members or an operator.",
            "security": _BEARER,
            "responses": {"200": _json(_ref("Order"), "The order."), "401": _error("Unauthorized"),
                          "404": _error("NotFound")},
        },
    },
    "/kubes/{slug}/orders": {
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {
            "operationId": "listKubeOrders",
            "tags": ["orders"],
            "summary": "A KUBE's orders, for its members and operators.",
            "security": _BEARER,
            "parameters": [_param("page"), _param("per_page")],
            "responses": {"200": _json(_ref("OrderList"), "The orders."), "400": _error("BadRequest"),
                          "401": _error("Unauthorized"), "403": _error("Forbidden"), "404": _error("NotFound")},
        },
    },
    "/supply-chains": {
        "get": {
            "operationId": "listSupplyChains",
            "tags": ["supply-chains"],
            "summary": "Supply chains (integrated businesses): processes, yields and KUBEs with capacities.",
            "responses": {"200": _json(_ref("SupplyChainList"), "The chains.")},
        },
    },
    "/supply-chains/{slug}": {
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {
            "operationId": "getSupplyChain",
            "tags": ["supply-chains"],
            "summary": "One supply chain.",
            "responses": {"200": _json(_ref("SupplyChain"), "The chain."), "404": _error("NotFound")},
        },
    },
    "/supply-chains/{slug}/plan": {
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "post": {
            "operationId": "planSupplyChain",
            "tags": ["supply-chains"],
            "summary": "Plan a period's demand: what each process makes, the raw input, each KUBE's share, "
                       "shortfalls and the surplus of joint products.",
            "security": _BEARER,
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("PlanRequest")}}},
            "responses": {"200": _json(_ref("Plan"), "The plan."), "400": _error("BadRequest"),
                          "401": _error("Unauthorized"),
                          "403": _error("Forbidden"),
                          "404": _error("NotFound")},
        },
    },
    "/search": {
        "get": {
            "operationId": "searchProducts",
            "tags": ["search"],
            "summary": "Search published products (Indonesian stemming, facets, spelling suggestion); logged "
                       "without personal data.",
            "parameters": [
                _query("q", "Words to find (cut to 200 characters).", {"type": "string", "maxLength": 2000}),
                _query("category", "Category slug (a parent category includes its children).",
                       {"type": "string", "maxLength": 80}),
                _param("province"),
                _query("kube", "KUBE slug.", {"type": "string", "maxLength": 140}),
                _query("min_price", "Lowest price in Rupiah.", _integer(0, MAX_PRICE)),
                _query("max_price", "Highest price in Rupiah.", _integer(0, MAX_PRICE)),
                _query("in_stock", "1: only products in stock.", {"type": "string", "enum": ["0", "1"]}),
                _query("sort", "Order.", {"type": "string", "enum": list(SEARCH_SORTS), "default": "relevance"}),
                _query("page", "Page number.", _integer(1, SEARCH_MAX_PAGE)),
                _query("per_page", "Results per page.", _integer(1, SEARCH_MAX_PER_PAGE)),
            ],
            "responses": {
                "200": _json(_ref("SearchResults"), "One page of results with facets."),
                "400": _error("BadRequest"),
            },
        },
    },
    "/search/suggest": {
        "get": {
            "operationId": "suggestSearch",
            "tags": ["search"],
            "summary": "Up to 8 completions of what is typed, from product and category names.",
            "parameters": [
                _query("q", "What is typed so far.", {"type": "string", "maxLength": 200}),
                _query("limit", "At most this many.", _integer(1, 8)),
            ],
            "responses": {
                "200": _json(_ref("SearchSuggestions"), "Completions, most common first."),
                "400": _error("BadRequest"),
            },
        },
    },
    "/products/{product_id}": {
        "parameters": [
            {"name": "product_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1}},
        ],
        "get": {
            "operationId": "getProduct",
            "tags": ["products"],
            "summary": "A public product; drafts too with a token of the KUBE's people or reviewers.",
            "security": _OPTIONAL_BEARER,
            "responses": {
                "200": _json(_ref("Product"), "The product."),
                "401": _error("Unauthorized"),
                "404": _error("NotFound"),
            },
        },
        "patch": {
            "operationId": "updateProduct",
            "tags": ["products"],
            "summary": "Change some fields and/or the status of a product.",
            "security": _BEARER,
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("ProductPatch")}}},
            "responses": {
                "200": _json(_ref("Product"), "The product as stored."),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "403": _error("Forbidden"),
                "404": _error("NotFound"),
                "409": _error("Conflict"),
            },
        },
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "tags": ["meta"],
            "summary": "This document.",
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {JSON: {"schema": {"type": "object"}}}}},
        }
    },
}

# Every operation counts against the API's rate limit (and POST /auth/token against a tighter one too).
for _operations in PATHS.values():
    for _method, _operation in _operations.items():
        if _method != "parameters":
            _operation["responses"].setdefault("429", _error("TooManyRequests"))

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Pasar KUBE API",
        "version": "1.0.0",
        "description": "Read the catalogue of KUBE groups' products; KUBE members manage their "
        "products with a bearer token from POST /auth/token. Prices are whole Rupiah. Errors are "
        '{"error": {"code", "message", "field"}}.',
    },
    "servers": [{"url": "/api/v1"}],
    "tags": [{"name": name} for name in ("auth", "kubes", "products", "orders", "supply-chains", "search",
                                         "insights", "meta")],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "parameters": PARAMETERS,
        "responses": RESPONSES,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from POST /api/v1/auth/token. The session cookie is never used.",
            }
        },
    },
}


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(SPEC)
