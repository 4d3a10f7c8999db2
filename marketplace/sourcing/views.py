"""Pages of sourcing: the order taker's dashboard, requests and quotes, supply contracts and their deliveries,
a KUBE's sourcing page with its lots, the public trace of a lot, delivery payments for operators and a chain's
revenue by KUBE."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from marketplace import regions
from marketplace.auth.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.permissions import Action, allowed_actions
from marketplace.chains import services as chains
from marketplace.chains.models import SupplyChain
from marketplace.common import N_, DomainError, PermissionDenied, clean_int
from marketplace.forms import ActionForm
from marketplace.sourcing import bp, services
from marketplace.sourcing.forms import (
    SCHEDULE_LABELS,
    DeliveryForm,
    DeliveryPaidForm,
    HandoverForm,
    LotForm,
    QuoteForm,
    RequestForm,
    unit_name,
)
from marketplace.sourcing.models import (
    ContractStatus,
    DeliveryStatus,
    QuoteStatus,
    RequestStatus,
    Schedule,
)
from marketplace.web import (
    MAX_ID,
    current_actor,
    db_session,
    flash_refusal,
    one_button_step,
    reject_form,
    rupiah,
    safe_next,
)

STATUS_LABELS: dict[type[StrEnum], dict[StrEnum, object]] = {
    RequestStatus: {RequestStatus.OPEN: _l("Taking quotes"), RequestStatus.CLOSED: _l("Closed"),
                    RequestStatus.CANCELLED: _l("Cancelled")},
    QuoteStatus: {QuoteStatus.OFFERED: _l("Waiting for a decision"), QuoteStatus.ACCEPTED: _l("Accepted"),
                  QuoteStatus.DECLINED: _l("Declined"), QuoteStatus.WITHDRAWN: _l("Withdrawn")},
    ContractStatus: {ContractStatus.ACTIVE: _l("Active"), ContractStatus.COMPLETED: _l("Completed"),
                     ContractStatus.CANCELLED: _l("Cancelled")},
    DeliveryStatus: {DeliveryStatus.SENT: _l("Sent"), DeliveryStatus.RECEIVED: _l("Received"),
                     DeliveryStatus.PAID: _l("Paid")},
}
# Bootstrap colours of the status badges, by status value.
STATUS_COLOURS = {"open": "success", "closed": "secondary", "cancelled": "secondary", "offered": "warning",
                  "accepted": "success", "declined": "secondary", "withdrawn": "secondary", "active": "primary",
                  "completed": "success", "sent": "warning", "received": "info", "paid": "success"}


# --- What the templates use -----------------------------------------------------------------------------


@bp.app_template_filter("quantity")
def quantity(value: Decimal | int | None) -> str:
    """A quantity as Indonesians write it, and as the forms read it back: 1.500 (thousands), 2,5, 0,125."""
    if value is None:
        return ""
    number = Decimal(value).normalize()
    sign = "-" if number < 0 else ""
    whole, _sep, fraction = f"{abs(number):f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return sign + grouped + ("," + fraction if fraction else "")


@bp.app_template_global()
def sourcing_label(status: StrEnum) -> str:
    """A request's, quote's, contract's or delivery's status (or a schedule) in the page's language."""
    if isinstance(status, Schedule):
        return str(SCHEDULE_LABELS[status])
    return str(STATUS_LABELS[type(status)][status])


@bp.app_template_global()
def sourcing_colour(status: StrEnum) -> str:
    return STATUS_COLOURS.get(status.value, "secondary")


@bp.app_template_global()
def sourcing_unit(unit: str) -> str:
    return unit_name(unit)


# --- Helpers --------------------------------------------------------------------------------------------


def _viewer() -> User | None:
    return current_actor() if current_user.is_authenticated else None


def _back(default: str) -> str:
    return safe_next(request.form.get("next"), default)


def _require_order_taker(user: User) -> None:
    if not user.is_order_taker:
        raise PermissionDenied(N_("Only order takers (with a company profile) can do this."))


def _request_url(request_id: int, anchor: str = "") -> str:
    return url_for("sourcing.request_detail", request_id=request_id) + anchor


def _contract_url(contract_id: int, anchor: str = "") -> str:
    return url_for("sourcing.contract", contract_id=contract_id) + anchor


# --- The order taker's dashboard and the requests board --------------------------------------------------


@bp.route("/sourcing")
@login_required
def dashboard() -> str:
    """The order taker's requests, quotes, contracts and deliveries; others learn how to become one."""
    user = current_actor()
    if not user.is_order_taker:
        return render_template("sourcing/not_taker.html")
    board = services.taker_dashboard(db_session(), user)
    return render_template("sourcing/dashboard.html", board=board, action_form=ActionForm(), today=date.today())


@bp.route("/sourcing/requests")
def board() -> str:
    """Requests taking quotes (public), optionally only those delivered to one province."""
    provinces = regions.provinces()
    province = request.args.get("province") or None
    if province not in {p.code for p in provinces}:
        province = None
    found = services.open_requests(db_session(), province)
    if province:  # the service lists the province's own first: keep only those
        found = [r for r in found if r.province_code == province]
    return render_template("sourcing/requests.html", requests=found, province=province, provinces=provinces)


def _chain_items() -> list[SelectChoice]:
    """The products of every chain, as "<chain slug>/<item>"."""
    choices = [SelectChoice("", _("No: the item named above"))]
    for chain in chains.chains(db_session()):
        seen: set[str] = set()
        for process in chain.processes:
            for flow in process.flows:
                if flow.direction == "out" and flow.item not in seen:
                    seen.add(flow.item)
                    choices.append(SelectChoice(f"{chain.slug}/{flow.item}",
                                                f"{chain.name}: {flow.item_name} ({unit_name(flow.unit)})"))
    return choices


def _fill_regions(form: RequestForm) -> None:
    """Provinces, and the kabupaten of the chosen one; a choice that is not on its list is cleared."""
    provinces = regions.provinces()
    if form.province_code.data not in {p.code for p in provinces}:
        form.province_code.data = ""
    form.province_code.choices = [SelectChoice("", _("Choose"))] + [SelectChoice(p.code, p.name) for p in provinces]
    regencies = regions.children(form.province_code.data) if form.province_code.data else ()
    if form.regency_code.data not in {r.code for r in regencies}:
        form.regency_code.data = ""
    form.regency_code.choices = [SelectChoice("", _("Anywhere in the province"))] + [
        SelectChoice(r.code, r.name) for r in regencies]


@bp.route("/sourcing/requests/new", methods=["GET", "POST"])
@login_required
def new_request() -> str | Response:
    user = current_actor()
    _require_order_taker(user)
    form = RequestForm()
    form.item.choices = _chain_items()
    _fill_regions(form)
    # "Show the kabupaten" in the region picker only reloads the form with the list filled.
    if not request.form.get("refresh_regions") and form.validate_on_submit():
        chain_slug, _sep, item = (form.item.data or "").partition("/")
        data = services.RequestInput(
            item_name=form.item_name.data or "", quantity=form.quantity.data or "", unit=form.unit.data or "",
            schedule=form.schedule.data or "", starts_on=form.starts_on.data, until=form.until.data,
            province_code=form.province_code.data or "", regency_code=form.regency_code.data or None,
            target_price=form.target_price.data or None, chain_slug=chain_slug or None, item=item or None,
            note=form.note.data or "")
        try:
            created = services.create_request(db_session(), user, data)
        except DomainError as error:
            reject_form(form, error)
        else:
            request_id = created.id
            db_session().commit()
            flash(_("Your request is posted: KUBEs can now send their quotes."), "success")
            return redirect(_request_url(request_id))
    return render_template("sourcing/request_form.html", form=form)


# --- One request and its quotes --------------------------------------------------------------------------


def _request_page(request_id: int, quote_form: QuoteForm | None = None) -> str:
    session = db_session()
    found = services.get_request(session, request_id)
    user = _viewer()
    kubes, managed = services.quote_options(session, user)
    is_taker = user is not None and found.order_taker_id == user.id
    if user is not None and (is_taker or user.is_operator):
        quotes = list(found.quotes)
    else:  # a KUBE's officers and a chain's managers see their own quotes only
        kube_ids, chain_ids = {k.id for k in kubes}, {c.id for c in managed}
        quotes = [q for q in found.quotes if q.kube_id in kube_ids or q.chain_id in chain_ids]
    chains_for = [c for c in managed
                  if found.item in {f.item for p in c.processes for f in p.flows if f.direction == "out"}]
    form = quote_form or QuoteForm(data={"quantity": quantity(found.quantity)})
    form.quote_for.choices = [SelectChoice(f"kube:{k.id}", k.name) for k in kubes] + [
        SelectChoice(f"chain:{c.slug}", _("%(name)s (the whole integrated business)", name=c.name))
        for c in chains_for]
    can_quote = found.status == RequestStatus.OPEN and not is_taker and bool(form.quote_for.choices)
    return render_template("sourcing/request.html", req=found, quotes=quotes, is_taker=is_taker, form=form,
                           can_quote=can_quote, action_form=ActionForm(), QuoteStatus=QuoteStatus,
                           RequestStatus=RequestStatus)


@bp.route("/sourcing/requests/<id:request_id>")
def request_detail(request_id: int) -> str:
    return _request_page(request_id)


@bp.route("/sourcing/requests/<id:request_id>/quotes", methods=["POST"])
@login_required
def make_quote(request_id: int) -> str | Response:
    """A KUBE's officers quote for their KUBE; a chain's managers for the whole chain."""
    form = QuoteForm()
    if form.validate_on_submit():
        kind, _sep, value = (form.quote_for.data or "").partition(":")
        try:
            kube_id = clean_int(value, field="quote_for", minimum=1, maximum=MAX_ID) if kind == "kube" else None
            services.make_quote(db_session(), current_actor(), request_id,
                                price_per_unit=form.price_per_unit.data or "", quantity=form.quantity.data or "",
                                kube_id=kube_id, chain_slug=value if kind == "chain" else None,
                                note=form.note.data or "")
        except DomainError as error:
            reject_form(form, error)
        else:
            db_session().commit()
            flash(_("Your quote is sent to the order taker."), "success")
            return redirect(_request_url(request_id, "#quotes"))
    return _request_page(request_id, form)


def _quote_of_request(request_id: int, quote_id: int) -> None:
    """404 unless the quote of the URL belongs to the request of the URL."""
    found = services.get_request(db_session(), request_id)
    if quote_id not in {quote.id for quote in found.quotes}:
        abort(404)


@bp.route("/sourcing/requests/<id:request_id>/quotes/<id:quote_id>/withdraw", methods=["POST"])
@login_required
def withdraw_quote(request_id: int, quote_id: int) -> Response:
    _quote_of_request(request_id, quote_id)
    one_button_step(lambda: services.withdraw_quote(db_session(), current_actor(), quote_id),
                _("Your quote is withdrawn."))
    return redirect(_back(_request_url(request_id, "#quotes")))


@bp.route("/sourcing/requests/<id:request_id>/quotes/<id:quote_id>/decline", methods=["POST"])
@login_required
def decline_quote(request_id: int, quote_id: int) -> Response:
    _quote_of_request(request_id, quote_id)
    one_button_step(lambda: services.decline_quote(db_session(), current_actor(), quote_id),
                    _("The quote is declined."))
    return redirect(_back(_request_url(request_id, "#quotes")))


@bp.route("/sourcing/requests/<id:request_id>/quotes/<id:quote_id>/accept", methods=["POST"])
@login_required
def accept_quote(request_id: int, quote_id: int) -> Response:
    """The order taker accepts a quote: a supply contract is made at the platform's current fee."""
    _quote_of_request(request_id, quote_id)
    if ActionForm().validate_on_submit():
        try:
            contract = services.accept_quote(db_session(), current_actor(), quote_id,
                                             int(current_app.config["PLATFORM_FEE_BPS"]))
        except DomainError as error:
            flash_refusal(error)
        else:
            contract_id, code = contract.id, contract.code
            db_session().commit()
            flash(_("Contract %(code)s is made: the supplier delivers against it.", code=code), "success")
            return redirect(_contract_url(contract_id))
    return redirect(_back(_request_url(request_id, "#quotes")))


@bp.route("/sourcing/requests/<id:request_id>/close", methods=["POST"], defaults={"cancel": False})
@bp.route("/sourcing/requests/<id:request_id>/cancel", methods=["POST"], defaults={"cancel": True})
@login_required
def close_request(request_id: int, cancel: bool) -> Response:
    """The order taker stops taking quotes (close) or withdraws the request (cancel)."""
    one_button_step(lambda: services.close_request(db_session(), current_actor(), request_id, cancel=cancel),
                _("The request is cancelled.") if cancel else _("The request is closed: no more quotes."))
    return redirect(_request_url(request_id))


# --- A contract and its deliveries -----------------------------------------------------------------------


def _contract_page(contract_id: int, delivery_form: DeliveryForm | None = None) -> str:
    session, user = db_session(), current_actor()
    found = services.read_contract(session, user, contract_id)
    view = services.contract_view(found, date.today())
    supplier_ids = services.supplier_kube_ids(session, found)
    # Members of a supplying KUBE deliver from their KUBE's lots of the contract's item.
    delivering = sorted({m.kube_id for m in user.memberships} & supplier_ids)
    lots = [(lot, left) for kube_id in delivering for lot, left in services.kube_lots(session, kube_id)
            if lot.item == found.item and left > 0]
    form = delivery_form or DeliveryForm()
    form.lot_code.choices = [
        SelectChoice(lot.code, _("%(code)s: %(left)s %(unit)s left, made %(day)s", code=lot.code,
                                 left=quantity(left), unit=unit_name(lot.unit), day=format_date(lot.made_on)))
        for lot, left in lots]
    form.due_on.choices = [
        SelectChoice(due.day.isoformat(), _("%(day)s: %(left)s %(unit)s to deliver", day=format_date(due.day),
                                            left=quantity(due.outstanding), unit=unit_name(found.unit)))
        for due in view.schedule if due.outstanding > 0]
    active = found.status == ContractStatus.ACTIVE
    return render_template(
        "sourcing/contract.html", contract=found, view=view, form=form, today=date.today(),
        can_deliver=active and bool(delivering), has_lots=bool(lots),
        can_end=active and services.can_end_contract(session, user, found),
        is_taker=found.order_taker_id == user.id, action_form=ActionForm(), DeliveryStatus=DeliveryStatus)


@bp.route("/sourcing/contracts/<id:contract_id>")
@login_required
def contract(contract_id: int) -> str:
    """The terms, the schedule with what is still due, and the deliveries (for the parties and operators)."""
    return _contract_page(contract_id)


@bp.route("/sourcing/contracts/<id:contract_id>/deliveries", methods=["POST"])
@login_required
def record_delivery(contract_id: int) -> str | Response:
    """A supplying KUBE's member records goods sent from one of its lots."""
    user = current_actor()
    services.read_contract(db_session(), user, contract_id)  # outsiders: 404
    form = DeliveryForm()
    if form.validate_on_submit():
        try:
            services.record_delivery(db_session(), user, contract_id, lot_code=form.lot_code.data or "",
                                     quantity=form.quantity.data or "", due_on=form.due_on.data or "",
                                     delivered_on=form.delivered_on.data)
        except DomainError as error:
            reject_form(form, error)
        else:
            db_session().commit()
            flash(_("The delivery is recorded. The order taker confirms it when it arrives."), "success")
            return redirect(_contract_url(contract_id, "#deliveries"))
    return _contract_page(contract_id, form)


@bp.route("/sourcing/contracts/<id:contract_id>/deliveries/<id:delivery_id>/received", methods=["POST"])
@login_required
def confirm_received(contract_id: int, delivery_id: int) -> Response:
    found = services.read_contract(db_session(), current_actor(), contract_id)
    if delivery_id not in {d.id for d in found.deliveries}:
        abort(404)
    one_button_step(lambda: services.confirm_received(db_session(), current_actor(), delivery_id),
                _("Thank you! The delivery is confirmed as received."))
    return redirect(_back(_contract_url(contract_id, "#deliveries")))


@bp.route("/sourcing/contracts/<id:contract_id>/cancel", methods=["POST"])
@login_required
def cancel_contract(contract_id: int) -> Response:
    """Either side ends the contract early; what was delivered stays and is paid."""
    one_button_step(lambda: services.cancel_contract(db_session(), current_actor(), contract_id),
                _("The contract is ended. Deliveries already sent are still paid."))
    return redirect(_contract_url(contract_id))


# --- A KUBE's side: requests to quote, its quotes and contracts, its lots ----------------------------------


def _process_outputs(kube_id: int) -> tuple[list[SelectChoice], list[SupplyChain]]:
    """What the KUBE makes in the chains whose processes it runs (as "<chain slug>/<process key>/<item>"), and
    those chains."""
    choices, joined = [], []
    for chain in chains.chains(db_session()):
        runs = [p for p in chain.processes if kube_id in {pk.kube_id for pk in p.kubes}]
        if runs:
            joined.append(chain)
        choices += [SelectChoice(f"{chain.slug}/{process.key}/{flow.item}",
                                 f"{chain.name}: {process.name} → {flow.item_name} ({unit_name(flow.unit)})")
                    for process in runs for flow in process.flows if flow.direction == "out"]
    return choices, joined


def _kube_page(slug: str, lot_form: LotForm | None = None) -> str:
    session, user = db_session(), current_actor()
    kube = catalog.kube_by_slug(session, slug, user)
    data = services.kube_sourcing(session, user, kube.id)
    form = lot_form or LotForm()
    outputs, joined = _process_outputs(kube.id)
    form.output.choices = [SelectChoice("", _("No: name the item below")), *outputs]
    for row in form.joint:
        row.form.output.choices = [SelectChoice("", "—"), *outputs]
    items = sorted({c.contract.item_name for c in data.contracts})
    late = [(c, due) for c in data.contracts for due in c.late]
    due = [(c, due) for c in data.contracts for due in c.due]
    handover = services.handover_options(session, [lot for lot, left in data.lots if left > 0])
    return render_template("sourcing/kube.html", kube=kube, data=data, form=form, items=items, late=late, due=due,
                           handover=handover, handover_form=HandoverForm(),
                           chains=joined, actions=allowed_actions(session, user, kube), Action=Action,
                           QuoteStatus=QuoteStatus)


@bp.route("/my-kube/<slug>/sourcing")
@login_required
def kube_page(slug: str) -> str:
    """For the KUBE's members: order takers' requests, the KUBE's quotes, contracts and lots."""
    return _kube_page(slug)


@bp.route("/my-kube/<slug>/sourcing/lots", methods=["POST"])
@login_required
def record_lot(slug: str) -> str | Response:
    """A batch the KUBE made, from the lots it used: what makes a delivery traceable."""
    user = current_actor()
    kube = catalog.kube_by_slug(db_session(), slug, user)
    form = LotForm()
    if form.validate_on_submit():
        chain_slug = process_key = None
        item = ""
        if form.output.data:
            chain_slug, _sep, rest = form.output.data.partition("/")
            process_key, _sep, item = rest.partition("/")
        joint = form.joint_pairs()
        outputs: list[tuple[str, object]] = []
        if joint:  # joint products of the same run: one lot each, one batch
            outputs.append((item, form.quantity.data or ""))
            for output, made in joint:
                other_chain, _sep, rest = output.partition("/")
                other_process, _sep, other_item = rest.partition("/")
                if (other_chain, other_process) != (chain_slug, process_key):
                    form.joint.errors.append(_("Products made together come from the same process as the "
                                               "first one."))
                    return _kube_page(slug, form)
                outputs.append((other_item, made))
        data = services.LotInput(kube_id=kube.id, item=item, quantity=form.quantity.data or "",
                                 made_on=form.made_on.data, sources=form.source_pairs(), chain_slug=chain_slug,
                                 process_key=process_key, item_name=form.item_name.data or "",
                                 unit=form.unit.data or "", note=form.note.data or "", outputs=outputs)
        try:
            lots = services.record_lots(db_session(), user, data)
        except DomainError as error:
            reject_form(form, error)
        else:
            codes = ", ".join(lot.code for lot in lots)
            db_session().commit()
            flash(ngettext("Lot %(codes)s is recorded. Write the code on its sacks or boxes.",
                           "Lots %(codes)s are recorded. Write each code on its sacks or boxes.",
                           len(lots), codes=codes), "success")
            return redirect(url_for("sourcing.kube_page", slug=slug) + "#lots")
    return _kube_page(slug, form)


# --- The public trace of a lot ---------------------------------------------------------------------------


@bp.route("/my-kube/<slug>/sourcing/lots/<code>/handover", methods=["POST"])
@login_required
def hand_over(slug: str, code: str) -> Response:
    """A KUBE hands a chain lot over to the KUBE that makes its goods from it (or takes it back)."""
    user = current_actor()
    kube = catalog.kube_by_slug(db_session(), slug, user)
    if len(code) > 24:
        abort(404)
    lot = services.lot_by_code(db_session(), code)
    if lot.kube_id != kube.id:
        abort(404)
    form = HandoverForm()
    if form.validate_on_submit():
        raw = form.kube.data or ""
        if raw and (not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_ID):
            abort(400)
        target = int(raw) if raw else None
        one_button_step(lambda: services.hand_over(db_session(), user, code, target),
                    _("Lot %(code)s is handed over.", code=lot.code) if target else
                    _("Lot %(code)s is back with your KUBE.", code=lot.code))
    return redirect(url_for("sourcing.kube_page", slug=slug) + "#lots")


@bp.route("/lots/<code>")
def lot(code: str) -> str:
    """Where a lot came from (every source lot and its KUBE) and where it went (lots made from it, deliveries)."""
    if len(code) > 24:
        abort(404)
    return render_template("sourcing/lot.html", trace=services.trace(db_session(), code, _viewer()))


# --- Operators: the order takers' payments of deliveries -------------------------------------------------


@bp.route("/admin/contract-payments", methods=["GET", "POST"])
@login_required
def contract_payments() -> str | Response:
    """Deliveries not yet paid, and the form to record an order taker's bank transfer for one of them."""
    user = current_actor()
    waiting = services.deliveries_to_pay(db_session(), user)  # operators only: checked before the form
    form = DeliveryPaidForm()
    if form.validate_on_submit():
        try:
            delivery_id = clean_int(form.delivery_id.data, field="delivery_id", minimum=1, maximum=MAX_ID)
            paid = services.record_delivery_payment(db_session(), user, delivery_id, form.reference.data or "")
        except DomainError as error:
            reject_form(form, error)
            waiting = services.deliveries_to_pay(db_session(), user)
        else:
            amount, code = paid.amount, paid.contract.code
            db_session().commit()
            flash(_("The payment of %(amount)s for contract %(code)s is recorded; the KUBEs' ledgers are credited.",
                    amount=rupiah(amount), code=code), "success")
            return redirect(url_for("sourcing.contract_payments"))
    return render_template("sourcing/payments.html", deliveries=waiting, form=form, DeliveryStatus=DeliveryStatus)


# --- A chain's revenue by KUBE ---------------------------------------------------------------------------


@bp.route("/chains/<slug>/revenue")
@login_required
def chain_revenue(slug: str) -> str:
    """What the chain's paid deliveries brought each of its KUBEs (for its KUBEs, facilitators and operators)."""
    chain, rows = services.revenue_report(db_session(), current_actor(), slug)
    return render_template("sourcing/revenue.html", chain=chain, rows=rows)

