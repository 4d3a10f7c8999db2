"""The search page: /search?q=... with facets, sorting and pages."""

from __future__ import annotations

from flask import redirect, render_template, request
from flask_babel import get_locale
from werkzeug.wrappers import Response

from marketplace.common import DomainError
from marketplace.search import bp, services
from marketplace.search.backend import SORTS
from marketplace.search.runtime import runtime
from marketplace.web import db_session, error_text, query_int, query_page, url_with


def params_from_args() -> services.SearchParams:
    """Search parameters from the query string; junk numbers are ignored like on the catalogue pages."""
    sort = request.args.get("sort") or "relevance"
    return services.SearchParams(
        q=(request.args.get("q") or "")[:2000],
        category=request.args.get("category") or None,
        province=request.args.get("province") or None,
        kube=request.args.get("kube") or None,
        min_price=query_int("min_price"),
        max_price=query_int("max_price"),
        in_stock=request.args.get("in_stock") == "1",
        sort=sort,
        page=query_page(),
        per_page=20,
    )


@bp.route("/search")
def search() -> str | Response | tuple[str, int]:
    params = params_from_args()
    search_runtime = runtime()
    try:
        results = services.search(
            db_session(), search_runtime.backend, params, locale=str(get_locale() or "id"), source="web",
            on_broken=search_runtime.indexer.mark_broken,
        )
    except DomainError as error:
        db_session().rollback()
        return render_template("search/results.html", results=None, params=params, error=error_text(error),
                               sorts=SORTS), 400
    if results.past_end:
        db_session().rollback()  # not logged: the page it sends to will be
        return redirect(url_with(page=results.pages))
    html = render_template("search/results.html", results=results, params=results.params, error=None,
                           sorts=SORTS)
    # Commit (the search log) after rendering: a commit expires the loaded products, and touching them
    # again afterwards would reload each one (a query per row).
    db_session().commit()
    return html
