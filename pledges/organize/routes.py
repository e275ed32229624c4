"""Organizer pages under /organize/."""

from __future__ import annotations

from flask import Blueprint, render_template

from pledges.accounts.access import organizer_required, pledges_managed_by_current_user
from pledges.extensions import db

bp = Blueprint("organize", __name__, url_prefix="/organize")


@bp.get("/")
@organizer_required
def index():
    pledges = db.session.scalars(pledges_managed_by_current_user()).all()
    return render_template("organize/index.html", pledges=pledges)
