"""Pages of the reviews feature: the buyer's review form, and the reviews of a product or a KUBE.

The catalogue's and the order's pages show reviews through the template globals below (one call per page,
a fixed number of queries), so their own views need not know about reviews."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product
from marketplace.common import ConflictError, DomainError
from marketplace.orders.models import Order
from marketplace.reviews import bp, services
from marketplace.reviews.forms import ReviewForm
from marketplace.web import current_actor, db_session, error_text, query_page, raise_if_not_form_error, url_with

PREVIEW = 5  # reviews shown on a product page or a storefront; the rest on their own page
PER_PAGE = 10


def _viewer() -> services.User | None:
    return current_actor() if current_user.is_authenticated else None


@bp.route("/orders/<id:order_id>/review", methods=["GET", "POST"])
@login_required
def review_order(order_id: int) -> str | Response:
    back = url_for("orders.order", order_id=order_id)
    try:
        state = services.reviewable(db_session(), current_actor(), order_id)
    except ConflictError as error:  # not received yet; someone else's order is a 404 (raised on)
        flash(error_text(error), "warning")
        return redirect(back)
    if not state.anything_left:
        flash(_("You have already reviewed this order. Thank you!"), "info")
        return redirect(back)
    form = ReviewForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        products = {line.id: (request.form.get(f"rating-{line.id}"), request.form.get(f"body-{line.id}"))
                    for line in state.order.lines
                    if f"rating-{line.id}" in request.form or f"body-{line.id}" in request.form}
        try:
            services.submit_review(db_session(), current_actor(), order_id, form.kube_rating.data,
                                   form.kube_body.data, products)
        except DomainError as error:
            db_session().rollback()
            raise_if_not_form_error(error)
            if isinstance(error, ConflictError):  # reviewed meanwhile (a second tab, a double click)
                flash(error_text(error), "warning")
                return redirect(back)
            errors[error.field or ""] = error_text(error)
        else:
            db_session().commit()
            flash(_("Thank you for your review! It helps other buyers and the KUBE."), "success")
            return redirect(back)
    return render_template("reviews/form.html", state=state, form=form, errors=errors,
                           values=request.form if request.method == "POST" else {})


@bp.route("/products/<id:product_id>/reviews")
def product_reviews(product_id: int) -> str | Response:
    product = catalog.product_for_viewer(db_session(), product_id, _viewer())
    found = services.product_reviews(db_session(), product.id, page=query_page(), per_page=PER_PAGE)
    if found.page.page > found.page.pages:
        return redirect(url_with(page=found.page.pages))
    return render_template("reviews/product.html", product=product, reviews=found)


@bp.route("/kube/<slug>/reviews")
def kube_reviews(slug: str) -> str | Response:
    kube = catalog.kube_by_slug(db_session(), slug, _viewer())
    found = services.kube_reviews(db_session(), kube.id, page=query_page(), per_page=PER_PAGE)
    if found.page.page > found.page.pages:
        return redirect(url_with(page=found.page.pages))
    return render_template("reviews/kube.html", kube=kube, reviews=found)


# --- What other pages show ----------------------------------------------------------------------------


@bp.app_template_global()
def product_ratings(products: Iterable[Product]) -> dict[int, tuple[Decimal, int]]:
    """{product id: (average, count)} for a list of product cards, in one query."""
    return services.rating_summaries(db_session(), [p.id for p in products])


@bp.app_template_global()
def product_review_page(product_id: int, per_page: int = PREVIEW) -> services.ReviewPage:
    return services.product_reviews(db_session(), product_id, per_page=per_page)


@bp.app_template_global()
def kube_review_page(kube_id: int, per_page: int = PREVIEW) -> services.ReviewPage:
    return services.kube_reviews(db_session(), kube_id, per_page=per_page)


@bp.app_template_global()
def order_review_state(order: Order) -> services.ReviewState | None:
    """The viewer's reviews of an order they bought and received; None for anyone else or before delivery."""
    if not current_user.is_authenticated or order.buyer_id != current_actor().id:
        return None
    if order.status not in services.REVIEWABLE_STATUSES:
        return None
    try:
        return services.reviewable(db_session(), current_actor(), order.id)
    except ConflictError:  # not paid yet (cash), or the buyer's own KUBE
        return None


@bp.app_template_filter("rating_number")
def rating_number(value: Decimal | int | None) -> str:
    """An average as the page's language writes it (4.5 is "4,5" in Indonesian); one review's rating: "4"."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return str(format_decimal(value, "0.0"))


@bp.app_template_filter("half_stars")
def half_stars(value: Decimal | int | None) -> int:
    """A rating as a number of half stars, 0 to 10 (for the width of the filled stars)."""
    if value is None:
        return 0
    return max(0, min(10, int((Decimal(value) * 2).to_integral_value(rounding=ROUND_HALF_UP))))
