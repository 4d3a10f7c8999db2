"""My KUBE: the members' dashboard, product forms, incoming orders and the KUBE's profile, delivery options,
members and bank account."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from marketplace import labels
from marketplace.auth.models import User
from marketplace.books import services as books
from marketplace.catalog import permissions, services
from marketplace.catalog.models import Kube, KubeStatus, MemberRole, Product, ProductStatus
from marketplace.catalog.permissions import Action, allowed_actions, require
from marketplace.chains import services as chains
from marketplace.common import N_, DomainError
from marketplace.extensions import db
from marketplace.forms import ActionForm
from marketplace.orders import services as orders
from marketplace.orders.forms import MessageForm
from marketplace.orders.models import DeliveryMethod, Order, OrderStatus
from marketplace.payments.views import settle_after_commit
from marketplace.shop import bp
from marketplace.shop.forms import (
    BankForm,
    CancelOrderForm,
    DeliveryForm,
    KubeForm,
    KubePhotoForm,
    MemberForm,
    MemberRoleForm,
    NikForm,
    ProductForm,
    ShipForm,
    StockForm,
)
from marketplace.sourcing import services as sourcing
from marketplace.web import (
    current_actor,
    db_session,
    flash_refusal,
    image_limits,
    money_chart,
    one_button_step,
    query_page,
    reject_form,
    url_with,
)


def _kube(slug: str, action: Action) -> Kube:
    """The KUBE of the URL, if the signed-in user may do `action` to it (else 404/403)."""
    kube = services.kube_by_slug(db_session(), slug, current_actor())
    require(db_session(), current_actor(), kube, action)
    return kube


def _shown(raw: str | None) -> int | None:
    """The stock a form showed (None from an old page or junk: the stock is then set as typed)."""
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if 0 <= value <= services.MAX_STOCK else None


def _read_upload(upload: FileStorage) -> bytes:
    """The upload's bytes, reading one byte past the limit at most (the service refuses it then)."""
    return upload.stream.read(image_limits().max_bytes + 1)






# --- Overview ---------------------------------------------------------------------------------------


@bp.route("/")
@login_required
def index() -> str | Response:
    memberships = services.kubes_of_member(db_session(), current_actor())
    if len(memberships) == 1:
        return redirect(url_for("shop.dashboard", slug=memberships[0].kube.slug))
    return render_template("shop/index.html", memberships=memberships)


@bp.route("/<slug>")
@login_required
def dashboard(slug: str) -> str | Response:
    user = current_actor()
    kube = _kube(slug, Action.EDIT_PRODUCTS)
    status = request.args.get("status") or None
    if status not in {None, *(s.value for s in ProductStatus)}:
        status = None
    products = services.kube_products(db_session(), user, kube.id, status=status, page=query_page())
    if products.page > products.pages:
        return redirect(url_with(page=products.pages))
    counts = services.product_status_counts(db_session(), user, kube.id)
    actions = allowed_actions(db_session(), user, kube)
    orders_waiting = None
    if Action.HANDLE_ORDERS in actions:
        orders_waiting = orders.kube_order_counts(db_session(), user, kube.id)[OrderStatus.PAID]
    # The processes the KUBE runs in supply chains, with its share of this week's plan for the open contracts.
    chain_parts = chains.kube_parts(db_session(), kube.id, sourcing.contract_plans)
    # The last 12 months of the cash book, for those who read it (every member, the facilitator, operators).
    money_figures = books.history(db_session(), user, kube.id) if Action.VIEW_PRIVATE in actions else None
    return render_template(
        "shop/dashboard.html",
        kube=kube,
        products=products,
        counts=counts,
        status=status,
        statuses=list(ProductStatus),
        actions=actions,
        orders_waiting=orders_waiting,
        chain_parts=chain_parts,
        money_figures=money_figures,
        money_chart=money_chart(money_figures) if money_figures else None,
        Action=Action,
        KubeStatus=KubeStatus,
        ProductStatus=ProductStatus,
        action_form=ActionForm(),
    )


# --- Products ---------------------------------------------------------------------------------------


def _photos_lost(form: ProductForm) -> bool:
    """Whether photos were chosen for a submission that comes back with errors (browsers never keep them)."""
    if request.method != "POST":
        return False
    return any(upload.filename for upload in request.files.getlist(form.photo.name))


def _add_photos(form: ProductForm, product: Product) -> None:
    for upload in form.photo.data or []:
        if upload and upload.filename:
            services.add_product_photo(db_session(), current_actor(), product.id, _read_upload(upload),
                                       image_limits())


@bp.route("/<slug>/products/new", methods=["GET", "POST"])
@login_required
def new_product(slug: str) -> str | Response:
    user = current_actor()
    kube = _kube(slug, Action.EDIT_PRODUCTS)
    form = ProductForm()
    form.fill_choices(services.category_tree(db_session()))
    if form.validate_on_submit():
        try:
            product = services.create_product(db_session(), user, kube.id, form.values())
            _add_photos(form, product)
            if form.send.data:
                services.submit_product(db_session(), user, product.id)
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            if form.send.data:
                flash(_("“%(name)s” is saved and sent to your facilitator for review.", name=product.name),
                      "success")
            else:
                flash(_("“%(name)s” is saved as a draft.", name=product.name), "success")
            return redirect(url_for("shop.dashboard", slug=kube.slug))
    return render_template("shop/product_form.html", kube=kube, form=form, product=None,
                           action_form=ActionForm(), ProductStatus=ProductStatus, photos_lost=_photos_lost(form))


@bp.route("/<slug>/products/<id:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit_product(slug: str, product_id: int) -> str | Response:
    user = current_actor()
    kube = _kube(slug, Action.EDIT_PRODUCTS)
    product = services.product_of_kube(db_session(), user, kube.id, product_id)
    form = ProductForm(obj=product)
    form.fill_choices(services.category_tree(db_session()))
    if form.validate_on_submit():
        send = bool(form.send.data) and product.status == ProductStatus.DRAFT
        try:
            services.update_product(db_session(), user, product.id, form.values(),
                                    shown_stock=_shown(form.stock_shown.data))
            _add_photos(form, product)
            if send:
                services.submit_product(db_session(), user, product.id)
        except DomainError as error:
            reject_form(form, error)
            product = services.product_of_kube(db_session(), user, kube.id, product_id)
        else:
            db.session.commit()
            if send:
                flash(_("Saved and sent to your facilitator for review."), "success")
            elif product.status == ProductStatus.PENDING_REVIEW:
                flash(_("Saved. The product waits for your facilitator's review before it shows again."),
                      "warning")
            else:
                flash(_("Saved."), "success")
            return redirect(url_for("shop.edit_product", slug=kube.slug, product_id=product.id))
    return render_template("shop/product_form.html", kube=kube, form=form, product=product,
                           action_form=ActionForm(), ProductStatus=ProductStatus, photos_lost=_photos_lost(form))


@bp.route("/<slug>/products/<id:product_id>/stock", methods=["POST"])
@login_required
def set_stock(slug: str, product_id: int) -> Response:
    user = current_actor()
    kube = _kube(slug, Action.EDIT_PRODUCTS)
    product = services.product_of_kube(db_session(), user, kube.id, product_id)
    form = StockForm()
    if not form.validate_on_submit():
        flash(_("Enter the stock as a whole number."), "danger")
    else:
        try:
            services.set_stock(db_session(), user, product.id, form.stock.data,
                               shown_stock=_shown(form.stock_shown.data))
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("Stock of “%(name)s” is now %(stock)d.", name=product.name, stock=product.stock),
                  "success")
    page = query_page()
    return redirect(url_for("shop.dashboard", slug=kube.slug, status=request.args.get("status") or None,
                            page=page if page > 1 else None))


_PRODUCT_ACTIONS = {
    "submit": (services.submit_product, N_("“%(name)s” is sent to your facilitator for review.")),
    "archive": (services.archive_product, N_("“%(name)s” is archived and hidden from buyers.")),
    "restore": (services.restore_product, N_("“%(name)s” is restored as a draft.")),
}


@bp.route("/<slug>/products/<id:product_id>/submit", methods=["POST"], defaults={"verb": "submit"})
@bp.route("/<slug>/products/<id:product_id>/archive", methods=["POST"], defaults={"verb": "archive"})
@bp.route("/<slug>/products/<id:product_id>/restore", methods=["POST"], defaults={"verb": "restore"})
@login_required
def product_action(slug: str, product_id: int, verb: str) -> Response:
    """Send for review, archive or restore a product."""
    user = current_actor()
    kube = _kube(slug, Action.EDIT_PRODUCTS)
    product = services.product_of_kube(db_session(), user, kube.id, product_id)
    if ActionForm().validate_on_submit():
        service, message = _PRODUCT_ACTIONS[verb]
        try:
            service(db_session(), user, product.id)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_(message, name=product.name), "success")
    back = request.form.get("next") == "edit"
    if back:
        return redirect(url_for("shop.edit_product", slug=kube.slug, product_id=product.id))
    return redirect(url_for("shop.dashboard", slug=kube.slug))


def _photo_of(slug: str, product_id: int, photo_id: int) -> tuple[Kube, Product]:
    """The KUBE and product of a photo URL, when they belong together and the user may edit (else 403/404)."""
    kube = _kube(slug, Action.EDIT_PRODUCTS)
    product = services.product_of_kube(db_session(), current_actor(), kube.id, product_id)
    if photo_id not in {photo.id for photo in product.photos}:
        abort(404)
    return kube, product


@bp.route("/<slug>/products/<id:product_id>/photos/<id:photo_id>/delete", methods=["POST"])
@login_required
def delete_photo(slug: str, product_id: int, photo_id: int) -> Response:
    user = current_actor()
    kube, product = _photo_of(slug, product_id, photo_id)
    if ActionForm().validate_on_submit():
        try:
            services.remove_product_photo(db_session(), user, photo_id, current_app.config["MEDIA_ROOT"])
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("Photo removed."), "success")
    return redirect(url_for("shop.edit_product", slug=kube.slug, product_id=product.id))


@bp.route("/<slug>/products/<id:product_id>/photos/<id:photo_id>/main", methods=["POST"])
@login_required
def main_photo(slug: str, product_id: int, photo_id: int) -> Response:
    user = current_actor()
    kube, product = _photo_of(slug, product_id, photo_id)
    try:
        services.make_main_photo(db_session(), user, photo_id)
    except DomainError as error:
        flash_refusal(error)
    else:
        db.session.commit()
        flash(_("This photo is now the one buyers see first."), "success")
    return redirect(url_for("shop.edit_product", slug=kube.slug, product_id=product.id) + "#photos")


# --- KUBE profile, bank account, members ------------------------------------------------------------


@bp.route("/<slug>/profile", methods=["GET", "POST"])
@login_required
def profile(slug: str) -> str | Response:
    """The KUBE's profile page for officers, its facilitator and operators; one form per section."""
    user = current_actor()
    kube = _kube(slug, Action.MANAGE_SHOP)
    actions = allowed_actions(db_session(), user, kube)
    action = request.form.get("action", "") if request.method == "POST" else ""
    form = KubeForm(obj=kube, prefix="kube")
    form.fill_choices()
    photo_form = KubePhotoForm(prefix="photo")
    bank_form = BankForm(
        prefix="bank",
        data={"bank_name": kube.bank_name, "account_number": kube.bank_account_number,
              "account_holder": kube.bank_account_holder} if Action.VIEW_BANK in actions else None,
    )
    member_form = MemberForm(prefix="member")
    delivery_form = DeliveryForm(obj=kube, prefix="delivery")
    forms: dict[str, FlaskForm] = {
        "profile": form, "photo": photo_form, "bank": bank_form, "member": member_form,
        "delivery": delivery_form,
    }
    # "Show the next list" in the region picker only reloads the form with the lists filled.
    chosen = None if request.form.get("refresh_regions") else forms.get(action)
    if chosen is not None and chosen.validate_on_submit():
        try:
            if chosen is form:
                services.update_kube(db_session(), user, kube.id, form.values())
                message = _("The KUBE's profile is saved.")
            elif chosen is photo_form:
                upload = photo_form.photo.data
                data = _read_upload(upload) if upload else b""
                services.set_kube_photo(db_session(), user, kube.id, data, image_limits())
                message = _("The group photo is updated.")
            elif chosen is bank_form:
                services.update_bank_account(
                    db_session(), user, kube.id,
                    bank_name=bank_form.bank_name.data or "",
                    account_number=bank_form.account_number.data or "",
                    account_holder=bank_form.account_holder.data or "",
                )
                message = _("The payout account is saved.")
            elif chosen is delivery_form:
                services.update_delivery_options(db_session(), user, kube.id, delivery_form.values())
                message = _("The delivery options are saved.")
            else:
                member = services.add_member(db_session(), user, kube.id, email=member_form.email.data or "",
                                             role=member_form.role.data or "", nik=member_form.nik.data)
                message = _("%(name)s is now a member.", name=member.user.name)
        except DomainError as error:
            reject_form(chosen, error)
            kube = _kube(slug, Action.MANAGE_SHOP)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("shop.profile", slug=kube.slug))
    return render_template(
        "shop/profile.html",
        kube=kube,
        form=form,
        photo_form=photo_form,
        bank_form=bank_form,
        member_form=member_form,
        delivery_form=delivery_form,
        member_roles=list(MemberRole),
        action_form=ActionForm(),
        actions=actions,
        Action=Action,
        KubeStatus=KubeStatus,
        niks=services.member_niks(db_session(), user, kube),
        bank=services.bank_account_view(db_session(), user, kube),
        nik_forms={member.id: NikForm(prefix=f"nik{member.id}", data={"nik": None}) for member in kube.members},
    )


def _member_of(kube: Kube, member_id: int) -> None:
    if member_id not in {member.id for member in kube.members}:
        abort(404)


@bp.route("/<slug>/members/<id:member_id>/role", methods=["POST"])
@login_required
def member_role(slug: str, member_id: int) -> Response:
    kube = _kube(slug, Action.MANAGE_SHOP)
    _member_of(kube, member_id)
    form = MemberRoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a role."), "danger")
    else:
        try:
            member = services.change_member_role(db_session(), current_actor(), member_id, form.role.data or "")
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("%(name)s is now %(role)s.", name=member.user.name, role=labels.role_label(member.role)),
                  "success")
            if Action.MANAGE_SHOP not in allowed_actions(db_session(), current_actor(), kube):
                return redirect(url_for("shop.dashboard", slug=kube.slug))  # a ketua who handed over
    return redirect(url_for("shop.profile", slug=kube.slug) + "#members")


@bp.route("/<slug>/members/<id:member_id>/nik", methods=["POST"])
@login_required
def member_nik(slug: str, member_id: int) -> Response:
    """Officers, the KUBE's facilitators and operators enter or correct a member's NIK."""
    kube = _kube(slug, Action.VIEW_NIK)
    _member_of(kube, member_id)
    form = NikForm(prefix=f"nik{member_id}")
    if form.validate_on_submit():
        try:
            member = services.set_member_nik(db_session(), current_actor(), member_id, form.nik.data)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            if member.nik:
                flash(_("The NIK of %(name)s is saved.", name=member.user.name), "success")
            else:
                flash(_("The NIK of %(name)s is cleared.", name=member.user.name), "success")
    else:
        flash(_("A NIK has 16 digits."), "danger")
    return redirect(url_for("shop.profile", slug=kube.slug) + "#members")


@bp.route("/<slug>/members/<id:member_id>/remove", methods=["POST"])
@login_required
def remove_member(slug: str, member_id: int) -> Response:
    kube = _kube(slug, Action.MANAGE_SHOP)
    _member_of(kube, member_id)
    if ActionForm().validate_on_submit():
        try:
            services.remove_member(db_session(), current_actor(), member_id)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("The member is removed from the KUBE."), "success")
    return redirect(url_for("shop.profile", slug=kube.slug) + "#members")


@bp.route("/<slug>/open", methods=["POST"])
@login_required
def open_shop(slug: str) -> Response:
    """Officers mark a verified (already public) KUBE as active: it is trading."""
    kube = _kube(slug, Action.MANAGE_SHOP)
    if ActionForm().validate_on_submit():
        try:
            services.activate_kube(db_session(), current_actor(), kube.id)
        except DomainError as error:
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("The KUBE is marked as active and trading. Selamat berjualan!"), "success")
    return redirect(url_for("shop.dashboard", slug=kube.slug))


# --- Incoming orders --------------------------------------------------------------------------------

S = OrderStatus
# The tabs of the orders page: what the KUBE has to do next.
ORDER_TABS: dict[str, tuple[str, frozenset[OrderStatus] | None]] = {
    "all": (N_("All"), None),
    "to_pay": (N_("Waiting for payment"), frozenset({S.PENDING_PAYMENT})),
    "to_pack": (N_("To pack"), frozenset({S.PAID, S.PROCESSING})),
    "shipped": (N_("Shipped"), frozenset({S.SHIPPED})),
    "done": (N_("Done"), frozenset({S.DELIVERED, S.COMPLETED})),
    "cancelled": (N_("Cancelled"), frozenset({S.CANCELLED, S.EXPIRED, S.REFUNDED})),
}
CANCELLABLE = frozenset({S.PENDING_PAYMENT, S.PAID, S.PROCESSING})


@bp.route("/<slug>/orders")
@login_required
def orders_list(slug: str) -> str | Response:
    user = current_actor()
    kube = _kube(slug, Action.HANDLE_ORDERS)
    tab = request.args.get("status") or "all"
    if tab not in ORDER_TABS:
        tab = "all"
    found = orders.kube_orders(db_session(), user, kube.id, statuses=ORDER_TABS[tab][1], page=query_page())
    if found.page > found.pages:
        db.session.commit()
        return redirect(url_with(page=found.pages))
    counts = orders.kube_order_counts(db_session(), user, kube.id)
    tab_counts = {key: sum(n for status, n in counts.items() if statuses is None or status in statuses)
                  for key, (_label, statuses) in ORDER_TABS.items()}
    html = render_template(
        "shop/orders.html", kube=kube, orders=found, tab=tab, tabs=ORDER_TABS, tab_counts=tab_counts,
        actions=allowed_actions(db_session(), user, kube), Action=Action, DeliveryMethod=DeliveryMethod,
    )
    db.session.commit()  # orders past their payment window were just marked expired
    return html


def _order_page(kube: Kube, order: Order, *, ship_form: ShipForm | None = None,
                cancel_form: CancelOrderForm | None = None) -> str:
    return render_template(
        "shop/order.html", kube=kube, order=order, ship_form=ship_form or ShipForm(),
        cancel_form=cancel_form or CancelOrderForm(), action_form=ActionForm(),
        can_cancel=order.status in CANCELLABLE, actions=allowed_actions(db_session(), current_actor(), kube),
        Action=Action, OrderStatus=OrderStatus, DeliveryMethod=DeliveryMethod,
        messages=orders.order_messages(db_session(), current_actor(), order.id), message_form=MessageForm(),
        is_member=permissions.member_role(db_session(), current_actor(), kube.id) is not None,
        takes_cash=orders.can_record_cash(db_session(), current_actor(), order),
    )



@bp.route("/<slug>/orders/<id:order_id>")
@login_required
def order_detail(slug: str, order_id: int) -> str:
    kube = _kube(slug, Action.HANDLE_ORDERS)
    order = orders.kube_order(db_session(), current_actor(), kube.id, order_id)
    return _order_page(kube, order)


def _order_url(kube: Kube, order_id: int) -> str:
    return url_for("shop.order_detail", slug=kube.slug, order_id=order_id)


@bp.route("/<slug>/orders/<id:order_id>/accept", methods=["POST"])
@login_required
def accept_order(slug: str, order_id: int) -> Response:
    """Paid (or cash on delivery) -> processing: the KUBE has seen the order and is packing it."""
    return _one_button(slug, order_id, orders.accept_order,
                       _("Order #%(id)d is accepted: pack it and mark it shipped when it leaves.", id=order_id))


def _one_button(slug: str, order_id: int, action: Callable[[Session, User, int], object], done: str) -> Response:
    """A one-button step on one of the KUBE's orders: the service decides, the page says how it went."""
    user = current_actor()
    kube = _kube(slug, Action.HANDLE_ORDERS)
    order = orders.kube_order(db_session(), user, kube.id, order_id)
    one_button_step(lambda: action(db_session(), user, order.id), done)
    return redirect(_order_url(kube, order_id))


@bp.route("/<slug>/orders/<id:order_id>/ship", methods=["POST"])
@login_required
def ship_order(slug: str, order_id: int) -> str | Response:
    """Processing -> shipped: sent by courier (with a tracking number), or ready for pickup."""
    user = current_actor()
    kube = _kube(slug, Action.HANDLE_ORDERS)
    order = orders.kube_order(db_session(), user, kube.id, order_id)
    form = ShipForm()
    if form.validate_on_submit():
        try:
            orders.ship_order(db_session(), user, order.id, courier=form.courier.data or "",
                              tracking_number=form.tracking_number.data or "")
        except DomainError as error:
            reject_form(form, error)
        else:
            db.session.commit()
            if order.delivery_method == DeliveryMethod.PICKUP:
                flash(_("Order #%(id)d is ready for pickup.", id=order_id), "success")
            else:
                flash(_("Order #%(id)d is marked as shipped.", id=order_id), "success")
            return redirect(_order_url(kube, order_id))
    order = orders.kube_order(db_session(), user, kube.id, order_id)
    return _order_page(kube, order, ship_form=form)


@bp.route("/<slug>/orders/<id:order_id>/cash", methods=["POST"])
@login_required
def cash_received(slug: str, order_id: int) -> Response:
    """Cash on delivery: the bendahara records the buyer's payment (and the handover, if not yet recorded)."""
    return _one_button(slug, order_id, orders.confirm_cash, _("The cash for order #%(id)d is recorded.", id=order_id))


@bp.route("/<slug>/orders/<id:order_id>/cancel", methods=["POST"])
@login_required
def cancel_order(slug: str, order_id: int) -> str | Response:
    """The KUBE cancels (before it is paid) or refunds (paid, not yet shipped) with a reason; stock goes back."""
    user = current_actor()
    kube = _kube(slug, Action.HANDLE_ORDERS)
    order = orders.kube_order(db_session(), user, kube.id, order_id)
    form = CancelOrderForm()
    if form.validate_on_submit():
        try:
            orders.cancel_order(db_session(), user, order.id, form.reason.data or "")
        except DomainError as error:
            reject_form(form, error)
        else:
            checkout_id = order.checkout_id
            db.session.commit()
            settle_after_commit(checkout_id)
            flash(_("Order #%(id)d is cancelled and its stock is back on sale.", id=order_id), "success")
            return redirect(_order_url(kube, order_id))
    order = orders.kube_order(db_session(), user, kube.id, order_id)
    return _order_page(kube, order, cancel_form=form)
