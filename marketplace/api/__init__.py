from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from marketplace.api import views  # noqa: E402,F401 - registers the routes on bp
