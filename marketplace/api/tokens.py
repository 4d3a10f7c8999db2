"""Bearer tokens: trade an e-mail and password for a token once, then send it with every write."""

from __future__ import annotations

from flask import current_app, jsonify
from werkzeug.wrappers import Response

from marketplace.api import bp
from marketplace.api.helpers import Unauthenticated, check_fields, json_object, required
from marketplace.auth import services
from marketplace.common import N_
from marketplace.web import db_session


@bp.post("/auth/token")
def token() -> tuple[Response, int, dict[str, str]]:
    body = json_object()
    check_fields(body, {"email": str, "password": str})
    required(body, "email", "password")
    user = services.authenticate(db_session(), body["email"], body["password"])
    if user is None:
        raise Unauthenticated(N_("Wrong e-mail or password."))
    raw, issued = services.issue_api_token(db_session(), user, days=int(current_app.config["API_TOKEN_DAYS"]))
    expires_at = issued.expires_at
    db_session().commit()
    answer = {"token": raw, "token_type": "Bearer", "expires_at": expires_at.isoformat()}
    # RFC 6749 5.1: a response carrying a token must not be cached.
    return jsonify(answer), 201, {"Cache-Control": "no-store", "Pragma": "no-cache"}
