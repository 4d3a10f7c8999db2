"""KUBEs: the public directory and one KUBE's profile."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from werkzeug.wrappers import Response

from marketplace import regions
from marketplace.api import bp
from marketplace.api.helpers import bearer_user, page_args, page_json, province_arg, require_bearer, text_arg
from marketplace.books import services as books
from marketplace.catalog import services
from marketplace.catalog.models import Kube
from marketplace.catalog.permissions import Action, allowed_actions
from marketplace.media import image_relpath
from marketplace.web import db_session


def _region(code: str) -> dict[str, str]:
    return {"code": code, "name": regions.name(code)}


def _photo_url(key: str | None, *, thumb: bool) -> str | None:
    if not key:
        return None
    return url_for("media", path=image_relpath(key, thumb=thumb), _external=True)


def kube_summary_json(kube: Kube) -> dict[str, Any]:
    """The public fields of a KUBE (no members, no contact or bank details)."""
    return {
        "slug": kube.slug,
        "name": kube.name,
        "region": {
            "province": _region(kube.province_code),
            "regency": _region(kube.regency_code),
            "district": _region(kube.district_code),
            "village": _region(kube.village_code),
        },
        "business_kind": kube.business_kind.value,
        "founded_on": kube.founded_on.isoformat() if kube.founded_on else None,
        "story": kube.story,
        "photo_url": _photo_url(kube.photo_key, thumb=False),
        "photo_thumb_url": _photo_url(kube.photo_key, thumb=True),
        "status": kube.status.value,
        "url": url_for("catalog.kube", slug=kube.slug, _external=True),
    }


def kube_json(kube: Kube, *, show_members: bool, niks: dict[int, str] | None = None,
              bank: services.BankAccountView | None = None) -> dict[str, Any]:
    """A KUBE's profile. Members come from the poverty register (UU PDP 27/2022): everyone sees how many
    they are; only the KUBE's own people, its facilitator and operators see names and roles, and each NIK
    as services.member_niks gives it to the viewer (in full, masked, or not at all). The payout account only
    for officers, the facilitator and operators, its number masked for all but the KUBE's officers."""
    data = kube_summary_json(kube)
    data["member_count"] = len(kube.members)
    if show_members:
        niks = niks or {}
        data["members"] = [{"name": m.user.name, "role": m.role.value, "nik": niks.get(m.id)}
                           for m in kube.members]
    if bank is not None:
        data["bank_account"] = {
            "bank_name": bank.bank_name,
            "account_number": bank.account_number or None,
            "account_number_masked": bank.masked,
            "account_holder": bank.account_holder,
        }
    return data


@bp.get("/kubes")
def kubes() -> Response:
    page, per_page = page_args()
    result = services.public_kubes(
        db_session(),
        province=province_arg(),
        kind=text_arg("kind", max_length=20),
        q=text_arg("q", max_length=100),
        page=page,
        per_page=per_page,
    )
    return jsonify(
        page_json(result, lambda card: {**kube_summary_json(card.kube), "product_count": card.product_count})
    )


@bp.get("/kubes/<slug>")
def kube(slug: str) -> Response:
    viewer = bearer_user()
    item = services.kube_by_slug(db_session(), slug, viewer)
    actions = allowed_actions(db_session(), viewer, item)
    body = kube_json(item, show_members=Action.VIEW_PRIVATE in actions,
                     niks=services.member_niks(db_session(), viewer, item),
                     bank=services.bank_account_view(db_session(), viewer, item, full=True))
    if viewer is not None:
        db_session().commit()  # records the token's last use
    return jsonify(body)


@bp.get("/kubes/<slug>/finance")
def kube_finance(slug: str) -> Response:
    """The KUBE's monthly income, expenses and profit (?from=YYYY-MM&to=YYYY-MM, by default the last 12 months),
    for its officers, its facilitators and operators."""
    viewer = require_bearer()
    item = services.kube_by_slug(db_session(), slug, viewer)
    first = books.parse_month(request.args.get("from"), field="from")
    last = books.parse_month(request.args.get("to"), field="to")
    months = books.finance(db_session(), viewer, item.id, first, last)
    body = {
        "kube": {"slug": item.slug, "name": item.name},
        "currency": "IDR",
        "from": months[0].month.strftime("%Y-%m"),
        "to": months[-1].month.strftime("%Y-%m"),
        "months": [{"month": m.month.strftime("%Y-%m"), "income": m.income, "expenses": m.expenses,
                    "profit": m.profit, "platform_sales": m.sales, "book_entries": m.entries} for m in months],
        "totals": {"income": sum(m.income for m in months), "expenses": sum(m.expenses for m in months),
                   "profit": sum(m.profit for m in months)},
    }
    db_session().commit()  # records the token's last use
    return jsonify(body)
