"""The dashboard page of a pledge, and its charts as SVG images."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from pledges.accounts.access import managed_pledge_or_404, organizer_required
from pledges.dashboard import service
from pledges.presentation.charts import svg_response

bp = Blueprint("dashboard", __name__, url_prefix="/organize")


@bp.get("/<slug>/dashboard")
@organizer_required
def show(slug: str):
    pledge = managed_pledge_or_404(slug)
    return render_template(
        "dashboard/show.html",
        pledge=pledge,
        charts=service.CHARTS,
        day_range=service.day_range(pledge),
        per_day=service.signatures_per_day(pledge),
        confirmation=service.confirmation(pledge),
        countries=service.by_country(pledge),
        roles=service.by_role(pledge),
        backlog=service.backlog(pledge),
        follow=service.follow_through(pledge),
        top_countries=service.TOP_COUNTRIES,
    )


@bp.get("/<slug>/dashboard/<name>.svg")
@organizer_required
def chart(slug: str, name: str):
    pledge = managed_pledge_or_404(slug)
    svg = service.chart_svg(pledge, name)
    if svg is None:
        abort(404)
    return svg_response(svg)
