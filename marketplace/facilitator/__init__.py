"""The facilitator blueprint; its routes are in views.py, imported by create_app."""

from flask import Blueprint

bp = Blueprint("facilitator", __name__, url_prefix="/facilitator")
