"""The cart, checkout and a buyer's orders."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from marketplace.catalog.models import Kube
from marketplace.common import N_, DomainError, clean_int
from marketplace.forms import ActionForm
from marketplace.orders import bp, services
from marketplace.orders.forms import AddToCartForm, CancelForm, CheckoutForm, MessageForm, QuantityForm
from marketplace.orders.models import DeliveryMethod, OrderStatus, PaymentMethod
from marketplace.payments import services as payments
from marketplace.payments.views import checkout_settings, current_payments, settle_after_commit
from marketplace.web import (
    MAX_ID,
    apply_error,
    current_actor,
    db_session,
    error_text,
    flash_refusal,
    query_page,
    rupiah,
    safe_next,
    url_with,
)

CART_KEY = "guest_cart"  # the session key of a guest's cart
# How a buyer can pay; cards only where the app has Stripe keys (see payment_choices).
PAYMENT_LABELS = {
    PaymentMethod.MANUAL.value: N_("Bank transfer"),
    PaymentMethod.COD.value: N_("Cash on delivery or at pickup"),
    PaymentMethod.STRIPE.value: N_("Card (Visa, Mastercard)"),
}


def payment_choices() -> list[tuple[str, str]]:
    return [(method, _(PAYMENT_LABELS[method])) for method in current_payments().methods]


def _owner(*, create: bool = False) -> services.CartOwner | None:
    """The cart of this visitor: the account's (a guest cart made before signing in joins it), or the
    guest's token in the session (made on the first add)."""
    token = session.get(CART_KEY)
    if current_user.is_authenticated:
        if token:
            # Merged in this request's transaction; the token stays in the session, so a request that ends
            # without committing merges again next time (after a commit nothing is left under it).
            services.merge_guest_cart(db_session(), token, current_actor())
        return services.CartOwner(user_id=current_actor().id)
    if not token:
        if not create:
            return None
        token = session[CART_KEY] = services.new_guest_token()
    return services.CartOwner(guest_token=token)


def _back(default: str) -> str:
    return safe_next(request.form.get("next"), default)


@bp.route("/cart")
def cart() -> str:
    owner = _owner()
    groups = services.cart(db_session(), owner) if owner else []
    html = render_template("orders/cart.html", groups=groups, form=QuantityForm(), action=ActionForm(),
                           fee=services.delivery_fee, DeliveryMethod=DeliveryMethod)
    db_session().commit()  # a guest cart merged into the account
    return html


@bp.route("/cart/add", methods=["POST"])
def add_to_cart() -> Response:
    form = AddToCartForm()
    back = _back(url_for("orders.cart"))
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(back)
    owner = _owner(create=True)
    assert owner is not None  # made when missing
    try:
        product_id = clean_int(form.product_id.data, field="product_id", minimum=1, maximum=MAX_ID)
        services.add_to_cart(db_session(), owner, product_id, form.quantity.data)
    except DomainError as error:
        db_session().rollback()
        flash(error_text(error), "danger")
        return redirect(back)
    db_session().commit()
    flash(_("Added to your cart."), "success")
    return redirect(back)


@bp.route("/cart/<id:product_id>/quantity", methods=["POST"])
def set_quantity(product_id: int) -> Response:
    form = QuantityForm()
    owner = _owner()
    if owner is None or not form.validate_on_submit():
        return redirect(url_for("orders.cart"))
    try:
        services.set_cart_quantity(db_session(), owner, product_id, form.quantity.data)
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("orders.cart"))
    db_session().commit()
    return redirect(url_for("orders.cart"))


@bp.route("/cart/<id:product_id>/remove", methods=["POST"])
def remove(product_id: int) -> Response:
    owner = _owner()
    if owner is not None and ActionForm().validate_on_submit():
        services.remove_from_cart(db_session(), owner, product_id)
        db_session().commit()
    return redirect(url_for("orders.cart"))


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
def checkout() -> str | Response:
    owner = _owner()
    assert owner is not None  # signed in
    groups = services.cart(db_session(), owner)
    if not groups:
        db_session().commit()
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("orders.cart"))
    buyer = current_actor()
    form = CheckoutForm(data={"recipient_name": buyer.name, "recipient_phone": buyer.phone or ""}
                        if request.method == "GET" else None)
    form.payment_method.choices = payment_choices()
    choices = {g.kube.id: request.form.get(f"delivery-{g.kube.id}") or _default_delivery(g.kube) for g in groups}
    if form.validate_on_submit():
        delivery = {
            kube_id: services.Delivery(method, form.recipient_name.data or "", form.recipient_phone.data or "",
                                       form.address.data or "")
            for kube_id, method in choices.items()
        }
        items = [(product.id, item.quantity) for g in groups for item, product in g.items]
        try:
            services.take_from_cart(db_session(), owner, {product_id for product_id, _qty in items})
            placed = services.place_checkout(
                db_session(), buyer, items, payment_method=form.payment_method.data or "", delivery=delivery,
                **checkout_settings(),
                seen_prices={pid: request.form[f"price-{pid}"] for pid, _q in items if f"price-{pid}" in request.form})
        except DomainError as error:
            db_session().rollback()
            apply_error(form, error)
            groups = services.cart(db_session(), owner)
        else:
            db_session().commit()
            flash(_("Your order is placed."), "success")
            return redirect(url_for("orders.placed", checkout_id=placed.id))
    config = current_app.config
    windows = {"transfer": format_timedelta(timedelta(minutes=config["TRANSFER_WINDOW_MINUTES"]), threshold=1),
               "card": format_timedelta(timedelta(minutes=config["CARD_WINDOW_MINUTES"]), threshold=1)}
    html = render_template("orders/checkout.html", form=form, groups=groups, choices=choices, windows=windows,
                           fee=services.delivery_fee, DeliveryMethod=DeliveryMethod)
    db_session().commit()
    return html


def _default_delivery(kube: Kube) -> str:
    return DeliveryMethod.PICKUP.value if kube.pickup_enabled else DeliveryMethod.COURIER.value


@bp.route("/orders/checkout/<id:checkout_id>")
@login_required
def placed(checkout_id: int) -> str:
    placed = services.buyer_checkout(db_session(), current_actor(), checkout_id)
    card = None
    if placed.payment_method == PaymentMethod.STRIPE:
        card = payments.card_payment(db_session(), current_payments(), current_actor(), checkout_id)
    return render_template("orders/placed.html", checkout=placed, card=card)


@bp.route("/orders")
@login_required
def orders() -> str | Response:
    found = services.buyer_orders(db_session(), current_actor(), page=query_page())
    if found.page > found.pages:
        db_session().commit()
        return redirect(url_with(page=found.pages))
    html = render_template("orders/list.html", orders=found)
    db_session().commit()  # orders that expired meanwhile
    return html


@bp.route("/orders/<id:order_id>")
@login_required
def order(order_id: int) -> str:
    found = services.get_order(db_session(), current_actor(), order_id)
    return render_template("orders/detail.html", order=found, cancel_form=CancelForm(), action=ActionForm(),
                           is_buyer=found.buyer_id == current_actor().id, OrderStatus=OrderStatus,
                           messages=services.order_messages(db_session(), current_actor(), order_id),
                           message_form=MessageForm())


@bp.route("/orders/<id:order_id>/received", methods=["POST"])
@login_required
def received(order_id: int) -> Response:
    if ActionForm().validate_on_submit():
        try:
            services.confirm_received(db_session(), current_actor(), order_id)
        except DomainError as error:
            flash_refusal(error)
        else:
            db_session().commit()
            flash(_("Thank you! The KUBE has been told that the order arrived."), "success")
    return redirect(url_for("orders.order", order_id=order_id))


@bp.route("/orders/<id:order_id>/cancel", methods=["POST"])
@login_required
def cancel(order_id: int) -> Response:
    form = CancelForm()
    if form.validate_on_submit():
        try:
            cancelled = services.cancel_order(db_session(), current_actor(), order_id, form.reason.data or "")
        except DomainError as error:
            db_session().rollback()
            if error.field == "reason":
                flash(error_text(error), "danger")
            else:
                flash_refusal(error)
        else:
            checkout_id = cancelled.checkout_id
            db_session().commit()
            settle_after_commit(checkout_id)
            flash(_("The order is cancelled."), "success")
    return redirect(url_for("orders.order", order_id=order_id))


@bp.app_context_processor
def _notification_count() -> dict[str, object]:
    """`unread_notifications()` for the menu: one query, only when a page asks and someone is signed in."""

    def unread() -> int:
        return services.unread_count(db_session(), current_actor()) if current_user.is_authenticated else 0

    return {"unread_notifications": unread}


@bp.route("/notifications")
@login_required
def notifications() -> str:
    found = services.notifications(db_session(), current_actor())
    html = render_template("orders/notifications.html", notifications=found)
    services.mark_read(db_session(), current_actor())
    db_session().commit()
    return html


@bp.app_template_filter("notification_params")
def _notification_params(params: dict[str, object]) -> dict[str, object]:
    """Amounts in a notification shown as Rupiah in the reader's page."""
    return {key: rupiah(value) if key == "total" and isinstance(value, int) else value for key, value in params.items()}


@bp.route("/orders/<id:order_id>/messages", methods=["POST"])
@login_required
def post_message(order_id: int) -> Response:
    form = MessageForm()
    back = _back(url_for("orders.order", order_id=order_id))
    if form.validate_on_submit():
        try:
            services.post_message(db_session(), current_actor(), order_id, form.body.data or "")
        except DomainError as error:
            db_session().rollback()
            if error.field == "body":
                flash(error_text(error), "danger")
            else:
                flash_refusal(error)
        else:
            db_session().commit()
            flash(_("Message sent."), "success")
    return redirect(back + "#messages")
