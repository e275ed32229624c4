"""The public, read-only JSON API (v1). Public fields only: never an email or a hash."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from pledges.api import routes  # noqa: E402,F401
