"""Graduation readiness: which KUBEs are ready for KUR credit and to leave social assistance, and why."""

from flask import Blueprint

bp = Blueprint("graduation", __name__)
