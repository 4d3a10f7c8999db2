"""Operator pages: overview, categories, users and their roles, facilitator assignments, bank transfers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from marketplace.admin import bp
from marketplace.admin.forms import (
    AssignForm,
    CategoryForm,
    ConfirmForm,
    DeleteForm,
    RolesForm,
    UnassignForm,
    UnlockForm,
)
from marketplace.auth import services as accounts
from marketplace.auth.models import User
from marketplace.catalog import services
from marketplace.catalog.models import ProductStatus
from marketplace.common import DomainError
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.search import services as search_services
from marketplace.web import current_actor, db_session, flash_refusal, query_page, reject_form, rupiah


@bp.before_request
def _operators_only() -> None:
    if current_user.is_authenticated and not current_user.is_operator:
        abort(403)




def _form_errors(form: FlaskForm) -> str:
    """A row form's validation errors as one flash message ("Name (English): This field is required.")."""
    return " ".join(f"{field.label.text}: {' '.join(map(str, field.errors))}"
                    for field in form if field.errors) or _("Check the form and try again.")


def _set_roles(actor: User, form: RolesForm) -> User:
    return accounts.set_user_roles(
        db_session(), actor, int(form.user_id.data or 0),
        is_operator=bool(form.is_operator.data),
        is_facilitator=bool(form.is_facilitator.data),
        is_disabled=bool(form.is_disabled.data),
        is_ministry=bool(form.is_ministry.data),
    )


@bp.route("/")
@login_required
def index() -> str:
    overview = services.operator_overview(db_session(), current_actor())
    demand = search_services.search_demand(db_session(), current_actor(), days=30)
    return render_template("admin/index.html", overview=overview, ProductStatus=ProductStatus, demand=demand)


@bp.route("/categories", methods=["GET", "POST"])
@login_required
def categories() -> str | Response:
    user = current_actor()
    tree = services.category_tree(db_session())
    form = CategoryForm(prefix="new")
    form.fill_choices(tree)
    action = request.form.get("action")
    if request.method == "POST" and action == "create":
        if form.validate_on_submit():
            try:
                category = services.save_category(
                    db_session(), user, name_id=form.name_id.data or "", name_en=form.name_en.data or "",
                    parent_id=form.parent(), icon=form.icon.data or "", position=form.position.data or 0,
                )
            except DomainError as error:
                reject_form(form, error)
            else:
                db.session.commit()
                flash(_("Category “%(name)s” is created.", name=category.name_en), "success")
                return redirect(url_for("admin.categories"))
    elif request.method == "POST" and action == "update":
        row = CategoryForm()
        row.fill_choices(tree)
        if not row.validate_on_submit() or not row.category_id.data:
            flash(_form_errors(row), "danger")
        else:
            try:
                category = services.save_category(
                    db_session(), user, category_id=row.category_id.data, name_id=row.name_id.data or "",
                    name_en=row.name_en.data or "", parent_id=row.parent(), icon=row.icon.data or "",
                    position=row.position.data or 0,
                )
            except DomainError as error:
                flash_refusal(error)
            else:
                db.session.commit()
                flash(_("Category “%(name)s” is saved.", name=category.name_en), "success")
                return redirect(url_for("admin.categories"))
    elif request.method == "POST" and action == "delete":
        delete = DeleteForm()
        if delete.validate_on_submit() and delete.category_id.data:
            try:
                services.delete_category(db_session(), user, delete.category_id.data)
            except DomainError as error:
                flash_refusal(error)
            else:
                db.session.commit()
                flash(_("The category is deleted."), "success")
                return redirect(url_for("admin.categories"))
        else:
            flash(_form_errors(delete), "danger")
    elif request.method == "POST":
        abort(400)
    tree = services.category_tree(db_session())
    return render_template("admin/categories.html", tree=tree, form=form)


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users() -> str | Response:
    user = current_actor()
    q = (request.args.get("q") or "").strip()[:100]
    page_number = query_page()
    kubes = services.kubes_of_facilitator(db_session(), user)  # every KUBE, for an operator
    facilitators = services.facilitator_users(db_session(), user)
    assign_form = AssignForm(prefix="assign")
    assign_form.kube_id.choices = [SelectChoice(k.id, k.name) for k in kubes]
    assign_form.facilitator_id.choices = [SelectChoice(f.id, f"{f.name} <{f.email}>") for f in facilitators]
    action = request.form.get("action")
    here = url_for("admin.users", q=q or None, page=page_number if page_number > 1 else None)
    if request.method == "POST" and action == "roles":
        roles = RolesForm()
        if roles.validate_on_submit() and roles.user_id.data:
            try:
                changed = _set_roles(user, roles)
            except DomainError as error:
                flash_refusal(error)
            else:
                db.session.commit()
                flash(_("Roles of %(name)s are saved.", name=changed.name), "success")
                return redirect(here)
        else:
            flash(_form_errors(roles), "danger")
    elif request.method == "POST" and action == "unlock":
        unlock = UnlockForm()
        if unlock.validate_on_submit() and unlock.user_id.data:
            try:
                unlocked = accounts.unlock_user(db_session(), user, unlock.user_id.data)
            except DomainError as error:
                flash_refusal(error)
            else:
                db.session.commit()
                flash(_("%(name)s can sign in again.", name=unlocked.name), "success")
                return redirect(here)
        else:
            flash(_form_errors(unlock), "danger")
    elif request.method == "POST" and action == "assign":
        if assign_form.validate_on_submit():
            try:
                services.assign_facilitator(db_session(), user, assign_form.kube_id.data,
                                            assign_form.facilitator_id.data)
            except DomainError as error:
                reject_form(assign_form, error)
            else:
                db.session.commit()
                flash(_("The facilitator is assigned."), "success")
                return redirect(here + "#assignments")
    elif request.method == "POST" and action == "unassign":
        unassign = UnassignForm()
        if unassign.validate_on_submit() and unassign.kube_id.data and unassign.facilitator_id.data:
            try:
                services.unassign_facilitator(db_session(), user, unassign.kube_id.data,
                                              unassign.facilitator_id.data)
            except DomainError as error:
                flash_refusal(error)
            else:
                db.session.commit()
                flash(_("The assignment is removed."), "success")
                return redirect(here + "#assignments")
        else:
            flash(_form_errors(unassign), "danger")
    elif request.method == "POST":
        abort(400)
    page = accounts.list_users(db_session(), user, q=q, page=page_number, per_page=25)
    return render_template(
        "admin/users.html",
        page=page,
        q=q,
        assign_form=assign_form,
        assignments=services.facilitator_assignments(db_session(), user),
    )


@bp.route("/payments")
@login_required
def payments() -> str:
    """Bank transfers to match against the bank statement: each checkout's amount due, unique code included."""
    checkouts = orders.awaiting_transfers(db_session(), current_actor())
    html = render_template("admin/payments.html", checkouts=checkouts)
    db.session.commit()  # orders past their payment window were just marked expired
    return html


@bp.route("/payments/<id:checkout_id>/confirm", methods=["POST"])
@login_required
def confirm_payment(checkout_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        try:
            checkout = orders.confirm_payment(db_session(), current_actor(), checkout_id)
        except DomainError as error:
            flash_refusal(error)
        else:
            amount, buyer = checkout.amount_due, checkout.buyer.name
            db.session.commit()
            flash(_("The transfer of %(amount)s from %(name)s is confirmed; the KUBEs can pack the orders.",
                    amount=rupiah(amount), name=buyer), "success")
    return redirect(url_for("admin.payments"))
