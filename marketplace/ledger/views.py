"""Pages of the ledger feature: a KUBE's ledger for its people, balances and payouts for operators."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from marketplace.catalog import services as catalog
from marketplace.catalog.permissions import Action, allowed_actions
from marketplace.common import DomainError
from marketplace.extensions import db
from marketplace.ledger import bp, services
from marketplace.ledger.forms import PayoutForm
from marketplace.ledger.models import EntryKind
from marketplace.web import current_actor, db_session, query_page, reject_form, rupiah

PER_PAGE = 50


@bp.route("/my-kube/<slug>/ledger")
@login_required
def kube_ledger(slug: str) -> str:
    """The KUBE's account with the platform, for its members, its facilitator and operators."""
    user = current_actor()
    kube = catalog.kube_by_slug(db_session(), slug, user)
    ledger = services.kube_ledger(db_session(), user, kube.id, page=query_page(), per_page=PER_PAGE)
    return render_template("ledger/kube.html", kube=kube, ledger=ledger, EntryKind=EntryKind,
                           actions=allowed_actions(db_session(), user, kube), Action=Action)


@bp.route("/admin/ledger")
@login_required
def balances() -> str:
    """Operators: what the platform owes each KUBE."""
    return render_template("ledger/balances.html", balances=services.balances(db_session(), current_actor()))


@bp.route("/admin/ledger/<slug>", methods=["GET", "POST"])
@login_required
def kube_payouts(slug: str) -> str | Response:
    """Operators: a KUBE's ledger, and the form to record a bank transfer made to the KUBE."""
    user = current_actor()
    kube = catalog.kube_by_slug(db_session(), slug, user)
    account = services.payout_account(db_session(), user, kube.id)  # operators only: checked before the form
    form = PayoutForm()
    if form.validate_on_submit():
        try:
            payout = services.record_payout(db_session(), user, kube.id, form.amount.data or "",
                                            form.reference.data or "", form.note.data or "")
        except DomainError as error:
            reject_form(form, error)
        else:
            amount, name = payout.amount, kube.name
            db.session.commit()
            flash(_("The payout of %(amount)s to %(name)s is recorded.", amount=rupiah(amount), name=name),
                  "success")
            return redirect(url_for("ledger.kube_payouts", slug=slug))
    ledger = services.kube_ledger(db_session(), user, kube.id, page=query_page(), per_page=PER_PAGE)
    return render_template("ledger/payouts.html", kube=ledger.kube, ledger=ledger, form=form, EntryKind=EntryKind,
                           account=account)
