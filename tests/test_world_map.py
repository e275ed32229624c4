"""Signers on a world map: the SVG's countries against the wall's public counts, the
small-count protection on every cell, and nothing the drawing would fetch."""

from __future__ import annotations

import re

from lxml import etree
from sqlalchemy import select

from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.infrastructure.headers import IMAGE_CONTENT_SECURITY_POLICY
from pledges.models import Pledge
from pledges.presentation import world_map
from pledges.presentation.display import public_counts
from tests.factories import confirmed_signature, make_pledge

SVG = "{http://www.w3.org/2000/svg}"


def signers(pledge: Pledge, **by_country: int) -> None:
    for country, how_many in by_country.items():
        for _ in range(how_many):
            confirmed_signature(pledge, country=country)


def countries_drawn(svg: bytes | str) -> dict[str, tuple[str, str | None]]:
    """{country code: (class, title)} for every country group of the map."""
    root = etree.fromstring(svg.encode() if isinstance(svg, str) else svg)
    drawn = {}
    for group in root.iter(f"{SVG}g"):
        code = group.get("data-country")
        if code:
            title = group.find(f"{SVG}title")
            drawn[code] = (group.get("class"), title.text if title is not None else None)
    return drawn


def test_each_country_is_drawn_as_the_wall_counts_it_with_small_counts_protected(app_ctx):
    pledge = make_pledge()
    # Kenya 12, Pakistan 6 and the Netherlands 5 exact; Sri Lanka 2 is under the minimum,
    # and as the only small cell it would follow from the exact total: the smallest exact
    # cell (the Netherlands) is withheld too.
    signers(pledge, KE=12, PK=6, NL=5, LK=2)
    client = app_ctx.test_client()

    response = client.get(f"/p/{pledge.slug}/map.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == IMAGE_CONTENT_SECURITY_POLICY
    drawn = countries_drawn(response.data)

    assert drawn["KE"] == ("country step-4", "Kenya: 12")
    assert drawn["PK"] == ("country step-2", "Pakistan: 6")
    assert drawn["NL"] == ("country withheld", "Netherlands: not shown")
    assert drawn["LK"] == ("country fewer-than", "Sri Lanka: fewer than 5")
    # Protected cells share one hatching, whatever their size: no colour tells it.
    root = etree.fromstring(response.data)
    fills = {g.get("data-country"): g.get("fill") for g in root.iter(f"{SVG}g")}
    assert fills["NL"] == fills["LK"] == "url(#protected)"
    assert fills["KE"] != fills["PK"]
    # Every other country: no signers, no title.
    others = {code: cell for code, cell in drawn.items() if code not in {"KE", "PK", "NL", "LK"}}
    assert len(others) > 200
    assert set(others.values()) == {("country none", None)}
    # The same cells as the wall's breakdown, from the one function that protects them.
    cells = {c.key: c.text for c in public_counts(tally_for(pledge.id).by_country)}
    assert {code: drawn[code][1].split(": ")[1] for code in cells} == cells


def test_the_svg_loads_nothing_from_anywhere(app_ctx):
    pledge = make_pledge()
    signers(pledge, KE=5)
    svg = app_ctx.test_client().get(f"/p/{pledge.slug}/map.svg").data
    root = etree.fromstring(svg)
    tags = {etree.QName(element).localname for element in root.iter(etree.Element)}
    assert not tags & {"script", "style", "image", "use", "foreignObject", "a"}
    for element in root.iter(etree.Element):
        for name, value in element.attrib.items():
            assert "href" not in name, (element.tag, name)
            assert "style" != name, element.tag
            if "url(" in value:
                assert re.fullmatch(r"url\(#[\w-]+\)", value), value
    # The only URL in the file is the SVG namespace itself.
    assert re.findall(rb"https?://[^\s\"'<>]+", svg) == [b"http://www.w3.org/2000/svg"]


def test_the_wall_shows_the_map_with_the_same_figures_in_a_table(app_ctx):
    pledge = make_pledge()
    signers(pledge, KE=6, BI=1)
    client = app_ctx.test_client()
    page = client.get(f"/p/{pledge.slug}/wall").text
    assert f'src="/p/{pledge.slug}/map.svg"' in page
    table = page[page.index('class="figures-table country-map-table"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(
        r'<th scope="row">([^<]+)</th><td class="number">([^<]+)</td><td>([^<]+)</td>', table
    )
    # One small cell: the only exact one is withheld too.
    assert rows == [("Burundi", "fewer than 5", "hatched"), ("Kenya", "not shown", "hatched")]


def test_the_map_follows_new_signatures(app_ctx):
    """Cached with the wall: a signature that changes the counts changes the map."""
    pledge = make_pledge()
    signers(pledge, KE=5)
    client = app_ctx.test_client()
    assert countries_drawn(client.get(f"/p/{pledge.slug}/map.svg").data)["KE"][1] == "Kenya: 5"
    signers(pledge, KE=1)
    assert countries_drawn(client.get(f"/p/{pledge.slug}/map.svg").data)["KE"][1] == "Kenya: 6"


def test_a_draft_pledge_has_no_map(app_ctx):
    pledge = make_pledge(status="draft")
    assert app_ctx.test_client().get(f"/p/{pledge.slug}/map.svg").status_code == 404


def test_steps_cover_the_exact_figures_in_even_slices():
    assert [world_map.step_of(n, 40) for n in (1, 10, 11, 20, 21, 30, 31, 40)] == [
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
    ]
    assert [world_map.step_range(step, 40) for step in (1, 2, 3, 4)] == [
        (1, 10),
        (11, 20),
        (21, 30),
        (31, 40),
    ]


def test_whole_units_never_drifts_along_a_path():
    # A thousand steps of 0.4 units: rounding each step would draw nothing at all.
    d = "m 0,0 " + " ".join("l 0.4,0.3" for _ in range(1000)) + " z"
    redrawn = world_map.whole_units(d, grid=1)
    numbers = [int(n) for n in re.findall(r"-?\d+", redrawn)]
    assert sum(numbers[0::2]) == 400 and sum(numbers[1::2]) == 300


def test_the_dossier_draws_the_same_map(app_ctx):
    from pledges.dossier.build import front_matter_context
    from pledges.infrastructure.database import utcnow

    pledge = make_pledge()
    signers(pledge, KE=6, PK=5, LK=1)
    context = front_matter_context(
        db.session.scalar(select(Pledge).where(Pledge.id == pledge.id)), "officials", utcnow(), None
    )
    drawn = countries_drawn(str(context["country_map"].svg))
    assert drawn["KE"] == ("country step-4", "Kenya: 6")
    assert drawn["PK"] == ("country withheld", "Pakistan: not shown")
    assert drawn["LK"] == ("country fewer-than", "Sri Lanka: fewer than 5")
