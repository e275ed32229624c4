"""Follow-through: the actions signers log against the commitments they chose."""

from flask import Blueprint

bp = Blueprint("actions", __name__)

from pledges.actions import routes  # noqa: E402,F401
