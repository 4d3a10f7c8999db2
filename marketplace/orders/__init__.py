"""Cart, checkout and orders: one checkout with one order per KUBE, stock reserved atomically."""

from flask import Blueprint

bp = Blueprint("orders", __name__)
