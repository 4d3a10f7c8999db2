"""The api blueprint; its routes are in views.py, imported by create_app."""

from flask import Blueprint

from marketplace.ratelimits import limit_blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Every API request counts against RATELIMIT_API per client address (the token endpoint has a tighter one too).
limit_blueprint(bp, "API")
