from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from pledges.domain.content import CONTENT_PARAM, content_cache_key, pledge_content
from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.infrastructure.headers import allow_framing
from pledges.models import AllyRole, Pledge
from pledges.presentation.display import public_counts
from pledges.wall.cache import cached_page
from pledges.wall.feed import atom_feed
from pledges.wall.service import (
    ActionCursor,
    BadWallQuery,
    Cursor,
    WallFilters,
    public_actions,
    public_pledge_or_404,
    public_pledge_ref_or_404,
    wall_page,
)

RECENT_ACTIONS = 3

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
        first_page = before is None and after is None
        tally = tally_for(pledge.id)
        return render_template(
            "wall/wall.html",
            pledge=pledge,
            content=pledge_content(pledge),
            page=page,
            filters=filters,
            tally=tally,
            by_role=public_counts(tally.by_role, [r.value for r in AllyRole]),
            by_country=public_counts(tally.by_country),
            first_page=first_page,
            recent_actions=public_actions(pledge, RECENT_ACTIONS).actions if first_page else [],
        )

    key = ":".join(
        [
            "wall",
            ref.cache_stamp,
            filters.country or "",
            filters.role or "",
            before.encode() if before else "",
            after.encode() if after else "",
            content_cache_key(),
        ]
    )
    return cached_page(key, render, ("country", "role", "before", "after", CONTENT_PARAM))


@bp.get("/p/<slug>/actions")
def actions(slug: str):
    """The feed of public actions: what signers did, shown as each signer chose."""
    ref = public_pledge_ref_or_404(slug)
    try:
        raw = request.args.get("before")
        before = ActionCursor.decode(raw) if raw else None
    except BadWallQuery as exc:
        abort(400, description=str(exc))

    def render() -> str:
        pledge = db.session.get(Pledge, ref.id)
        return render_template(
            "wall/actions.html",
            pledge=pledge,
            content=pledge_content(pledge),
            page=public_actions(pledge, current_app.config["WALL_PAGE_SIZE"], before=before),
            tally=tally_for(pledge.id),
            first_page=before is None,
        )

    key = ":".join(
        ["actions", ref.cache_stamp, before.encode() if before else "", content_cache_key()]
    )
    return cached_page(key, render, ("before", CONTENT_PARAM))


@bp.get("/p/<slug>/feed.atom")
def feed(slug: str):
    """New signatures and public actions as an Atom feed, signers shown as they chose."""
    ref = public_pledge_ref_or_404(slug)

    def render() -> bytes:
        return atom_feed(db.session.get(Pledge, ref.id))

    key = ":".join(["feed", ref.cache_stamp, content_cache_key()])
    return Response(cached_page(key, render), mimetype="application/atom+xml")


@bp.get("/p/<slug>/embed")
@allow_framing
def embed(slug: str):
    """The counter partner sites put in an iframe: the only page that may be framed."""
    pledge = public_pledge_or_404(slug)
    return render_template(
        "wall/embed.html", pledge=pledge, content=pledge_content(pledge), tally=tally_for(pledge.id)
    )


def _cursor_arg(name: str) -> Cursor | None:
    raw = request.args.get(name)
    return Cursor.decode(raw) if raw else None
