from flask import Blueprint

bp = Blueprint("facilitator", __name__, url_prefix="/facilitator")

from marketplace.facilitator import views  # noqa: E402,F401 - registers the routes on bp
