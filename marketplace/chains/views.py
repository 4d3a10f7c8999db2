"""Pages of supply chains: the list, one chain with its diagram, its KUBEs and a plan for a demand (where a
member lists their KUBE's surplus for sale), and the pages where facilitators and operators build chains."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from marketplace.auth.models import User
from marketplace.catalog import services as catalog
from marketplace.chains import bp, diagram, services
from marketplace.chains.forms import (
    AssignForm,
    CapacityForm,
    ChainForm,
    FlowForm,
    ProcessForm,
    decimal_text,
)
from marketplace.chains.models import ProcessFlow, SupplyChain
from marketplace.common import N_, DomainError, PermissionDenied
from marketplace.extensions import db
from marketplace.forms import ActionForm, Form
from marketplace.sourcing import services as sourcing
from marketplace.web import (
    MAX_ID,
    current_actor,
    db_session,
    error_text,
    flash_refusal,
    one_button_step,
    reject_form,
)


def amount(value: Fraction) -> str:
    """A planned amount as people write it: whole numbers with thousands dots, else one decimal."""
    if value.denominator == 1:
        return f"{int(value):,}".replace(",", ".")
    return f"{float(value):,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")


@bp.app_template_filter("fraction")
def _fraction(value: object) -> Fraction:
    return Fraction(str(value))


@bp.app_template_filter("chain_amount")
def _chain_amount(value: object) -> str:
    """An amount or a capacity (Decimal, Fraction) as people write it (see `amount`)."""
    return amount(Fraction(str(value)))


@bp.app_template_filter("exact_amount")
def _exact_amount(value: object) -> str:
    """An amount per run or a capacity, exactly (0,4375; 6.000)."""
    return decimal_text(value)


def _viewer() -> User | None:
    return current_actor() if current_user.is_authenticated else None


@bp.route("/chains")
def chains() -> str:
    return render_template("chains/list.html", chains=services.chains(db_session()),
                           may_start=services.may_start_chains(_viewer()))


def _finals(chain: SupplyChain) -> list[ProcessFlow]:
    """The outputs no process of the chain takes in: what order takers buy, the demand of a plan."""
    consumed = {f.item for p in chain.processes for f in p.flows if f.direction == "in"}
    return [f for p in chain.processes for f in p.flows if f.direction == "out" and f.item not in consumed]


def _demand_flows(chain: SupplyChain, args: Mapping[str, str]) -> list[ProcessFlow]:
    """The plan form's fields: the final outputs, and any other output a demand was given for (an order
    taker may buy an intermediate item, e.g. the coconut water itself)."""
    finals = _finals(chain)
    shown = {f.item for f in finals}
    for process in chain.processes:
        for flow in process.flows:
            if flow.direction == "out" and flow.item not in shown and args.get(flow.item, "").strip():
                finals.append(flow)
                shown.add(flow.item)
    return finals


def _typed(value: Fraction) -> str:
    """A quantity as the plan form takes it (Indonesian, at most three decimals): 1.500 or 11,538."""
    whole, part = divmod(round(value * 1000), 1000)
    text = f"{whole:,}".replace(",", ".")
    return text + (f",{part:03d}".rstrip("0") if part else "")


def _demand(chain: SupplyChain, args: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[str, float]]]:
    """The demand typed in the plan form: (what was typed per item, the quantities asked).
    Quantities are written the Indonesian way ("1.000" is a thousand, "2,5" two and a half); junk raises
    ValueError."""
    typed = {f.item: args.get(f.item, "").strip() for f in _demand_flows(chain, args)}
    asked = [(item, float(raw.replace(".", "").replace(",", "."))) for item, raw in typed.items() if raw]
    return typed, asked


@bp.route("/chains/<slug>")
def chain(slug: str) -> str | Response:
    viewer = _viewer()
    found = services.chain_by_slug(db_session(), slug)
    period = request.args.get("period", "week")
    if request.args.get("from") == "contracts" and period in services.PERIODS:
        # The open contracts' demand, put in the form: the plan below, and its "list for sale" buttons, are
        # those of any demand typed in.
        wanted = sourcing.demand_of_contracts(db_session(), viewer, found, period)  # 403 for the public
        if not wanted:
            flash(_("No open contract asks this chain for anything in that period."), "info")
        typed = {item: _typed(q) for item, q in wanted.items() if q}
        return redirect(url_for("chains.chain", slug=slug) + "?" + urlencode({**typed, "period": period}))
    finals = _demand_flows(found, request.args)
    units = services.units(found)
    names = {item: name for item, (name, _unit) in units.items()}
    result, error = None, None
    try:
        demand, asked = _demand(found, request.args)
    except ValueError:
        demand, asked = {f.item: request.args.get(f.item, "") for f in finals}, []
        error = _("Quantities are numbers, e.g. 1.000 or 2,5.")
    if asked:
        try:
            result = services.plan_chain(db_session(), slug, asked, period).plan
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
    # The viewer's KUBEs: a member of a KUBE that runs a process lists its share of the plan's surplus.
    mine = {m.kube_id for m in catalog.kubes_of_member(db_session(), viewer)} if viewer and result else set()
    return render_template("chains/detail.html", chain=found, svg=svg, finals=finals, demand=demand,
                           period=period, plan=result, error=error, amount=amount,
                           units=units, public_kubes=services.public_kubes, my_kube_ids=mine,
                           prices={f.item: f.price for p in found.processes for f in p.flows if f.direction == "out"},
                           can_manage=services.can_manage_chain(db_session(), viewer, found),
                           participant=sourcing.is_chain_participant(db_session(), viewer, found),
                           surplus_stock=services.surplus_stock,
                           # The plan's demand rides in the query string: the service plans it again.
                           sell_url=url_for("chains.sell_surplus", slug=slug) + "?" + urlencode(
                               {k: v for k, v in {**demand, "period": period}.items() if v}))


@bp.route("/chains/<slug>/sell", methods=["POST"])
@login_required
def sell_surplus(slug: str) -> Response:
    """A member lists their KUBE's share of a surplus of the plan (the plan's demand is in the query string)."""
    found = services.chain_by_slug(db_session(), slug)
    kept = {"period", *(f.item for p in found.processes for f in p.flows if f.direction == "out")}
    back = url_for("chains.chain", slug=slug) + "?" + urlencode({k: v for k, v in request.args.items() if k in kept})
    if not ActionForm().validate_on_submit():
        return redirect(back)
    kube_id = request.form.get("kube", "")
    if not kube_id.isascii() or not kube_id.isdigit() or len(kube_id) > 10 or not 0 < int(kube_id) <= MAX_ID:
        abort(400)
    try:
        _typed, asked = _demand(found, request.args)
    except ValueError:
        flash(_("Quantities are numbers, e.g. 1.000 or 2,5."), "danger")
        return redirect(back)
    process_key = request.form.get("process", "")
    try:
        process = next((p for p in found.processes if p.key == process_key), None)
        product = services.list_surplus(
            db_session(), current_actor(), slug, asked, request.args.get("period", "week"),
            process_key=process_key, item=request.form.get("item", ""), kube_id=int(kube_id),
            description=_("Surplus of the supply chain “%(chain)s”, from the process “%(process)s”.",
                          chain=found.name, process=process.name if process else ""))
    except DomainError as error:
        flash_refusal(error)
        return redirect(back)
    db.session.commit()
    flash(_("“%(name)s” is saved as a draft with a stock of %(stock)d. Check it, add a photo and send it for "
            "review.", name=product.name, stock=product.stock), "success")
    return redirect(url_for("shop.edit_product", slug=product.kube.slug, product_id=product.id))


# --- Building chains (facilitators and operators) ---------------------------------------------------


@bp.route("/chains/new", methods=["GET", "POST"])
@login_required
def new_chain() -> str | Response:
    if not services.may_start_chains(current_actor()):
        raise PermissionDenied(N_("Only facilitators and operators start supply chains."))
    form = ChainForm()
    form.fill_choices()
    # "Show the next list" in the region picker only reloads the form with the lists filled.
    if not request.form.get("refresh_regions") and form.validate_on_submit():
        try:
            created = services.create_chain(db_session(), current_actor(), form.values())
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            flash(_("The chain “%(name)s” is started. Add its processes, their inputs and outputs, and the "
                    "KUBEs that run them.", name=created.name), "success")
            return redirect(url_for("chains.edit_chain", slug=created.slug))
    return render_template("chains/new.html", form=form)


def _managed(slug: str) -> SupplyChain:
    """The chain of the URL, if the signed-in user may change it (else 403/404)."""
    found = services.chain_by_slug(db_session(), slug)
    if not services.can_manage_chain(db_session(), current_actor(), found):
        raise PermissionDenied(N_("You are not allowed to change this supply chain."))
    return found


def _edit_page(slug: str, failed: Mapping[str, Form] | None = None) -> str:
    """The edit page: one small form per chain, process, input/output and KUBE, each with its own prefix;
    a form that was just refused comes back as it was typed, with its errors."""
    found = _managed(slug)
    failed = failed or {}
    forms: dict[str, Any] = dict(failed)

    def form(key: str, cls: type[Form], source: object = None) -> None:
        if key not in forms:
            forms[key] = cls(formdata=None, prefix=key)
            if source is not None:
                forms[key].fill(source)

    form("chain", ChainForm, found)
    forms["chain"].fill_choices()
    kubes = services.assignable_kubes(db_session(), current_actor())
    placeable = {k.id for k in kubes}
    for process in found.processes:
        form(f"p{process.id}", ProcessForm, process)
        for flow in process.flows:
            form(f"f{flow.id}", FlowForm, flow)
        form(f"nf{process.id}", FlowForm)
        form(f"a{process.id}", AssignForm)
        forms[f"a{process.id}"].fill_choices([k for k in kubes if k.id not in {pk.kube_id for pk in process.kubes}])
        for link in process.kubes:
            if f"k{process.id}-{link.kube_id}" not in forms:
                forms[f"k{process.id}-{link.kube_id}"] = CapacityForm(
                    formdata=None, prefix=f"k{process.id}-{link.kube_id}",
                    data={"capacity": decimal_text(link.capacity_per_week)})
    form("np", ProcessForm)
    return render_template("chains/edit.html", chain=found, forms=forms, placeable=placeable,
                           action_form=ActionForm(), amount=amount)


@bp.route("/chains/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_chain(slug: str) -> str | Response:
    _managed(slug)
    form = ChainForm(prefix="chain")
    form.fill_choices()
    # "Show the next list" in the region picker only reloads the form with the lists filled.
    if not request.form.get("refresh_regions") and form.validate_on_submit():
        try:
            services.update_chain(db_session(), current_actor(), slug, form.values())
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            flash(_("The chain is saved."), "success")
            return redirect(url_for("chains.edit_chain", slug=slug))
    return _edit_page(slug, {"chain": form} if request.method == "POST" else None)


def _anchor(slug: str, anchor: str = "") -> str:
    return url_for("chains.edit_chain", slug=slug) + (f"#{anchor}" if anchor else "")


def _submit(slug: str, key: str, form: Form, work: Callable[[Session, User], Any], message: str,
            anchor: Callable[[Any], str]) -> str | Response:
    """Run one form of the edit page through its service: commit and go back to the page at the changed part,
    or show the page again with the form as typed and its errors."""
    _managed(slug)
    if form.validate_on_submit():
        try:
            result = work(db_session(), current_actor())
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            flash(_(message), "success")
            return redirect(_anchor(slug, anchor(result)))
    return _edit_page(slug, {key: form})


def _one_button(slug: str, work: Callable[[Session, User], object], message: str, anchor: str) -> Response:
    """A remove button of the edit page: the service decides, the page says how it went."""
    _managed(slug)
    one_button_step(lambda: work(db_session(), current_actor()), _(message))
    return redirect(_anchor(slug, anchor))


@bp.route("/chains/<slug>/processes", methods=["POST"])
@login_required
def add_process(slug: str) -> str | Response:
    form = ProcessForm(prefix="np")
    return _submit(slug, "np", form, lambda s, u: services.add_process(s, u, slug, form.values()),
                   N_("The process is added. Now give it its inputs, outputs and KUBEs."),
                   lambda process: f"process-{process.id}")


@bp.route("/chains/<slug>/processes/<id:process_id>", methods=["POST"])
@login_required
def update_process(slug: str, process_id: int) -> str | Response:
    form = ProcessForm(prefix=f"p{process_id}")
    return _submit(slug, f"p{process_id}", form,
                   lambda s, u: services.update_process(s, u, slug, process_id, form.values()),
                   N_("The process is saved."), lambda process: f"process-{process.id}")


@bp.route("/chains/<slug>/processes/<id:process_id>/delete", methods=["POST"])
@login_required
def delete_process(slug: str, process_id: int) -> Response:
    return _one_button(slug, lambda s, u: services.delete_process(s, u, slug, process_id),
                       N_("The process is removed."), "processes")


@bp.route("/chains/<slug>/processes/<id:process_id>/flows", methods=["POST"])
@login_required
def add_flow(slug: str, process_id: int) -> str | Response:
    form = FlowForm(prefix=f"nf{process_id}")
    return _submit(slug, f"nf{process_id}", form,
                   lambda s, u: services.add_flow(s, u, slug, process_id, form.values()),
                   N_("The input or output is added."), lambda _flow: f"process-{process_id}")


@bp.route("/chains/<slug>/processes/<id:process_id>/flows/<id:flow_id>", methods=["POST"])
@login_required
def update_flow(slug: str, process_id: int, flow_id: int) -> str | Response:
    form = FlowForm(prefix=f"f{flow_id}")
    return _submit(slug, f"f{flow_id}", form,
                   lambda s, u: services.update_flow(s, u, slug, process_id, flow_id, form.values()),
                   N_("The input or output is saved."), lambda _flow: f"process-{process_id}")


@bp.route("/chains/<slug>/processes/<id:process_id>/flows/<id:flow_id>/delete", methods=["POST"])
@login_required
def remove_flow(slug: str, process_id: int, flow_id: int) -> Response:
    return _one_button(slug, lambda s, u: services.remove_flow(s, u, slug, process_id, flow_id),
                       N_("The input or output is removed."), f"process-{process_id}")


@bp.route("/chains/<slug>/processes/<id:process_id>/kubes", methods=["POST"])
@login_required
def assign_kube(slug: str, process_id: int) -> str | Response:
    form = AssignForm(prefix=f"a{process_id}")
    return _submit(slug, f"a{process_id}", form,
                   lambda s, u: services.assign_kube(s, u, slug, process_id, form.kube.data or "",
                                                     form.capacity.data or ""),
                   N_("The KUBE now runs this process."), lambda _link: f"process-{process_id}")


@bp.route("/chains/<slug>/processes/<id:process_id>/kubes/<id:kube_id>", methods=["POST"])
@login_required
def update_capacity(slug: str, process_id: int, kube_id: int) -> str | Response:
    key = f"k{process_id}-{kube_id}"
    form = CapacityForm(prefix=key)
    return _submit(slug, key, form,
                   lambda s, u: services.update_capacity(s, u, slug, process_id, kube_id, form.capacity.data or ""),
                   N_("The capacity is saved."), lambda _link: f"process-{process_id}")


@bp.route("/chains/<slug>/processes/<id:process_id>/kubes/<id:kube_id>/delete", methods=["POST"])
@login_required
def remove_kube(slug: str, process_id: int, kube_id: int) -> Response:
    return _one_button(slug, lambda s, u: services.remove_kube(s, u, slug, process_id, kube_id),
                       N_("The KUBE no longer runs this process."), f"process-{process_id}")
