"""Pages of supply chains: the list, and one chain with its diagram, its KUBEs and a plan for a demand."""

from __future__ import annotations

from fractions import Fraction

from flask import render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from marketplace.chains import bp, diagram, services
from marketplace.common import DomainError
from marketplace.web import db_session, error_text


def amount(value: Fraction) -> str:
    """A planned amount as people write it: whole numbers with thousands dots, else one decimal."""
    if value.denominator == 1:
        return f"{int(value):,}".replace(",", ".")
    return f"{float(value):,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")


@bp.app_template_filter("fraction")
def _fraction(value: object) -> Fraction:
    return Fraction(str(value))


@bp.route("/chains")
def chains() -> str:
    return render_template("chains/list.html", chains=services.chains(db_session()))


@bp.route("/chains/<slug>")
def chain(slug: str) -> str:
    found = services.chain_by_slug(db_session(), slug)
    consumed = {f.item for p in found.processes for f in p.flows if f.direction == "in"}
    finals = [f for p in found.processes for f in p.flows if f.direction == "out" and f.item not in consumed]
    units = services.units(found)
    names = {item: name for item, (name, _unit) in units.items()}
    period = request.args.get("period", "week")
    demand = [(f.item, request.args.get(f.item, "").strip()) for f in finals]
    asked = [(item, raw) for item, raw in demand if raw]
    result, error = None, None
    if asked:
        try:
            wanted = [(item, float(raw.replace(".", "").replace(",", "."))) for item, raw in asked]
            result = services.plan_chain(db_session(), slug, wanted, period).plan
        except ValueError:
            error = _("Quantities are numbers, e.g. 1.000 or 2,5.")
        except DomainError as problem:
            error = error_text(problem)
    boxes = []
    for process in found.processes:
        kubes = services.public_kubes(process)
        step = result.process(process.key) if result else None
        lines = [", ".join(pk.kube.name for pk in kubes) or _("No KUBE yet")]
        if step is not None:
            made = ", ".join(f"{amount(q)} {units[i][1]} {names[i]}" for i, q in step.output.items() if q)
            lines.append(made or _("Nothing to make"))
        boxes.append(diagram.Box(process.key, process.name, lines,
                                 [f.item for f in process.flows if f.direction == "in"],
                                 [f.item for f in process.flows if f.direction == "out"],
                                 warn=bool(step and step.shortfall)))
    svg = Markup(diagram.chain_svg(boxes, names, found.name))  # noqa: S704 - every text is escaped in chain_svg
    return render_template("chains/detail.html", chain=found, svg=svg, finals=finals, demand=dict(demand),
                           period=period, plan=result, error=error, amount=amount,
                           units=units, public_kubes=services.public_kubes)
