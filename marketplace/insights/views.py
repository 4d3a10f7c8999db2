"""Pages of the demand insights: the figures by region (GET /insights) and the same as CSV (GET /insights.csv)."""

from __future__ import annotations

import csv
import io

from flask import Response, render_template, request
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import login_required

from marketplace import regions
from marketplace.common import ValidationError
from marketplace.i18n import error_text
from marketplace.insights import bp, services
from marketplace.insights.charts import Bar, month_bars, ranking_bars
from marketplace.sourcing.forms import unit_name
from marketplace.web import current_actor, db_session, locale_code

FILTER_ARGS = ("from", "to", "province", "kabupaten")


def _typed() -> dict[str, str]:
    """The filters as typed (cut short: they are only shown back in the form)."""
    return {name: (request.args.get(name) or "").strip()[:20] for name in FILTER_ARGS}


def _filters() -> services.Filters:
    args = request.args
    return services.clean_filters(args.get("from"), args.get("to"), args.get("province"), args.get("kabupaten"))


@bp.route("/insights")
@login_required
def index() -> str:
    """Operators and ministry / Dinas Sosial staff: sales, KUBEs and demand by province and kabupaten."""
    user = current_actor()
    services.require_viewer(user)
    typed = _typed()
    try:
        filters = _filters()
    except ValidationError as error:
        # The form again, with the error on its field (and the kabupaten list of a valid province).
        return render_template("insights/index.html", data=None, typed=typed,
                               errors={error.field or "from": error_text(error)}, provinces=regions.provinces(),
                               kabupaten=_kabupaten_of(typed["province"]))
    data = services.insights(db_session(), user, filters)
    province = filters.province or ""
    return render_template(
        "insights/index.html", data=data, typed=typed, errors={}, provinces=regions.provinces(),
        kabupaten=_kabupaten_of(province),
        month_chart=month_bars(
            [_month_bar(m) for m in data.months], title=_("Sales per month"),
            value_label=_("Marketplace orders"), extra_label=_("Supply contracts")),
        product_chart=ranking_bars([Bar(p.name, p.sales) for p in data.top_products],
                                   title=_("Top products by sales")),
        number=format_decimal, unit_name=unit_name,
    )


def _month_bar(month: services.MonthSales) -> Bar:
    return Bar(format_date(month.month, "MMM yy"), month.sales, month.contract_sales)


def _kabupaten_of(province: str | None) -> tuple[regions.Region, ...]:
    region = regions.region(province) if province and len(province) <= 13 else None
    return regions.children(region.code) if region is not None and region.level == 1 else ()


@bp.route("/insights.csv")
@login_required
def export() -> Response:
    """The same figures as one CSV file (a `section` column tells the tables apart), UTF-8 with a BOM for Excel."""
    user = current_actor()
    services.require_viewer(user)
    filters = _filters()  # a bad filter is a 400 page: there is no form to show it on
    data = services.insights(db_session(), user, filters)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(services.CSV_COLUMNS)
    writer.writerows(services.csv_rows(data, locale_code()))
    name = "-".join(["insights", (filters.region_code or "id").replace(".", "-"), filters.first.isoformat(),
                     filters.last.isoformat()])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
