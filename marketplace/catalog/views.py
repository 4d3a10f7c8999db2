"""Public pages: home, product list, KUBE directory, a KUBE's storefront, a product page."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace import regions
from marketplace.catalog import bp, services
from marketplace.catalog.models import BusinessKind
from marketplace.catalog.permissions import Action, allowed_actions
from marketplace.stories import services as stories
from marketplace.web import db_session, query_int, query_page, url_with


@bp.app_template_filter("whatsapp_url")
def whatsapp_url(phone: str | None, text: str = "") -> str | None:
    """A wa.me link (a chat with `text` typed in) to an Indonesian phone number; None if there is no number.

    "0812-3456-7890", "+62 812 3456 7890" and "812 3456 7890" all become https://wa.me/6281234567890.
    """
    digits = "".join(ch for ch in phone or "" if ch in "0123456789")  # str.isdigit() also takes "²"
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("620"):  # "+62 0812 ...": the trunk 0 kept after the country code
        digits = "62" + digits[3:]
    elif digits.startswith("8"):  # a mobile number written without its leading 0
        digits = "62" + digits
    if not 8 <= len(digits) <= 15:  # E.164 numbers have at most 15 digits
        return None
    url = f"https://wa.me/{digits}"
    return f"{url}?text={quote(text, safe='')}" if text else url


def _viewer() -> services.User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def _totals() -> services.TotalCache | None:
    """This process's cache of public product totals (None when CATALOG_TOTALS_SECONDS is 0)."""
    seconds = current_app.config.get("CATALOG_TOTALS_SECONDS", 0)
    if not seconds:
        return None
    cache = current_app.extensions.get("catalog_totals")
    if cache is None:
        cache = current_app.extensions.setdefault("catalog_totals", services.TotalCache(seconds))
    return cache


@bp.route("/")
def home() -> str:
    data = services.home_page(db_session(), _totals())
    return render_template("catalog/home.html", data=data, stories=stories.latest_published(db_session()))


@bp.route("/products")
def products() -> str | Response:
    sort = request.args.get("sort", "newest")
    filters = services.ProductFilters(
        kube=request.args.get("kube") or None,
        category=request.args.get("category") or None,
        province=request.args.get("province") or None,
        min_price=query_int("min_price"),
        max_price=query_int("max_price"),
        q=(request.args.get("q") or "").strip()[:200] or None,
        sort=sort if sort in services.SORTS else "newest",
    )
    page = services.public_products(db_session(), filters, page=query_page(), per_page=24, totals=_totals())
    if page.page > page.pages:
        return redirect(url_with(page=page.pages))
    return render_template(
        "catalog/products.html",
        page=page,
        filters=filters,
        categories=services.category_tree(db_session()),
        provinces=services.provinces_with_kubes(db_session()),
    )


@bp.route("/kube")
def kubes() -> str | Response:
    kind = request.args.get("kind") or None
    if kind not in {None, *(k.value for k in BusinessKind)}:
        kind = None
    province = request.args.get("province") or None
    page = services.public_kubes(db_session(), province=province, kind=kind,
                                 q=(request.args.get("q") or "")[:100] or None, page=query_page())
    if page.page > page.pages:
        return redirect(url_with(page=page.pages))
    return render_template(
        "catalog/kubes.html",
        page=page,
        province=province,
        kind=kind,
        kinds=list(BusinessKind),
        provinces=services.provinces_with_kubes(db_session()),
    )


@bp.route("/kube/<slug>")
def kube(slug: str) -> str | Response:
    viewer = _viewer()
    kube = services.kube_by_slug(db_session(), slug, viewer)
    actions = allowed_actions(db_session(), viewer, kube)
    category = request.args.get("category") or None
    page = services.public_products(
        db_session(), services.ProductFilters(kube=kube.slug, category=category, sort="newest"),
        page=query_page(), per_page=24, totals=_totals(),
    )
    if page.page > page.pages:
        return redirect(url_with(page=page.pages))
    return render_template(
        "catalog/kube.html",
        kube=kube,
        page=page,
        actions=actions,
        Action=Action,
        niks=services.member_niks(db_session(), viewer, kube),
        bank=services.bank_account_view(db_session(), viewer, kube),
        region_path=[regions.name(c) for c in
                     (kube.village_code, kube.district_code, kube.regency_code, kube.province_code)],
    )


@bp.route("/product/<id:product_id>")
@bp.route("/product/<id:product_id>/<slug>")
def product(product_id: int, slug: str | None = None) -> str | Response:
    viewer = _viewer()
    item = services.product_for_viewer(db_session(), product_id, viewer)
    if slug != item.slug:
        return redirect(url_for("catalog.product", product_id=item.id, slug=item.slug), code=301)
    actions = allowed_actions(db_session(), viewer, item.kube)
    more = services.public_products(
        db_session(), services.ProductFilters(kube=item.kube.slug, sort="newest"), per_page=5, totals=_totals()
    )
    return render_template(
        "catalog/product.html",
        product=item,
        actions=actions,
        Action=Action,
        more=[p for p in more.items if p.id != item.id][:4],
    )
