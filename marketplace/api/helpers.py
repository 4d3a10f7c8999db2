"""What every API resource shares: bearer authentication, query and body parsing, list envelopes.

The API never looks at the session cookie: it is exempt from CSRF, so only a bearer token may act.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import current_app, request
from werkzeug.wrappers import Response

from marketplace import regions
from marketplace.api import bp
from marketplace.auth.models import User
from marketplace.auth.services import user_for_token
from marketplace.common import N_, DomainError, Page, ValidationError, clean_int
from marketplace.web import db_session

T = TypeVar("T")

MAX_PER_PAGE = 100
MAX_PAGE = 100_000


class Unauthenticated(DomainError):
    """No usable bearer token (or wrong credentials): 401 with a Bearer challenge."""

    code = "unauthorized"
    status = 401


@bp.after_request
def _api_headers(response: Response) -> Response:
    # RFC 7235: a 401 names the scheme the client should use.
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="pasar-kube"')
    # Answers differ with the token (drafts, bank account): caches must keep them apart.
    response.vary.add("Authorization")
    return response


def bearer_user() -> User | None:
    """The user behind `Authorization: Bearer <token>`, None without the header; 401 when it is bad."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, raw = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthenticated(N_("Send the token as 'Authorization: Bearer <token>'."))
    user = user_for_token(db_session(), raw.strip())
    if user is None:
        raise Unauthenticated(N_("The token is invalid, expired or revoked."))
    return user


def require_bearer() -> User:
    """The acting user of a write request; 401 without a valid bearer token."""
    user = bearer_user()
    if user is None:
        raise Unauthenticated(N_("A bearer token is required (POST /api/v1/auth/token)."))
    return user


# --- Query strings ----------------------------------------------------------------------------------


def int_arg(name: str, *, minimum: int, maximum: int, default: int | None = None) -> int | None:
    """A whole-number query argument; junk is a 400 naming the argument."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return default
    return clean_int(raw, field=name, minimum=minimum, maximum=maximum)


def text_arg(name: str, *, max_length: int) -> str | None:
    raw = (request.args.get(name) or "").strip()
    if len(raw) > max_length:
        raise ValidationError(N_("Must be at most %(max)d characters."), field=name, max=max_length)
    return raw or None


def page_args() -> tuple[int, int]:
    page = int_arg("page", minimum=1, maximum=MAX_PAGE, default=1)
    per_page = int_arg("per_page", minimum=1, maximum=MAX_PER_PAGE,
                       default=min(int(current_app.config.get("PER_PAGE", 24)), MAX_PER_PAGE))
    assert page is not None and per_page is not None  # both have defaults
    return page, per_page


def province_arg() -> str | None:
    """A province code such as "72" (Sulawesi Tengah)."""
    code = text_arg("province", max_length=13)
    if code is None:
        return None
    region = regions.region(code)
    if region is None or region.level != 1:
        raise ValidationError(N_("Unknown province code."), field="province")
    return code


def page_json(page: Page[T], item: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": [item(x) for x in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }


# --- JSON bodies ------------------------------------------------------------------------------------

_TYPE_MESSAGES = {
    int: N_("Enter a whole number."),
    str: N_("Must be text."),
    bool: N_("Must be true or false."),
    list: N_("Must be a list."),
    dict: N_("Must be an object."),
}


def json_object() -> dict[str, Any]:
    """The request body as a JSON object; anything else is a 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(N_("Send a JSON object with Content-Type: application/json."))
    return body


def check_fields(body: Mapping[str, object], kinds: Mapping[str, type]) -> None:
    """Refuse unknown keys and values of the wrong JSON type (1.5 or "15000" for an integer)."""
    for key in sorted(body):
        if key not in kinds:
            raise ValidationError(N_("Unknown field '%(name)s'."), field=key, name=key)
        value, kind = body[key], kinds[key]
        # bool is a subclass of int in Python, but true is not a price.
        wrong = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
        if wrong:
            raise ValidationError(_TYPE_MESSAGES[kind], field=key)


def required(body: Mapping[str, object], *names: str) -> None:
    for name in names:
        if name not in body or body[name] in (None, ""):
            raise ValidationError(N_("This field is required."), field=name)
