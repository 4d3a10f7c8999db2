"""Demand insights by province and kabupaten, for Dinas Sosial, the ministry and operators."""

from flask import Blueprint

bp = Blueprint("insights", __name__)
