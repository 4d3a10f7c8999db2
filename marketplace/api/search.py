"""Search: GET /api/v1/search and GET /api/v1/search/suggest (public, no token needed)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from werkzeug.wrappers import Response

from marketplace.api import bp
from marketplace.api.helpers import int_arg, province_arg, text_arg
from marketplace.common import N_, ValidationError
from marketplace.search import services
from marketplace.search.backend import PRICE_BUCKETS
from marketplace.search.runtime import runtime
from marketplace.web import db_session


def _bool_arg(name: str) -> bool:
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "0", "false"):
        return False
    if raw in ("1", "true"):
        return True
    raise ValidationError(N_("Use 1 or 0."), field=name)


def _item(item: services.ResultItem) -> dict[str, Any]:
    product = item.product
    return {
        "id": product.id,
        "name": product.name,
        "url": url_for("catalog.product", product_id=product.id, slug=product.slug, _external=True),
        "kube": {"slug": product.kube.slug, "name": product.kube.name, "province": product.kube.province_code},
        "category": product.category.slug,
        "price": product.price,
        "unit": product.unit.value,
        "in_stock": product.stock > 0,
        "highlight": str(item.name_html),
        "snippet": str(item.snippet_html),
    }


@bp.get("/search")
def search() -> Response:
    params = services.SearchParams(
        q=text_arg("q", max_length=2000) or "",
        category=text_arg("category", max_length=80),
        province=province_arg(),
        kube=text_arg("kube", max_length=140),
        min_price=int_arg("min_price", minimum=0, maximum=services.MAX_PRICE),
        max_price=int_arg("max_price", minimum=0, maximum=services.MAX_PRICE),
        in_stock=_bool_arg("in_stock"),
        sort=text_arg("sort", max_length=20) or "relevance",
        page=int_arg("page", minimum=1, maximum=services.MAX_PAGE, default=1) or 1,
        per_page=int_arg("per_page", minimum=1, maximum=services.MAX_PER_PAGE, default=20) or 20,
    )
    search_runtime = runtime()
    results = services.search(db_session(), search_runtime.backend, params, source="api",
                              on_broken=search_runtime.indexer.mark_broken)
    facets = {name: {v.value: v.count for v in values} for name, values in results.facets.items()
              if name != "in_stock"}
    if "in_stock" in results.facets:
        facets["in_stock"] = {"1": results.facets["in_stock"][0].count}
    body = {
        "items": [_item(i) for i in results.items],
        "total": results.total,
        "page": results.page,
        "per_page": results.per_page,
        "pages": results.pages,
        "facets": facets,
        "suggestion": results.suggestion,
        "degraded": results.fallback,
        "price_ranges": [{"min": low, "max": high - 1 if high else None} for low, high in PRICE_BUCKETS],
    }
    db_session().commit()  # the search log, after reading the products (a commit expires them)
    return jsonify(body)


@bp.get("/search/suggest")
def suggest() -> Response:
    q = text_arg("q", max_length=200) or ""
    limit = int_arg("limit", minimum=1, maximum=8, default=8) or 8
    return jsonify({"q": q, "suggestions": services.suggest(runtime().backend, q, min(limit, 8))})
