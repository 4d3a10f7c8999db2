"""Product search: Indonesian analysis, a Whoosh index kept in step through an outbox, /search."""

from flask import Blueprint

bp = Blueprint("search", __name__)
