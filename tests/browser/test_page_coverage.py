"""Every GET route that renders an HTML page is one of the page types the accessibility
checks open (test_accessibility.py, test_organizer_accessibility.py), which assert that
each page came from its endpoint with the status expected, has no Nu Html Checker error and
no axe violation. A new page fails here until it is added there; a route that answers with
something other than a page is listed below."""

from __future__ import annotations

from pathlib import Path

from pledges import create_app
from tests.browser import test_accessibility as visitors
from tests.browser import test_organizer_accessibility as organizers
from tests.conftest import _base_config

#: GET routes that answer with no HTML page of their own, and what they answer with.
NOT_HTML = {
    "static": "files",
    "api.openapi": "JSON",
    "api.pledges": "JSON",
    "api.pledge": "JSON",
    "api.signatures": "JSON",
    "health.healthz": "JSON",
    "me.personal_data": "JSON",
    "me.signed_pledge_pdf": "PDF",
    "exports.signature_pdf": "PDF",
    "dossier.download": "PDF",
    "dossier.latest": "a redirect to the newest PDF, or to the dossier page",
    "dashboard.chart": "SVG",
    "dossier.chart": "SVG",
    "wall.feed": "Atom",
    "admin.index": "a redirect to the first admin section (admin.users)",
    "paper.sheet_pdf": "PDF",
    "paper.scan": "the kept scan of a paper sheet (PDF, JPEG or PNG)",
    "sessions.sheet_pdf": "PDF",
    "sessions.ics": "iCalendar",
    "sessions.feed": "iCalendar",
    "maps.country_map": "SVG",
}


def test_every_html_page_type_is_checked_in_a_browser(tmp_path: Path):
    app = create_app(_base_config(f"sqlite:///{tmp_path / 'pledges.db'}", tmp_path))
    get_routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    checked = {endpoint for endpoint, _, _ in visitors.PAGES.values() if endpoint} | {
        endpoint for _, endpoint, _, _ in organizers.PAGES.values()
    }
    assert not (checked - get_routes), "pages checked that no GET route serves"
    assert not (set(NOT_HTML) - get_routes), "routes listed as not HTML that are gone"
    unchecked = sorted(get_routes - checked - set(NOT_HTML))
    assert not unchecked, f"GET routes whose page no accessibility check opens: {unchecked}"
