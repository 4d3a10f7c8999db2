"""The shop blueprint; its routes are in views.py, imported by create_app."""

from flask import Blueprint

bp = Blueprint("shop", __name__, url_prefix="/my-kube")
