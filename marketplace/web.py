"""What every page shares: template filters, error pages, the media route and small view helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, jsonify, render_template, request, send_from_directory, url_for
from flask_babel import format_date, format_datetime, get_locale, gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from lokal.rupiah import format_rupiah
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from marketplace import labels, regions
from marketplace.auth.models import User
from marketplace.books.services import MonthFigures
from marketplace.catalog.services import ImageLimits
from marketplace.charts import Point, month_chart
from marketplace.common import DomainError, NotFoundError, PermissionDenied, ValidationError, clean_int
from marketplace.extensions import db
from marketplace.forms import ActionForm
from marketplace.i18n import error_text
from marketplace.media import image_relpath


def rupiah(amount: int | None) -> str:
    """Rp15.000: dot for thousands, whole rupiah (shared/domain/KUBE.md, Indonesian conventions)."""
    return format_rupiah(int(amount or 0))


def _has_bad_text(value: object) -> bool:
    """Whether any text in a (nested) value holds a NUL byte or a lone surrogate (no database stores
    either); iterative, so no depth of nesting can overflow."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# The only query arguments that links to "this page, changed" carry over (never _external, _anchor...).
LINK_ARGS = ("q", "category", "province", "kube", "kind", "min_price", "max_price", "in_stock", "sort", "status",
             "page")


def url_with(**changes: object) -> str:
    """The current page's URL with some filters changed (None drops one): for chips and pagination."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in LINK_ARGS and v}
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint or "catalog.home", **(request.view_args or {}), **args)


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default` (no open redirects)."""
    target = target or ""
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default  # browsers read "/\\host" as "//host"
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default


def lang_url(code: str) -> str:
    """The current page in another language (the choice is remembered in the session).

    Built with url_for from the matched route, never from the raw path (a 404 path may be "/\\evil")."""
    if request.endpoint is None or request.url_rule is None or "GET" not in (request.url_rule.methods or ()):
        return url_for("catalog.home", lang=code)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in LINK_ARGS and v}
    return url_for(request.endpoint, **(request.view_args or {}), **args, lang=code)


def locale_code() -> str:
    return str(get_locale() or "id")


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(config: Mapping[str, Any]) -> str:
    """Everything from this server; with card payments on, Stripe.js and its frames and API as well (card
    numbers never touch this server: Stripe.js sends them to Stripe)."""
    if not config.get("STRIPE_SECRET_KEY"):
        return CONTENT_SECURITY_POLICY
    js = _origin(config.get("STRIPE_JS_URL", ""))
    api = _origin(config.get("STRIPE_API_BASE", "")) or "https://api.stripe.com"
    frames = f"{js} https://hooks.stripe.com" if "stripe.com" in js else js
    return (
        f"default-src 'self'; img-src 'self' data: {js}; style-src 'self'; script-src 'self' {js}; "
        f"frame-src {frames}; connect-src 'self' {api} {js}; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


# Permissions-Policy: no page uses these browser features (photo uploads open the phone's own camera picker).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
MAX_PAGE = 100_000
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<id:product_id>`: 1 to 2**31-1; anything else is a 404 before any query runs."""

    # Exactly 1 to 2147483647 without leading zeros. The router compares methods before it converts, so with
    # the plain \d+ an id out of range gave 405 (PATCH /products/0: "GET allowed") where it must give 404.
    regex = (r"(?:[1-9]\d{0,8}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}"
             r"|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7])")

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def query_int(name: str, *, minimum: int = 0, maximum: int = 10**12) -> int | None:
    """A whole-number query argument for a page; junk is ignored (the page shows unfiltered)."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return clean_int(raw, field=name, minimum=minimum, maximum=maximum)
    except ValidationError:
        return None


def query_page() -> int:
    return query_int("page", minimum=1, maximum=MAX_PAGE) or 1


def image_limits() -> ImageLimits:
    cfg = current_app.config
    return ImageLimits(cfg["MEDIA_ROOT"], cfg["MAX_UPLOAD_BYTES"], cfg["MAX_IMAGE_PIXELS"])


def money_chart(figures: Sequence[MonthFigures], title: str | None = None) -> Markup:
    """A chart of monthly income, expenses and profit (the KUBE dashboard, the cash book, the facilitator's and
    the readiness pages share it)."""
    points = [Point(format_date(f.month, "MMM yy"), f.income, f.expenses) for f in figures]
    return month_chart(points, title=title or gettext("Income, expenses and profit, last %(count)d months",
                                                      count=len(points)),
                       income_label=gettext("Income"), expenses_label=gettext("Expenses"),
                       profit_label=gettext("Profit"))


def private_image_limits() -> ImageLimits:
    """Where private photos go (receipts, field visits): served only by views that check who asks."""
    cfg = current_app.config
    return ImageLimits(cfg["PRIVATE_MEDIA_ROOT"], cfg["MAX_UPLOAD_BYTES"], cfg["MAX_IMAGE_PIXELS"])


def send_private_image(key: str, *, thumb: bool = False) -> Response:
    """A private photo by its key (the caller has checked that the actor may see it)."""
    response = send_from_directory(current_app.config["PRIVATE_MEDIA_ROOT"], image_relpath(key, thumb=thumb),
                                   max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def db_session() -> Session:
    """The request's session, typed as the plain Session the services take."""
    return cast(Session, db.session)


def apply_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service error on the form field it names (or on the form as a whole)."""
    message = error_text(error)
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        errors = list(field.errors or [])
        errors.append(message)
        field.errors = errors
    else:
        form.form_errors.append(message)


def raise_if_not_form_error(error: DomainError) -> None:
    """Re-raise what no form can fix (forbidden, or an unknown KUBE/product) so it becomes a 403/404 page."""
    if isinstance(error, PermissionDenied | NotFoundError) and error.field is None:
        raise error


def current_actor() -> User:
    """The signed-in user (views behind @login_required), as the plain model the services take."""
    user: User = current_user._get_current_object()
    return user


def flash_refusal(error: DomainError) -> None:
    """A service refused a one-button action: undo, then flash why (or show 403/404 when it is that)."""
    db.session.rollback()
    raise_if_not_form_error(error)
    flash(error_text(error), "danger")


def one_button_step(step: Callable[[], object], done: str, form: FlaskForm | None = None) -> bool:
    """A small POST form (a bare button unless `form` is given): when it validates, run the service step, commit
    once and flash `done`; otherwise flash why not (the form's first error, or the service's refusal).
    True when the step was done."""
    form = form if form is not None else ActionForm()
    if not form.validate_on_submit():
        if form.errors:
            errors = [error for name, field_errors in form.errors.items() if name != "csrf_token"
                      for error in field_errors]
            flash(str(errors[0]) if errors else
                  gettext("The form expired or was not sent from this site. Reload the page and try again."), "danger")
        return False
    try:
        step()
    except DomainError as error:
        flash_refusal(error)
        return False
    db.session.commit()
    flash(done, "success")
    return True


def reject_form(form: FlaskForm, error: DomainError) -> None:
    """A service refused a form: undo the request's changes, then show the error on the form
    (or as a 403/404 page when no form field can fix it)."""
    db.session.rollback()
    raise_if_not_form_error(error)
    apply_error(form, error)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, **extra: Any) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
    response = jsonify(body)
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    csp = content_security_policy(app.config)
    app.add_template_filter(rupiah, "rupiah")
    app.add_template_filter(regions.name, "region_name")
    # Globals (not only context) so that imported macros, which get no context, can use them too.
    # Globals, not a context processor: macros imported without context see them too.
    app.jinja_env.globals.update(labels.template_globals(), url_with=url_with, lang_url=lang_url,
                                 error_text=error_text)

    @app.template_filter("date")
    def _date(value: date | datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, fmt)
        return format_date(value, fmt)

    @app.template_filter("photo_url")
    def _photo_url(key: str | None, thumb: bool = True) -> str | None:
        if not key:
            return None
        return url_for("media", path=image_relpath(key, thumb=thumb))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "locale": locale_code(),
            "languages": app.config["LANGUAGES"],
        }

    @app.route("/media/<path:path>")
    def media(path: str) -> Response:
        response = send_from_directory(app.config["MEDIA_ROOT"], path, max_age=7 * 24 * 3600)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.before_request
    def _refuse_unstorable_text() -> None:
        # No text column (PostgreSQL's least of all) can hold NUL; such input is never legitimate.
        values = [request.path]
        for multi in (request.args, request.form):
            for key, items in multi.lists():
                values += [key, *items]
        if _has_bad_text(values):
            abort(400)
        if request.is_json:
            try:
                body = request.get_json(silent=True)
            except RecursionError:  # absurdly deep nesting
                abort(400)
            if _has_bad_text(body):
                abort(400)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # Everything is served from here: no CDN, no inline script or style (Bootstrap's data: SVG icons aside).
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        # No page needs the camera, microphone, location or payment request API (Stripe's card form runs in
        # its own frame and needs none of them either); no window opened from elsewhere keeps a handle on ours.
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("ENV_NAME") == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    @app.route("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> tuple[str, int] | Response:
        db.session.rollback()  # a refused request changes nothing, whatever a service had flushed
        if wants_json():
            return json_error(error.status, error.code, error_text(error),
                              **({"field": error.field} if error.field else {}))
        return render_template("errors/error.html", status=error.status, message=error_text(error)), error.status

    @app.errorhandler(IntegrityError)
    def _integrity_error(error: IntegrityError) -> tuple[str, int] | Response:
        # Two requests raced past a service's check (the same e-mail or slug at once): the database's
        # constraint held, so nothing was saved; say so instead of failing.
        db.session.rollback()
        message = gettext("Someone else changed this at the same moment. Please try again.")
        if wants_json():
            return json_error(409, "conflict", message)
        return render_template("errors/error.html", status=409, message=message), 409

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int] | Response:
        message = gettext("The form expired or was not sent from this site. Reload the page and try again.")
        if wants_json():
            return json_error(400, "csrf", message)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int, dict[str, str]] | Response:
        status = error.code or 500
        # RFC 9110 15.5.6: a 405 lists the methods the resource has (werkzeug's own page did; ours must too).
        allow = ({"Allow": ", ".join(error.valid_methods)}
                 if isinstance(error, MethodNotAllowed) and error.valid_methods else {})
        messages = {
            400: gettext("The request could not be understood."),
            401: gettext("Please sign in."),
            403: gettext("You are not allowed to see this page."),
            404: gettext("This page does not exist."),
            405: gettext("This method is not allowed here."),
            413: gettext("The upload is too large."),
            429: gettext("Too many requests. Please wait a moment."),
        }
        message = messages.get(status, gettext("Something went wrong on our side."))
        if wants_json():
            codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                     405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}
            response = json_error(status, codes.get(status, "error"), message)
            response.headers.update(allow)
            return response
        return render_template("errors/error.html", status=status, message=message), status, allow

    @app.errorhandler(500)
    def _server_error(error: Exception) -> tuple[str, int] | Response:
        message = gettext("Something went wrong on our side.")
        if wants_json():
            return json_error(500, "server_error", message)
        return render_template("errors/error.html", status=500, message=message), 500

