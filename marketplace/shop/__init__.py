from flask import Blueprint

bp = Blueprint("shop", __name__, url_prefix="/my-kube")

from marketplace.shop import views  # noqa: E402,F401 - registers the routes on bp
