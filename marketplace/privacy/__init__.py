"""Personal data under UU PDP No. 27/2022: each user's own data (download, deletion requests), and the
helpers that keep a member's NIK and a KUBE's bank account from being shown more than needed."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
