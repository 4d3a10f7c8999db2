"""Operator pages for partners' webhooks: endpoints, their secrets, and the delivery log."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from marketplace.common import DomainError, Page
from marketplace.extensions import db
from marketplace.forms import ActionForm
from marketplace.web import current_actor, db_session, flash_refusal, query_page, reject_form
from marketplace.webhooks import bp, services
from marketplace.webhooks.forms import EndpointForm
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


@bp.before_request
def _operators_only() -> None:
    if current_user.is_authenticated and not current_user.is_operator:
        abort(403)


def _settings() -> services.Settings:
    return services.Settings.from_config(current_app.config["WEBHOOKS"])


def _input(form: EndpointForm) -> services.EndpointInput:
    return services.EndpointInput(url=form.url.data or "", description=form.description.data or "",
                                  events=list(form.events.data or []))


def _show_secret(endpoint: WebhookEndpoint, secret: str, rotated: bool) -> Response:
    """The secret, this once: it is never shown again (and never put in a cookie or a cached page)."""
    response = make_response(render_template("webhooks/secret.html", endpoint=endpoint, secret=secret,
                                             rotated=rotated))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@login_required
def index() -> str:
    rows = services.endpoints(db_session(), current_actor())
    return render_template("webhooks/index.html", rows=rows, form=ActionForm())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_endpoint() -> str | Response:
    form = EndpointForm()
    form.fill_choices()
    if form.validate_on_submit():
        try:
            endpoint, secret = services.create_endpoint(db_session(), current_actor(), _input(form), _settings())
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            return _show_secret(endpoint, secret, rotated=False)
    return render_template("webhooks/form.html", form=form, endpoint=None)


@bp.route("/<id:endpoint_id>/edit", methods=["GET", "POST"])
@login_required
def edit_endpoint(endpoint_id: int) -> str | Response:
    endpoint = services.get_endpoint(db_session(), current_actor(), endpoint_id)
    form = EndpointForm(obj=endpoint)
    form.fill_choices()
    if form.validate_on_submit():
        try:
            services.update_endpoint(db_session(), current_actor(), endpoint_id, _input(form), _settings())
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            flash(_("The endpoint is saved."), "success")
            return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    return render_template("webhooks/form.html", form=form, endpoint=endpoint)


def _set_active(endpoint_id: int, active: bool) -> Response:
    if ActionForm().validate_on_submit():
        try:
            services.set_active(db_session(), current_actor(), endpoint_id, active)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("The endpoint is active again; waiting deliveries go out now.") if active
                  else _("The endpoint is deactivated: it gets no new events."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.route("/<id:endpoint_id>/deactivate", methods=["POST"])
@login_required
def deactivate(endpoint_id: int) -> Response:
    return _set_active(endpoint_id, False)


@bp.route("/<id:endpoint_id>/activate", methods=["POST"])
@login_required
def activate(endpoint_id: int) -> Response:
    return _set_active(endpoint_id, True)


@bp.route("/<id:endpoint_id>/rotate", methods=["POST"])
@login_required
def rotate(endpoint_id: int) -> Response:
    if ActionForm().validate_on_submit():
        try:
            endpoint, secret = services.rotate_secret(db_session(), current_actor(), endpoint_id)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            return _show_secret(endpoint, secret, rotated=True)
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.route("/<id:endpoint_id>/test", methods=["POST"])
@login_required
def send_test(endpoint_id: int) -> Response:
    if ActionForm().validate_on_submit():
        try:
            services.send_test(db_session(), current_actor(), endpoint_id)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("A test event is queued; the delivery worker sends it within seconds."), "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


def _filters() -> tuple[str, str]:
    """The log's filters from the query string (unknown values are ignored)."""
    status = request.args.get("status", "")
    event = request.args.get("event", "")
    return (status if status in {s.value for s in DeliveryStatus} else "",
            event if event in services.EVENTS or event == services.TEST_EVENT else "")


def _log_page(endpoint: WebhookEndpoint | None) -> str:
    status, event = _filters()
    page: Page[WebhookDelivery] = services.deliveries(
        db_session(), current_actor(), endpoint_id=endpoint.id if endpoint else None, status=status,
        event_type=event, page=query_page())
    args: dict[str, Any] = {k: v for k, v in (("status", status), ("event", event)) if v}
    if endpoint:
        args["endpoint_id"] = endpoint.id
    here = request.endpoint or "webhooks.deliveries"
    return render_template("webhooks/log.html", endpoint=endpoint, page=page, status=status, event=event,
                           statuses=list(DeliveryStatus), events=[*services.EVENTS, services.TEST_EVENT],
                           prev_url=url_for(here, **args, page=page.page - 1) if page.has_prev else None,
                           next_url=url_for(here, **args, page=page.page + 1) if page.has_next else None,
                           form=ActionForm())


@bp.route("/<id:endpoint_id>")
@login_required
def endpoint(endpoint_id: int) -> str:
    return _log_page(services.get_endpoint(db_session(), current_actor(), endpoint_id))


@bp.route("/deliveries")
@login_required
def deliveries() -> str:
    return _log_page(None)


@bp.route("/deliveries/<id:delivery_id>")
@login_required
def delivery(delivery_id: int) -> str:
    item = services.get_delivery(db_session(), current_actor(), delivery_id)
    return render_template("webhooks/delivery.html", delivery=item, form=ActionForm())


@bp.route("/deliveries/<id:delivery_id>/retry", methods=["POST"])
@login_required
def retry(delivery_id: int) -> Response:
    if ActionForm().validate_on_submit():
        try:
            services.retry_now(db_session(), current_actor(), delivery_id)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("The delivery is queued again."), "success")
    return redirect(url_for("webhooks.delivery", delivery_id=delivery_id))
