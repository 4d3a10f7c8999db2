"""The audit log for operators: GET /admin/audit (filters, newest first, page by page) and GET
/admin/audit/audit.csv (the filtered log). Read only: there is no route that changes an event."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import labels
from marketplace.audit import bp, services
from marketplace.audit.models import AuditEvent
from marketplace.catalog.models import KubeStatus, MemberRole, ProductStatus
from marketplace.common import N_, ValidationError
from marketplace.extensions import db
from marketplace.i18n import error_text
from marketplace.orders.models import OrderStatus
from marketplace.web import current_actor, db_session, query_int, rupiah

FILTER_ARGS = ("action", "actor", "kube", "target", "target_id", "from", "to")

# The keys record() is given, by their label (an unknown key is shown as it is).
DETAIL_LABELS: dict[str, str] = {
    "status": N_("Status"),
    "price": N_("Price"),
    "amount": N_("Amount"),
    "role": N_("Role"),
    "note": N_("Note"),
    "reference": N_("Bank reference"),
    "provider": N_("Payment provider"),
    "bank_name": N_("Bank"),
    "account_number": N_("Account number"),
    "account_holder": N_("Account holder"),
    "is_operator": N_("Operator"),
    "is_facilitator": N_("Facilitator"),
    "is_ministry": N_("Ministry / Dinas Sosial"),
    "is_disabled": N_("Disabled"),
    "order_id": N_("Order"),
    "checkout_id": N_("Checkout"),
}
_MONEY = {"price", "amount"}


@bp.before_app_request
def _remember_client_ip() -> None:
    """Services record the client's address with each audit event (they never see the request)."""
    db.session.info[services.CLIENT_IP] = request.remote_addr


@bp.teardown_app_request
def _forget_client_ip(error: BaseException | None) -> None:
    if db.session.registry.has():
        db.session.info.pop(services.CLIENT_IP, None)


@bp.before_request
def _operators_only() -> None:
    if current_user.is_authenticated and not current_user.is_operator:
        abort(403)


def _status_label(action: str, value: str) -> str:
    enum: Any = OrderStatus if action.startswith("order.") else \
        ProductStatus if action.startswith("product.") else KubeStatus
    try:
        return labels.status_label(enum(value))
    except ValueError:
        return value


def _value(action: str, key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key in _MONEY and isinstance(value, int):
        return rupiah(value)
    if key == "status" and isinstance(value, str):
        return _status_label(action, value)
    if key == "role" and value in MemberRole._value2member_map_:
        return labels.role_label(MemberRole(value))
    return str(value)


def detail_lines(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's details as (label, value) lines; a change reads "old → new"."""
    lines = []
    for key, value in sorted(services.details_of(event).items()):
        label = _(DETAIL_LABELS[key]) if key in DETAIL_LABELS else key
        if isinstance(value, dict) and set(value) <= {"from", "to"}:
            text = f"{_value(event.action, key, value.get('from'))} → {_value(event.action, key, value.get('to'))}"
        else:
            text = _value(event.action, key, value)
        lines.append((label, text))
    return lines


def action_label(code: str) -> str:
    return _(services.ACTIONS[code]) if code in services.ACTIONS else code


def role_label(code: str) -> str:
    return _(services.ROLES[code]) if code in services.ROLES else code


def _typed() -> dict[str, str]:
    return {name: (request.args.get(name) or "").strip()[:254] for name in FILTER_ARGS}


def _filters() -> services.Filters:
    args = request.args
    return services.clean_filters(action=args.get("action"), actor=args.get("actor"), kube=args.get("kube"),
                                  target=args.get("target"), target_id=args.get("target_id"),
                                  first=args.get("from"), last=args.get("to"))


@bp.route("/")
@login_required
def index() -> str:
    user = current_actor()
    session = db_session()
    context: dict[str, Any] = {
        "typed": _typed(), "kubes": services.kube_choices(session, user), "actions": services.ACTIONS,
        "targets": services.TARGET_TYPES, "action_label": action_label, "role_label": role_label,
        "detail_lines": detail_lines,
    }
    try:
        filters = _filters()
    except ValidationError as error:
        return render_template("audit/index.html", page=None, filters=None,
                               errors={error.field or "action": error_text(error)}, **context)
    page = services.events(session, user, filters, before=query_int("before", minimum=1),
                           after=query_int("after", minimum=1))
    return render_template("audit/index.html", page=page, filters=filters, errors={}, **context)


@bp.route("/audit.csv")
@login_required
def export() -> Response:
    """The filtered log as CSV (a bad filter is a 400 page: there is no form to show it on)."""
    user = current_actor()
    try:
        filters = _filters()
    except ValidationError:
        abort(400)
    body = services.events_csv(db_session(), user, filters, action_label=action_label)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
