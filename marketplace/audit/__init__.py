"""The audit log: who did which sensitive thing, when; operators read it at /admin/audit, nobody edits it."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
