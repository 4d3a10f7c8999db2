"""Pages of the privacy feature: "My data" for every user (download, deletion request) and the operators'
list of deletion requests."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from marketplace.common import DomainError, utcnow
from marketplace.extensions import db
from marketplace.forms import ActionForm
from marketplace.privacy import bp, personal, services
from marketplace.privacy.forms import ErasureForm, RefuseForm
from marketplace.privacy.models import ErasureStatus
from marketplace.web import current_actor, db_session, flash_refusal, query_page, reject_form

STATUS_LABELS = {
    ErasureStatus.REQUESTED: _l("Waiting for an operator"),
    ErasureStatus.DONE: _l("Done"),
    ErasureStatus.REFUSED: _l("Refused"),
    ErasureStatus.WITHDRAWN: _l("Withdrawn"),
}
STATUS_COLOURS = {ErasureStatus.REQUESTED: "warning", ErasureStatus.DONE: "success",
                  ErasureStatus.REFUSED: "danger", ErasureStatus.WITHDRAWN: "secondary"}


@bp.app_template_filter("mask_account")
def mask_account(number: str | None) -> str:
    """All but the last 4 digits of a bank account number hidden (lists and histories never need more)."""
    return personal.mask_account(number)


@bp.app_template_global()
def erasure_status_label(status: ErasureStatus) -> str:
    return str(STATUS_LABELS.get(status, status.value))


@bp.app_template_global()
def erasure_status_colour(status: ErasureStatus) -> str:
    return STATUS_COLOURS.get(status, "secondary")


# --- My data ----------------------------------------------------------------------------------------


def _my_page(form: ErasureForm | None = None) -> str:
    user = current_actor()
    requests = services.user_requests(db_session(), user)
    waiting = next((r for r in requests if r.status == ErasureStatus.REQUESTED), None)
    blockers = services.erasure_blockers(db_session(), [user.id])[user.id]
    return render_template("privacy/index.html", requests=requests, waiting=waiting, blockers=blockers,
                           form=form or ErasureForm(), action_form=ActionForm(),
                           answer_by=waiting.requested_at + services.ANSWER_WITHIN if waiting else None)


@bp.route("/account/privacy")
@login_required
def index() -> str:
    return _my_page()


@bp.route("/account/privacy/download")
@login_required
def download() -> Response:
    """Everything held about the signed-in user, as a JSON file."""
    user = current_actor()
    data = services.export_user_data(db_session(), user)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    response = Response(body, mimetype="application/json")
    stamp = utcnow().strftime("%Y%m%d")
    response.headers["Content-Disposition"] = f'attachment; filename="pasar-kube-data-{user.id}-{stamp}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/privacy/erasure", methods=["POST"])
@login_required
def request_erasure() -> str | Response:
    form = ErasureForm()
    if form.validate_on_submit():
        try:
            services.request_erasure(db_session(), current_actor(), form.password.data or "")
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            flash(_("Your request is sent. An operator answers it within 3 × 24 hours."), "success")
            return redirect(url_for("privacy.index"))
    return _my_page(form)


@bp.route("/account/privacy/erasure/<id:request_id>/withdraw", methods=["POST"])
@login_required
def withdraw(request_id: int) -> Response:
    if ActionForm().validate_on_submit():
        try:
            services.withdraw_request(db_session(), current_actor(), request_id)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("Your request is withdrawn: your account stays."), "success")
    return redirect(url_for("privacy.index"))


# --- Operators --------------------------------------------------------------------------------------


@bp.route("/admin/privacy/requests")
@login_required
def requests() -> str:
    """Operators: deletion requests, the waiting ones first, with their age (UU PDP: answer within 3x24 h)."""
    status = request.args.get("status") or None
    page = services.requests_for_operators(db_session(), current_actor(), status=status, page=query_page())
    return render_template("privacy/requests.html", page=page, status=status, statuses=list(ErasureStatus),
                           action_form=ActionForm(), refuse_form=RefuseForm(),
                           limit_hours=int(services.ANSWER_WITHIN / timedelta(hours=1)),
                           ErasureStatus=ErasureStatus)


@bp.route("/admin/privacy/requests/<id:request_id>/erase", methods=["POST"])
@login_required
def carry_out(request_id: int) -> Response:
    if ActionForm().validate_on_submit():
        try:
            services.carry_out_request(db_session(), current_actor(), request_id)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("The account is deleted: its orders stay in the KUBEs' books without the buyer's details."),
                  "success")
    return redirect(url_for("privacy.requests"))


@bp.route("/admin/privacy/requests/<id:request_id>/refuse", methods=["POST"])
@login_required
def refuse(request_id: int) -> Response:
    """An operator refuses a request with a reason (the service checks the role first, then the reason)."""
    form = RefuseForm()
    try:
        services.refuse_request(db_session(), current_actor(), request_id, form.reason.data or "")
    except DomainError as error:
        flash_refusal(error)
    else:
        db.session.commit()
        flash(_("The request is refused; the user sees your reason."), "success")
    return redirect(url_for("privacy.requests"))
