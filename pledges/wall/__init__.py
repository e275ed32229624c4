from flask import Blueprint

bp = Blueprint("wall", __name__)

from pledges.wall import routes  # noqa: E402,F401
