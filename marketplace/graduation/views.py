"""Pages of graduation readiness: the list of KUBEs by readiness, and one KUBE's rules with its figures."""

from __future__ import annotations

from datetime import date

from flask import current_app, render_template, request
from flask_babel import format_date, gettext, ngettext
from flask_babel import gettext as _
from flask_login import login_required

from marketplace import regions
from marketplace.common import utcnow
from marketplace.graduation import bp, services
from marketplace.graduation.rules import STATUS_ORDER, Message, Rules, Status
from marketplace.web import current_actor, db_session, money_chart, query_page

PER_PAGE = 50


def rules() -> Rules:
    """The rules as configured (MARKETPLACE_GRADUATION_*, checked when the app starts)."""
    return Rules.from_config(current_app.config["GRADUATION"])


@bp.app_template_filter("readiness_text")
def readiness_text(message: Message | None) -> str:
    """A rule's message in the page's language (months as "November 2026")."""
    if message is None:
        return ""
    params = {k: format_date(v, "MMMM yyyy") if isinstance(v, date) else v for k, v in message.params.items()}
    if message.plural is not None:
        return ngettext(message.text, message.plural, int(params.pop("num", 0)), **params)  # type: ignore[arg-type]
    return gettext(message.text, **params)


def _province_arg() -> str | None:
    code = (request.args.get("province") or "").strip()
    found = regions.region(code) if code.isascii() and code.isdigit() else None
    return code if found is not None and found.level == 1 else None


def _status_arg() -> Status | None:
    try:
        return Status((request.args.get("status") or "").strip())
    except ValueError:
        return None


@bp.route("/graduation")
@login_required
def overview() -> str:
    """Which KUBEs are ready for KUR credit / graduation, which are close, which not yet, and why."""
    province, status = _province_arg(), _status_arg()
    result = services.readiness_for(db_session(), current_actor(), services.Filters(province, status), utcnow(),
                                    rules(), page=query_page(), per_page=PER_PAGE)
    return render_template("graduation/list.html", overview=result, provinces=regions.provinces(),
                           province=province, status=status, statuses=STATUS_ORDER, graduation_settings=rules())


@bp.route("/graduation/<slug>")
@login_required
def kube(slug: str) -> str:
    """One KUBE's readiness: each rule with its figures, and a year of income, expenses and profit."""
    row = services.readiness_of(db_session(), current_actor(), slug, utcnow(), rules())
    year = row.history[-services.CHART_MONTHS:]
    chart = money_chart(year, title=_("Income, expenses and profit per month"))
    return render_template("graduation/kube.html", row=row, readiness=row.readiness, chart=chart,
                           graduation_settings=rules())
