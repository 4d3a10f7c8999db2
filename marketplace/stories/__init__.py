"""Success stories: a facilitator writes a KUBE's story with photos; an operator publishes it on the site."""

from flask import Blueprint

bp = Blueprint("stories", __name__)
