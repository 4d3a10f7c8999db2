"""Supply chains: GET /api/v1/supply-chains[/<slug>] describe them; POST .../plan plans a demand (given, or
that of the chain's open supply contracts when none is given)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from marketplace.api import bp
from marketplace.api.helpers import check_fields, json_object, require_bearer, required
from marketplace.chains import planner, services
from marketplace.chains.models import SupplyChain
from marketplace.common import N_, ValidationError
from marketplace.sourcing import services as sourcing
from marketplace.web import db_session


def _number(value: Fraction) -> float:
    """Amounts in JSON: exact where they are whole, else rounded to 4 decimals (yields such as 0.4375)."""
    return int(value) if value.denominator == 1 else round(float(value), 4)


def chain_json(chain: SupplyChain) -> dict[str, Any]:
    return {
        "slug": chain.slug,
        "name": chain.name,
        "description": chain.description,
        "regency_code": chain.regency_code,
        "processes": [{
            "key": p.key,
            "name": p.name,
            "whole_runs": p.whole_runs,
            "yield_source": p.yield_source,
            "inputs": [{"product": f.item, "name": f.item_name, "unit": f.unit,
                        "per_run": _number(Fraction(f.amount))} for f in p.flows if f.direction == "in"],
            "outputs": [{"product": f.item, "name": f.item_name, "unit": f.unit,
                         "per_run": _number(Fraction(f.amount))} for f in p.flows if f.direction == "out"],
            "kubes": [{"slug": pk.kube.slug, "name": pk.kube.name,
                       "capacity_per_week": _number(Fraction(pk.capacity_per_week))}
                      for pk in services.public_kubes(p)],
        } for p in chain.processes],
    }


@bp.get("/supply-chains")
def supply_chains() -> Response:
    found = services.chains(db_session())
    return jsonify({"items": [chain_json(c) for c in found], "total": len(found)})


@bp.get("/supply-chains/<slug>")
def supply_chain(slug: str) -> Response:
    return jsonify(chain_json(services.chain_by_slug(db_session(), slug)))


@bp.post("/supply-chains/<slug>/plan")
def plan_supply_chain(slug: str) -> Response:
    user = require_bearer()
    body = json_object()
    check_fields(body, {"demand": list, "period": str})
    if "demand" in body:
        lines = []
        for line in body["demand"]:
            if not isinstance(line, dict):
                raise ValidationError(N_("Each demand line is an object with product and quantity."),
                                      field="demand")
            check_fields(line, {"product": str, "quantity": object})  # a number: checked by the service
            required(line, "product", "quantity")
            lines.append((line["product"], line["quantity"]))
        result = services.plan_chain(db_session(), slug, lines, body.get("period", "week"))
        demand = {item: Fraction(str(quantity)) for item, quantity in lines}
    else:
        period = body.get("period", "week")
        if period not in services.PERIODS:
            raise ValidationError(N_("The period is week or month."), field="period")
        chain = services.chain_by_slug(db_session(), slug)
        demand = sourcing.demand_of_contracts(db_session(), user, chain, period)
        result = services.ChainPlan(chain, period, planner.plan(services.to_processes(chain, period), demand))
    names = services.units(result.chain)
    processes = []
    for step in result.plan.processes:
        processes.append({
            "key": step.key,
            "runs": _number(step.runs),
            "required_input": [{"product": item, "unit": names[item][1], "quantity": _number(q)}
                               for item, q in step.required_input.items()],
            "output": [{"product": item, "unit": names[item][1], "quantity": _number(q),
                        "needed": _number(step.needed[item]), "surplus": _number(step.surplus[item])}
                       for item, q in step.output.items()],
            "kubes": [{"slug": kube, "allocated": _number(step.allocated.get(kube, Fraction(0))),
                       "capacity": _number(cap)} for kube, cap in step.capacity.items()],
            "shortfall": _number(step.shortfall),
            "surplus": [{"product": item, "unit": names[item][1], "quantity": _number(q)}
                        for item, q in step.surplus.items() if q > 0],
        })
    return jsonify({
        "chain": result.chain.slug,
        "period": result.period,
        "demand_from": "request" if "demand" in body else "contracts",
        "demand": [{"product": item, "unit": names[item][1], "quantity": _number(q)} for item, q in demand.items()],
        "processes": processes,
        "raw_inputs": [{"product": item, "unit": names[item][1], "quantity": _number(q)}
                       for item, q in result.plan.raw_inputs.items()],
    })
