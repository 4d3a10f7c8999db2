"""The admin blueprint; its routes are in views.py, imported by create_app."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
