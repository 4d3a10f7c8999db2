"""What every page shares: template filters, error pages, the media route and small view helpers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from urllib.parse import urlencode

from flask import Flask, abort, current_app, jsonify, render_template, request, send_from_directory
from flask_babel import format_date, format_datetime, get_locale, gettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from lokal.rupiah import format_rupiah
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from marketplace import labels, regions
from marketplace.catalog.services import ImageLimits
from marketplace.common import DomainError, NotFoundError, PermissionDenied
from marketplace.extensions import db
from marketplace.i18n import error_text
from marketplace.media import image_relpath


def rupiah(amount: int | None) -> str:
    """Rp15.000: dot for thousands, whole rupiah (shared/domain/KUBE.md, Indonesian conventions)."""
    return format_rupiah(int(amount or 0))


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def lang_url(code: str) -> str:
    """The current page in another language (the choice is remembered in the session)."""
    args = request.args.to_dict()
    args["lang"] = code
    return f"{request.path}?{urlencode(args)}"


def locale_code() -> str:
    return str(get_locale() or "id")


def image_limits() -> ImageLimits:
    cfg = current_app.config
    return ImageLimits(cfg["MEDIA_ROOT"], cfg["MAX_UPLOAD_BYTES"], cfg["MAX_IMAGE_PIXELS"])


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
    app.add_template_filter(rupiah, "rupiah")
    app.add_template_filter(regions.name, "region_name")
    # Globals (not only context) so that imported macros, which get no context, can use them too.
    app.jinja_env.globals.update(labels.template_globals())

    @app.template_filter("date")
    def _date(value: date | datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, fmt)
        return format_date(value, fmt)

    @app.template_filter("photo_url")
    def _photo_url(key: str | None, thumb: bool = True) -> str | None:
        from flask import url_for

        if not key:
            return None
        return url_for("media", path=image_relpath(key, thumb=thumb))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "locale": locale_code(),
            "languages": app.config["LANGUAGES"],
            "lang_url": lang_url,
            **labels.template_globals(),
        }

    @app.route("/media/<path:path>")
    def media(path: str) -> Response:
        response = send_from_directory(app.config["MEDIA_ROOT"], path, max_age=7 * 24 * 3600)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.before_request
    def _refuse_nul_bytes() -> None:
        # No text column (PostgreSQL's least of all) can hold NUL; such input is never legitimate.
        if _has_nul(list(request.args.values()) + list(request.form.values())):
            abort(400)
        if request.is_json and _has_nul(request.get_json(silent=True)):
            abort(400)

    @app.route("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> tuple[str, int] | Response:
        if wants_json():
            return json_error(error.status, error.code, error_text(error),
                              **({"field": error.field} if error.field else {}))
        return render_template("errors/error.html", status=error.status, message=error_text(error)), error.status

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int] | Response:
        message = gettext("The form expired or was not sent from this site. Reload the page and try again.")
        if wants_json():
            return json_error(400, "csrf", message)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int] | Response:
        status = error.code or 500
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
            return json_error(status, codes.get(status, "error"), message)
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(500)
    def _server_error(error: Exception) -> tuple[str, int] | Response:
        message = gettext("Something went wrong on our side.")
        if wants_json():
            return json_error(500, "server_error", message)
        return render_template("errors/error.html", status=500, message=message), 500

