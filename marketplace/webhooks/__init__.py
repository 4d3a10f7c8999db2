"""Outgoing webhooks for partners: endpoints, the delivery outbox, its worker, and the operator pages."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")
