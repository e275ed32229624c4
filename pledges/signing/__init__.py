from flask import Blueprint

bp = Blueprint("signing", __name__)

from pledges.signing import routes  # noqa: E402,F401
