"""The wall's world map of signers by country, served as an SVG image.

An image rather than markup in the page: the shapes weigh more than the rest of the wall,
and an image is cached by the browser and loaded only when scrolled to. It is drawn from
the wall's own public breakdown and cached under the wall's key, so it changes with it.
"""

from __future__ import annotations

from flask import Blueprint, Response

from pledges.domain.tallies import tally_for
from pledges.infrastructure.headers import standalone_image
from pledges.presentation import world_map
from pledges.presentation.display import PublicCount, min_public_count, public_counts
from pledges.wall.cache import cached_render
from pledges.wall.service import public_pledge_ref_or_404

bp = Blueprint("maps", __name__)
bp.add_app_template_global(min_public_count, "country_map_minimum")


@bp.app_template_global()
def country_map_table(by_country: list[PublicCount]) -> list[tuple[world_map.MapCell, str]]:
    """The rows of the table beside the map: each country's cell and how the map shows it."""
    key = world_map.legend(by_country, min_public_count())
    return [(cell, world_map.shade_label(cell, key)) for cell in world_map.map_cells(by_country)]


@bp.get("/p/<slug>/map.svg")
def country_map(slug: str):
    ref = public_pledge_ref_or_404(slug)

    def render() -> str:
        cells = public_counts(tally_for(ref.id).by_country)
        return str(world_map.country_map(cells, min_public_count()).svg)

    response = Response(cached_render(f"map:{ref.cache_stamp}", render), mimetype="image/svg+xml")
    return standalone_image(response)
