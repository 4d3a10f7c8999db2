"""Pages of the cash book: a month of a KUBE's book with its shares, and the officers' forms."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from marketplace.books import bp, services
from marketplace.books.forms import EntryForm, SettingsForm
from marketplace.books.models import Direction, ShareBasis
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Kube
from marketplace.catalog.permissions import Action, allowed_actions
from marketplace.common import DomainError, ValidationError, utcnow
from marketplace.extensions import db
from marketplace.forms import ActionForm
from marketplace.media import delete_when_committed, keep_if_committed, store_image
from marketplace.web import (
    current_actor,
    db_session,
    flash_refusal,
    money_chart,
    private_image_limits,
    reject_form,
    send_private_image,
)


def _kube(slug: str) -> Kube:
    return catalog.kube_by_slug(db_session(), slug, current_actor())


def _month_arg() -> date:
    try:
        month = services.parse_month(request.args.get("month"), field="month")
    except ValidationError:
        month = None
    this = services.this_month()
    return min(month, this) if month else this


def _page(kube: Kube, month: date, entry_form: EntryForm | None = None,
          settings_form: SettingsForm | None = None) -> str:
    user = current_actor()
    book = services.month_book(db_session(), user, kube.id, month)
    figures = services.history(db_session(), user, kube.id)
    if entry_form is None:
        today = utcnow().astimezone(services.LOCAL_TZ).date()
        entry_form = EntryForm(formdata=None, occurred_on=min(services.month_end(month), today))
        entry_form.fill_choices()
    if settings_form is None:
        settings_form = SettingsForm(formdata=None, share_basis=book.chosen_basis.value,
                                     contribution_unit=book.unit)
    this = services.this_month()
    return render_template(
        "books/month.html", kube=kube, book=book, chart=money_chart(figures), figures=figures,
        entry_form=entry_form, settings_form=settings_form, button_form=ActionForm(),
        prev_month=services.add_months(month, -1), next_month=services.add_months(month, 1) if month < this else None,
        actions=allowed_actions(db_session(), user, kube), Action=Action, Direction=Direction,
        ShareBasis=ShareBasis,
    )


@bp.route("/my-kube/<slug>/books")
@login_required
def month(slug: str) -> str:
    """A month of the KUBE's cash book (this month by default) for its members, facilitator and operators."""
    return _page(_kube(slug), _month_arg())


def _back(kube: Kube, month: date) -> Response:
    return redirect(url_for("books.month", slug=kube.slug, month=month.strftime("%Y-%m")))


@bp.route("/my-kube/<slug>/books/entries", methods=["POST"])
@login_required
def add_entry(slug: str) -> str | Response:
    """An officer writes income or an expense, with a receipt photo if there is one."""
    kube = _kube(slug)
    user = current_actor()
    services.require_officer(db_session(), user, kube)
    form = EntryForm()
    form.fill_choices()
    if form.validate_on_submit():
        receipt_key = None
        limits = private_image_limits()
        try:
            upload = form.receipt.data
            if upload and upload.filename:
                stored = store_image(upload.stream.read(limits.max_bytes + 1), limits.media_root,
                                     max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, field="receipt")
                receipt_key = stored.key
                keep_if_committed(db_session(), limits.media_root, stored.key)
            entry = services.add_entry(db_session(), user, kube.id, services.EntryInput(
                form.direction.data or "", form.category.data or "", form.amount.data,
                form.occurred_on.data, form.note.data or ""), receipt_key)
        except DomainError as error:
            reject_form(form, error)
        else:
            day = entry.occurred_on
            db.session.commit()
            flash(_("The entry is in the cash book."), "success")
            return _back(kube, services.month_start(day))
    # The page behind the refused form shows the month typed, if it is one the book can show.
    typed = form.occurred_on.data
    month = services.month_start(typed) if typed and typed >= services.EARLIEST_DAY else _month_arg()
    return _page(kube, min(month, services.this_month()), entry_form=form)


@bp.route("/my-kube/<slug>/books/entries/<id:entry_id>/delete", methods=["POST"])
@login_required
def delete_entry(slug: str, entry_id: int) -> Response:
    kube = _kube(slug)
    month = _month_arg()
    if ActionForm().validate_on_submit():
        try:
            entry = services.delete_entry(db_session(), current_actor(), kube.id, entry_id)
        except DomainError as error:
            flash_refusal(error)
        else:
            month = services.month_start(entry.occurred_on)
            if entry.receipt_key:
                delete_when_committed(db_session(), private_image_limits().media_root, entry.receipt_key)
            db.session.commit()
            flash(_("The entry is removed from the cash book."), "success")
    return _back(kube, month)


@bp.route("/my-kube/<slug>/books/contributions", methods=["POST"])
@login_required
def contributions(slug: str) -> Response:
    """An officer records each member's contribution to the month (fields named c-<user id>)."""
    kube = _kube(slug)
    month = _month_arg()
    if ActionForm().validate_on_submit():
        amounts: dict[int, object] = {}
        for name, value in request.form.items():
            if name.startswith("c-") and name[2:].isascii() and name[2:].isdigit() and len(name) < 14:
                amounts[int(name[2:])] = value
        try:
            services.record_contributions(db_session(), current_actor(), kube.id, month, amounts)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("The contributions for %(month)s are saved.", month=format_date(month, "MMMM yyyy")),
                  "success")
    return redirect(url_for("books.month", slug=kube.slug, month=month.strftime("%Y-%m")) + "#shares")


@bp.route("/my-kube/<slug>/books/settings", methods=["POST"])
@login_required
def settings(slug: str) -> str | Response:
    kube = _kube(slug)
    month = _month_arg()
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            services.update_settings(db_session(), current_actor(), kube.id, form.share_basis.data or "",
                                     form.contribution_unit.data or "")
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            flash(_("How the profit is shared is saved."), "success")
            return redirect(url_for("books.month", slug=kube.slug, month=month.strftime("%Y-%m")) + "#shares")
    else:
        services.require_officer(db_session(), current_actor(), kube)
    return _page(kube, month, settings_form=form)


@bp.route("/my-kube/<slug>/books/receipts/<key>")
@login_required
def receipt(slug: str, key: str) -> Response:
    """A receipt photo, for those who read the KUBE's book."""
    if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
        abort(404)
    kube = _kube(slug)
    entry = services.receipt_entry(db_session(), current_actor(), key)
    if entry.kube_id != kube.id:
        abort(404)
    return send_private_image(key, thumb=request.args.get("thumb") == "1")
