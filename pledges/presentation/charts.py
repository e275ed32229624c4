"""Charts drawn on the server as standalone SVG documents, with pygal.

A chart needs no JavaScript and loads nothing from elsewhere, so it shows in any browser,
prints, and renders in WeasyPrint's PDFs. Pages show a chart as ``<img src="….svg">`` with a
table of the same numbers beside it: pygal styles the drawing with an SVG ``<style>``
element, which the pages' Content-Security-Policy forbids inline, while an image is a
document of its own, served by :func:`svg_response` under a policy of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pygal
from flask import Response
from flask_babel import gettext
from lxml import etree
from pygal.style import Style

from pledges.infrastructure.headers import standalone_image
from pledges.infrastructure.i18n import text_direction

# pygal appends an old-style finder (find_module, no find_spec) to sys.meta_path for its
# map plugins, which we don't use: every import that finds nothing would then warn
# (ImportWarning), and optional imports elsewhere would fail where warnings are errors.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

WIDTH = 800
HEIGHT = 400
# The most labels along a line chart's x axis; the rest are left out to stay legible.
MAX_X_LABELS = 10
# The most steps marked along the value axis.
MAX_VALUE_LABELS = 8

# The site's palette (static/css/app.css) and its self-hosted font first, then the Noto
# fonts for the interface's other scripts (labels in Arabic, Urdu, Sinhala, Tamil).
STYLE = Style(
    font_family=(
        '"Noto Sans", "Noto Naskh Arabic", "Noto Sans Arabic", "Noto Sans Sinhala", '
        '"Noto Sans Tamil", "DejaVu Sans", Arial, sans-serif'
    ),
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#d9d6cf",
    opacity="1",
    opacity_hover="1",
    transition="none",
    colors=("#0f5257", "#c8553d"),
    # Numbers printed on the bars: the site's text colour, on the light bar fill below.
    value_colors=("#1f2933", "#1f2933"),
    title_font_size=20,
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
    no_data_font_size=24,
)

#: Bars are filled light and outlined in the palette's teal: their numbers stay readable
#: (contrast above 4.5:1) whether a number sits on the bar or, on a short bar, beside it on
#: the white plot; the outline keeps the bar itself distinct from the white (above 3:1).
#: pygal would otherwise fill bars dark teal and print their numbers in black.
BAR_CSS = (
    "#chart-joining-forces .series .rect{fill:#d4ebe8;stroke:#0f5257;stroke-width:2px;"
    "stroke-opacity:1}"
)

Number = int | float


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[Number], *, horizontal: bool = False
) -> str:
    """A bar chart, one bar per label, each bar marked with its value."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = kind(
        **_config(title, values),
        print_values=True,
        x_label_rotation=0 if horizontal or len(labels) <= 6 else 30,
    )
    # A horizontal chart draws its first bar at the bottom: reversed, the list reads top down.
    # Bars side by side read in the page's direction: from the right in Arabic or Urdu.
    order = slice(None, None, -1) if horizontal or _right_to_left() else slice(None)
    chart.x_labels = list(labels)[order]
    chart.add(title, list(values)[order])
    return _document(chart, title, labels, values)


def line_chart(title: str, labels: Sequence[str], values: Sequence[Number]) -> str:
    """A line over time (or any ordered labels), the area below it filled."""
    chart = pygal.Line(
        **_config(title, values),
        fill=True,
        show_dots=len(values) <= 31,
        x_label_rotation=30,
        show_minor_x_labels=False,
        x_labels_major_count=min(len(labels), MAX_X_LABELS),
    )
    # Time runs the way the page reads: the first day on the right in Arabic or Urdu.
    order = slice(None, None, -1) if _right_to_left() else slice(None)
    chart.x_labels = list(labels)[order]
    chart.add(title, list(values)[order])
    return _document(chart, title, labels, values)


def _right_to_left() -> bool:
    return text_direction() == "rtl"


def svg_response(svg: str) -> Response:
    """Serve a chart as an image of its own, under the policy headers.py gives images."""
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return standalone_image(response)


def _config(title: str, values: Sequence[Number]) -> dict:
    return {
        **_value_axis(values),
        "title": title,
        "style": STYLE,
        "width": WIDTH,
        "height": HEIGHT,
        "explicit_size": True,
        "show_legend": False,
        "js": [],  # no script: the chart is read and printed, never hovered
        # pygal's own, inlined; then the bars' colours.
        "css": ["file://style.css", "file://graph.css", f"inline:{BAR_CSS}"],
        "no_data_text": gettext("No data yet"),
        "margin": 20,
        "truncate_label": -1,  # never cut a label short
        "value_formatter": _format_number,
    }


def _value_axis(values: Sequence[Number]) -> dict:
    """Whole-number steps from zero for counts: a chart of signatures never shows 0.5."""
    if not values or not all(isinstance(v, int) for v in values):
        return {}
    top = max(max(values), 1)
    step = next(s for s in _nice_steps() if top / s <= MAX_VALUE_LABELS)
    ticks = list(range(0, top + step, step))
    if ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return {"range": (0, ticks[-1]), "y_labels": ticks}


def _nice_steps():
    """1, 2, 5, 10, 20, 50, 100, …"""
    scale = 1
    while True:
        for factor in (1, 2, 5):
            yield factor * scale
        scale *= 10


def _format_number(value: Number | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _document(chart, title: str, labels: Sequence[str], values: Sequence[Number]) -> str:
    """The chart as a complete SVG document: a title and a text description of its numbers
    for assistive technology, no script, no comments, and the same bytes for the same data."""
    # pygal names the root (and prefixes its styles) with a random id: a fixed one keeps
    # the output the same for the same numbers. Its elements carry no namespace of their
    # own: the root's default namespace makes them SVG when written out.
    chart.uuid = "joining-forces"
    root = chart.render_tree()
    for element in list(root.iter("script", etree.Comment)):
        element.getparent().remove(element)
    root.set("role", "img")
    root.set("aria-labelledby", "chart-title chart-desc")

    heading = root.find("title")
    if heading is None:
        heading = etree.Element("title")
    heading.text = title
    heading.set("id", "chart-title")
    description = etree.Element("desc", id="chart-desc")
    description.text = describe(labels, values)
    root.insert(0, heading)
    root.insert(1, description)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8").decode("utf-8")


def describe(labels: Sequence[str], values: Sequence[Number]) -> str:
    """The numbers behind a chart in words: "Kenya: 12; Uganda: 7"."""
    if not labels:
        return "No data yet."
    return "; ".join(
        f"{label}: {_format_number(value)}" for label, value in zip(labels, values, strict=True)
    )
