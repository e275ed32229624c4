from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from flask_babel import get_locale

from pledges.api import serializers
from pledges.api.spec import openapi_document
from pledges.domain.content import translated_titles
from pledges.domain.tallies import tally_for, totals_for
from pledges.infrastructure.abuse import limit_api
from pledges.infrastructure.converters import positive_int
from pledges.infrastructure.http_cache import public_cache
from pledges.wall.service import (
    BadWallQuery,
    Cursor,
    WallFilters,
    public_pledge_or_404,
    public_pledges,
    wall_page,
)

bp = Blueprint("api", __name__)
limit_api(bp)

DEFAULT_LIMIT = 50


@bp.after_request
def allow_any_origin(response):
    # Public, read-only, no cookies: partner sites may read it from their pages.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _limit() -> int:
    raw = request.args.get("limit")
    maximum = current_app.config["API_MAX_LIMIT"]
    if raw is None:
        return min(DEFAULT_LIMIT, maximum)
    limit = positive_int(raw, maximum)
    if limit is None:
        abort(400, description=f"limit must be a whole number from 1 to {maximum}.")
    return limit


@bp.get("/pledges")
@public_cache
def pledges():
    limit = _limit()
    raw_cursor = request.args.get("cursor")
    after_id = None
    if raw_cursor:
        after_id = positive_int(raw_cursor)
        if after_id is None:
            abort(400, description="cursor is not valid; use next_cursor from a previous page.")
    rows = public_pledges(limit + 1, after_id)
    page = rows[:limit]
    totals = totals_for([p.id for p in page])
    titles = translated_titles([p.id for p in page], str(get_locale()))
    return jsonify(
        {
            "data": [
                serializers.pledge_summary(p, totals.get(p.id, 0), titles.get(p.id)) for p in page
            ],
            "next_cursor": str(page[-1].id) if len(rows) > limit else None,
        }
    )


@bp.get("/pledges/<slug>")
@public_cache
def pledge(slug: str):
    found = public_pledge_or_404(slug)
    return jsonify(serializers.pledge_detail(found, tally_for(found.id)))


@bp.get("/pledges/<slug>/signatures")
@public_cache
def signatures(slug: str):
    found = public_pledge_or_404(slug)
    limit = _limit()
    try:
        filters = WallFilters.parse(request.args.get("country"), request.args.get("role"))
        raw_cursor = request.args.get("cursor")
        before = Cursor.decode(raw_cursor) if raw_cursor else None
    except BadWallQuery as exc:
        abort(400, description=str(exc))
    page = wall_page(found, limit, filters=filters, before=before, counts=False)
    return jsonify(
        {
            "data": [serializers.signer(s) for s in page.signers],
            "next_cursor": page.older.encode() if page.older else None,
        }
    )


@bp.get("/openapi.json")
@public_cache
def openapi():
    return jsonify(openapi_document())
