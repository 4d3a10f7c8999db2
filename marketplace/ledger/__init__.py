"""Each KUBE's account with the platform: credits from paid orders, fees, refunds, payouts."""

from flask import Blueprint

bp = Blueprint("ledger", __name__)
