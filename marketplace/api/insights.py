"""Demand insights by region, for operators and ministry / Dinas Sosial staff (aggregates only)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from marketplace import regions
from marketplace.api import bp
from marketplace.api.helpers import require_bearer
from marketplace.insights import services
from marketplace.web import db_session


def _region(code: str | None) -> dict[str, str] | None:
    return {"code": code, "name": regions.name(code)} if code else None


def _row(row: services.RegionRow) -> dict[str, Any]:
    return {
        "region": _region(row.code),
        "active_kubes": row.active_kubes,
        "orders": row.orders,
        "sales": row.sales,
        "contract_sales": row.contract_sales,
        "total_sales": row.total_sales,
        "open_requests": row.open_requests,
    }


def insights_json(data: services.Insights) -> dict[str, Any]:
    f = data.filters
    total = _row(data.total)
    total.pop("region")
    return {
        "period": {"from": f.first.isoformat(), "to": f.last.isoformat()},
        "region": {"province": _region(f.province), "kabupaten": _region(f.kabupaten),
                   "rows_level": "province" if f.level == 1 else "kabupaten"},
        "total": total,
        "rows": [_row(r) for r in data.rows],
        "months": [{"month": m.month.strftime("%Y-%m"), "orders": m.orders, "sales": m.sales,
                    "contract_sales": m.contract_sales} for m in data.months],
        "top_products": [{"name": p.name, "unit": p.unit, "quantity": p.quantity, "orders": p.orders,
                          "kubes": p.kubes, "sales": p.sales} for p in data.top_products],
        "top_categories": [{"slug": c.slug, "name_id": c.name_id, "name_en": c.name_en, "orders": c.orders,
                            "sales": c.sales} for c in data.top_categories],
        "searches": {
            "scope": "national",
            "total": data.searches,
            "top": [{"query": s.query, "searches": s.searches, "max_results": s.results} for s in data.top_searches],
            "no_results": [{"query": s.query, "searches": s.searches} for s in data.unmet_searches],
        },
        "open_requests": [{"item": q.item, "item_name": q.item_name, "unit": q.unit, "requests": q.requests,
                           "quantity": format(q.quantity.normalize(), "f")} for q in data.open_requests],
    }


@bp.get("/insights/regions")
def insight_regions() -> Response:
    """Sales, KUBEs and demand per province (or per kabupaten of ?province=), for a period."""
    actor = require_bearer()
    services.require_viewer(actor)
    args = request.args
    filters = services.clean_filters(args.get("from"), args.get("to"), args.get("province"), args.get("kabupaten"))
    body = insights_json(services.insights(db_session(), actor, filters))
    db_session().commit()  # records the token's last use
    return jsonify(body)
