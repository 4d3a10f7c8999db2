"""Order takers sourcing inputs from KUBEs and chains: requests, quotes, contracts, deliveries and lots."""

from flask import Blueprint

bp = Blueprint("sourcing", __name__)
