"""The facilitator's (pendamping's) pages: the review queue, their KUBEs, registering a new KUBE."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from marketplace.auth.models import User
from marketplace.catalog import services
from marketplace.catalog.models import KubeStatus
from marketplace.common import N_, DomainError
from marketplace.extensions import db
from marketplace.facilitator import bp
from marketplace.facilitator.forms import ActionForm, KubeForm, SendBackForm
from marketplace.web import current_actor, db_session, flash_refusal, reject_form

_ANCHOR = re.compile(r"#[a-z][a-z0-9-]{0,40}")




@bp.before_request
def _facilitators_only() -> None:
    """Signed-in facilitators and operators only (the services check each KUBE again)."""
    if current_user.is_authenticated and not (current_user.is_facilitator or current_user.is_operator):
        abort(403)


@bp.route("/")
@login_required
def queue() -> str:
    user = current_actor()
    data = services.review_queue(db_session(), user)
    return render_template(
        "facilitator/queue.html",
        queue=data,
        kubes=services.kubes_of_facilitator(db_session(), user),
        action_form=ActionForm(),
        KubeStatus=KubeStatus,
    )


def _run(work: Callable[[Session, User], object], message: str, **params: object) -> None:
    """Run one review action and commit, or roll back and flash why not (403/404 become error pages)."""
    try:
        work(db_session(), current_actor())
    except DomainError as error:
        flash_refusal(error)
    else:
        db.session.commit()
        flash(_(message, **params), "success")


def _back(product_id: int | None = None) -> Response:
    """Back to the queue at the section the action came from, or to the product page it was made on."""
    if product_id is not None and request.form.get("next") == "product":
        return redirect(url_for("catalog.product", product_id=product_id))
    anchor = request.form.get("anchor") or ""
    return redirect(url_for("facilitator.queue") + (anchor if _ANCHOR.fullmatch(anchor) else ""))


@bp.route("/products/<id:product_id>/approve", methods=["POST"])
@login_required
def approve_product(product_id: int) -> Response:
    if ActionForm().validate_on_submit():
        _run(lambda s, u: services.approve_product(s, u, product_id),
             N_("The product is approved and on sale."))
    return _back(product_id)


@bp.route("/products/<id:product_id>/send-back", methods=["POST"])
@login_required
def reject_product(product_id: int) -> Response:
    form = SendBackForm()
    if form.validate_on_submit():
        _run(lambda s, u: services.reject_product(s, u, product_id, form.note.data or ""),
             N_("The product is sent back to the KUBE with your note."))
    else:
        flash(" ".join(str(e) for e in form.note.errors), "danger")
    return _back(product_id)


_KUBE_ACTIONS = {
    "verify": (services.verify_kube, N_("The KUBE is verified and now visible to buyers.")),
    "suspend": (services.suspend_kube, N_("The KUBE is suspended; its shop is hidden.")),
    "reinstate": (services.activate_kube, N_("The KUBE is active again.")),
}


@bp.route("/kubes/<id:kube_id>/verify", methods=["POST"], defaults={"verb": "verify"})
@bp.route("/kubes/<id:kube_id>/suspend", methods=["POST"], defaults={"verb": "suspend"})
@bp.route("/kubes/<id:kube_id>/reinstate", methods=["POST"], defaults={"verb": "reinstate"})
@login_required
def kube_action(kube_id: int, verb: str) -> Response:
    """Verify a draft KUBE, suspend a public one, or lift a suspension."""
    if ActionForm().validate_on_submit():
        service, message = _KUBE_ACTIONS[verb]
        _run(lambda s, u: service(s, u, kube_id), message)
    return _back()


@bp.route("/kubes/new", methods=["GET", "POST"])
@login_required
def new_kube() -> str | Response:
    form = KubeForm()
    form.fill_choices()
    # "Show the next list" in the region picker only reloads the form with the lists filled.
    if not request.form.get("refresh_regions") and form.validate_on_submit():
        try:
            kube = services.create_kube(db_session(), current_actor(), form.values())
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s is registered as a draft. Add its members, starting with the ketua, "
                    "then verify it.", name=kube.name), "success")
            return redirect(url_for("shop.profile", slug=kube.slug) + "#members")
    return render_template("facilitator/new_kube.html", form=form)
