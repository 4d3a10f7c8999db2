"""Each KUBE's cash book: income and expenses by month, the profit, and each member's share of it."""

from flask import Blueprint

bp = Blueprint("books", __name__)
