"""A bare Flask app with one page: the ceiling that run.py measures under the same gunicorn set-up."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "Hello, KUBE!"
