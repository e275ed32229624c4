from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from pledges.domain.content import CONTENT_PARAM, content_cache_key, pledge_content
from pledges.domain.countries import country_names
from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.infrastructure.headers import allow_framing
from pledges.infrastructure.http_cache import public_cache
from pledges.models import AllyRole, Pledge
from pledges.presentation.display import public_count, public_counts
from pledges.updates.service import RECENT_UPDATES, published_updates
from pledges.wall.cache import cached_page, revalidated_from_memo
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
@public_cache
@revalidated_from_memo
def wall(slug: str):
    ref = public_pledge_ref_or_404(slug)
    try:
        filters = _filters_arg()
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
        recent = public_actions(pledge, RECENT_ACTIONS, filters=filters) if first_page else None
        content = pledge_content(pledge)
        return render_template(
            "wall/wall.html",
            pledge=pledge,
            content=content,
            recent_updates=published_updates(pledge, content.language, RECENT_UPDATES)
            if first_page
            else [],
            page=page,
            matching=public_count(page.total),
            filters=filters,
            tally=tally,
            by_role=public_counts(tally.by_role, [r.value for r in AllyRole]),
            by_country=public_counts(tally.by_country),
            # The filter's choices: every country with a signer counted, by name.
            country_choices=[c for c in country_names() if c in tally.by_country],
            role_choices=[r.value for r in AllyRole],
            first_page=first_page,
            recent_actions=recent.actions if recent else [],
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
@public_cache
@revalidated_from_memo
def actions(slug: str):
    """The feed of public actions: what signers did, shown as each signer chose."""
    ref = public_pledge_ref_or_404(slug)
    try:
        filters = _filters_arg()
        raw = request.args.get("before")
        before = ActionCursor.decode(raw) if raw else None
    except BadWallQuery as exc:
        abort(400, description=str(exc))

    def render() -> str:
        pledge = db.session.get(Pledge, ref.id)
        size = current_app.config["WALL_PAGE_SIZE"]
        return render_template(
            "wall/actions.html",
            pledge=pledge,
            content=pledge_content(pledge),
            page=public_actions(pledge, size, before=before, filters=filters),
            filters=filters,
            tally=tally_for(pledge.id),
            first_page=before is None,
        )

    key = ":".join(
        [
            "actions",
            ref.cache_stamp,
            filters.country or "",
            filters.role or "",
            before.encode() if before else "",
            content_cache_key(),
        ]
    )
    return cached_page(key, render, ("country", "role", "before", CONTENT_PARAM))


@bp.get("/p/<slug>/feed.atom")
@public_cache
@revalidated_from_memo
def feed(slug: str):
    """New signatures and public actions as an Atom feed, signers shown as they chose."""
    ref = public_pledge_ref_or_404(slug)

    def render() -> bytes:
        return atom_feed(db.session.get(Pledge, ref.id))

    key = ":".join(["feed", ref.cache_stamp, content_cache_key()])
    return cached_page(key, render, mimetype="application/atom+xml")


@bp.get("/p/<slug>/embed")
@public_cache
@allow_framing
def embed(slug: str):
    """The counter partner sites put in an iframe: the only page that may be framed."""
    pledge = public_pledge_or_404(slug)
    return render_template(
        "wall/embed.html", pledge=pledge, content=pledge_content(pledge), tally=tally_for(pledge.id)
    )


def _filters_arg() -> WallFilters:
    args = request.args
    return WallFilters.parse(args.get("country"), args.get("role"))


def _cursor_arg(name: str) -> Cursor | None:
    raw = request.args.get(name)
    return Cursor.decode(raw) if raw else None
