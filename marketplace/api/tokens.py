"""Bearer tokens: trade an e-mail and password for a token once, then send it with every write."""

from __future__ import annotations

from flask import current_app, jsonify
from werkzeug.wrappers import Response

from marketplace.api import bp
from marketplace.api.helpers import Unauthenticated, check_fields, json_object, required
from marketplace.auth import services
from marketplace.auth.messages import locked_message
from marketplace.common import N_, utcnow
from marketplace.ratelimits import post_limit
from marketplace.web import db_session, json_error


@bp.post("/auth/token")
@post_limit("API_TOKEN", with_blueprint_limit=True)
def token() -> tuple[Response, int, dict[str, str]]:
    body = json_object()
    check_fields(body, {"email": str, "password": str})
    required(body, "email", "password")
    try:
        user = services.authenticate(db_session(), body["email"], body["password"],
                                     policy=services.LockoutPolicy.from_config(current_app.config))
    except services.AccountLocked as locked:
        db_session().commit()  # the failure that locked the account counts
        retry = max(1, int((locked.locked_until - utcnow()).total_seconds()))
        return (json_error(403, locked.code, locked_message(locked)), 403,
                {"Retry-After": str(retry), "Cache-Control": "no-store"})
    if user is None:
        db_session().commit()  # failed attempts count towards the lockout (the error handler rolls back)
        raise Unauthenticated(N_("Wrong e-mail or password."))
    raw, issued = services.issue_api_token(db_session(), user, days=int(current_app.config["API_TOKEN_DAYS"]))
    expires_at = issued.expires_at
    db_session().commit()
    answer = {"token": raw, "token_type": "Bearer", "expires_at": expires_at.isoformat()}
    # RFC 6749 5.1: a response carrying a token must not be cached.
    return jsonify(answer), 201, {"Cache-Control": "no-store", "Pragma": "no-cache"}
