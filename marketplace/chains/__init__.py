"""Supply chains that link several KUBEs (integrated business), and the planner."""

from flask import Blueprint

bp = Blueprint("chains", __name__)
