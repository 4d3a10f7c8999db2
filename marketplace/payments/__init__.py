"""Payment providers (manual bank transfer and cash on delivery, Stripe cards), webhooks and refunds."""

from flask import Blueprint

bp = Blueprint("payments", __name__)
