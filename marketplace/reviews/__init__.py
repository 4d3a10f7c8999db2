"""Reviews of products and KUBEs by the buyers who received them."""

from flask import Blueprint

bp = Blueprint("reviews", __name__)
