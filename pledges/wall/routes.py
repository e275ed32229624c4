from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from pledges.extensions import db
from pledges.models import Pledge
from pledges.tallies import tally_for
from pledges.wall.cache import cached_page
from pledges.wall.service import (
    BadWallQuery,
    Cursor,
    WallFilters,
    public_pledge_ref_or_404,
    wall_page,
)

bp = Blueprint("wall", __name__)


@bp.get("/p/<slug>/wall")
def wall(slug: str):
    ref = public_pledge_ref_or_404(slug)
    try:
        filters = WallFilters.parse(request.args.get("country"), request.args.get("role"))
        before = _cursor_arg("before")
        after = _cursor_arg("after")
    except BadWallQuery as exc:
        abort(400, description=str(exc))

    def render() -> str:
        pledge = db.session.get(Pledge, ref.id)
        page = wall_page(
            pledge,
            current_app.config["WALL_PAGE_SIZE"],
            filters=filters,
            before=before,
            after=after,
        )
        return render_template(
            "wall/wall.html",
            pledge=pledge,
            page=page,
            filters=filters,
            tally=tally_for(pledge.id),
            first_page=before is None and after is None,
        )

    key = ":".join(
        [
            "wall",
            ref.cache_stamp,
            filters.country or "",
            filters.role or "",
            before.encode() if before else "",
            after.encode() if after else "",
        ]
    )
    return cached_page(key, render)


def _cursor_arg(name: str) -> Cursor | None:
    raw = request.args.get(name)
    return Cursor.decode(raw) if raw else None
