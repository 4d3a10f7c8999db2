"""The Stripe webhook and the operator's list of refunds to send by bank transfer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from marketplace.common import DomainError, clean_int
from marketplace.extensions import csrf, db
from marketplace.orders.models import PaymentMethod
from marketplace.payments import bp, services
from marketplace.payments.forms import RefundSentForm
from marketplace.payments.providers import Payments, from_config
from marketplace.web import (
    MAX_ID,
    apply_error,
    current_actor,
    db_session,
    error_text,
    json_error,
    raise_if_not_form_error,
    rupiah,
)


@bp.record_once
def _init(state: object) -> None:
    app: Flask = state.app  # type: ignore[attr-defined]
    app.extensions["payments"] = from_config(app.config)


def current_payments() -> Payments:
    """The providers of this app (manual always; Stripe when its keys are set)."""
    payments: Payments = current_app.extensions["payments"]
    return payments


def checkout_settings() -> dict[str, Any]:
    """What place_checkout takes from this app's settings: providers, the platform's fee, payment windows."""
    config = current_app.config
    return {
        "payments": current_payments(),
        "fee_bps": config["PLATFORM_FEE_BPS"],
        "payment_windows": {PaymentMethod.MANUAL: timedelta(minutes=config["TRANSFER_WINDOW_MINUTES"]),
                            PaymentMethod.STRIPE: timedelta(minutes=config["CARD_WINDOW_MINUTES"]),
                            PaymentMethod.COD: timedelta(minutes=config["COD_WINDOW_MINUTES"])},
    }


def settle_after_commit(checkout_id: int) -> None:
    """Once a cancellation or a payment is committed: send a card checkout's refunds, resize its intent.
    This is a second transaction on purpose: money goes out only for what is already committed."""
    services.settle_card(db_session(), current_payments(), checkout_id)
    db_session().commit()


@bp.route("/payments/stripe/webhook", methods=["POST"])
@csrf.exempt
def stripe_webhook() -> Response | tuple[Response, int]:
    """Stripe's events: 400 for a bad signature (nothing changes), 200 once processed or already seen. A
    failure answers 5xx and Stripe delivers again."""
    payload = request.get_data(cache=False)
    signature = request.headers.get("Stripe-Signature", "")
    try:
        outcome, checkout_id = services.handle_stripe_webhook(db_session(), current_payments(), payload,
                                                              signature)
        db_session().commit()
        if checkout_id is not None:
            settle_after_commit(checkout_id)
    except DomainError as error:
        db_session().rollback()
        return json_error(error.status, error.code, error_text(error))
    except IntegrityError:  # the same event, processed by a concurrent delivery
        db_session().rollback()
        outcome = "duplicate"
    return jsonify({"received": True, "outcome": outcome}), 200


@bp.route("/admin/refunds", methods=["GET", "POST"])
@login_required
def refunds() -> str | Response:
    """Refunds of bank transfers that an operator must send back, and the form to record each one."""
    form = RefundSentForm()
    if form.validate_on_submit():
        try:
            refund_id = clean_int(form.refund_id.data, field="refund_id", minimum=1, maximum=MAX_ID)
            refund = services.mark_refund_sent(db_session(), current_actor(), refund_id, form.reference.data or "")
        except DomainError as error:
            db_session().rollback()
            raise_if_not_form_error(error)
            apply_error(form, error)
        else:
            amount = refund.amount
            db.session.commit()
            flash(_("The refund of %(amount)s is recorded as sent.", amount=rupiah(amount)), "success")
            return redirect(url_for("payments.refunds"))
    found = services.pending_refunds(db_session(), current_actor())
    return render_template("payments/refunds.html", refunds=found, form=form)
