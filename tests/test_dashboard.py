"""An organizer's dashboard: the figures behind each chart, the charts as safe SVG images."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import update
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from pledges.dashboard import service
from pledges.domain.tallies import recount
from pledges.extensions import db
from pledges.infrastructure.headers import IMAGE_CONTENT_SECURITY_POLICY
from pledges.me import service as me_service
from pledges.models import Pledge, PledgeStatus, Report, Signature, SignatureStatus
from pledges.presentation import charts
from pledges.signing import service as signing
from tests.factories import confirmed_signature, make_pledge, make_user, run_by, signature_input
from tests.helpers import INLINE_OR_FOREIGN, log_in

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
CHART_NAMES = ["per-day", "countries", "roles", "statuses"]


def parse_svg(data: bytes) -> ElementTree.Element:
    """Strict XML parsing: a chart that is not well-formed fails here."""
    return ElementTree.fromstring(data)  # noqa: S314 - the app's own output, in a test


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def set_status(signature: Signature, status: SignatureStatus) -> None:
    db.session.execute(
        update(Signature).where(Signature.id == signature.id).values(status=status.value)
    )


def confirmed_on(signature: Signature, days_ago: int) -> None:
    db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id)
        .values(confirmed_at=NOW - timedelta(days=days_ago, hours=3))
    )


def build_campaign():
    """A pledge with signers a person can count on their fingers:

    on the wall: Kenya 3 (1 man, 2 women), Uganda 2 (1 man, 1 other); one held (Pakistan)
    and one hidden (Kenya), both confirmed by email; one pending (Nepal); one withdrawn
    (Kenya, confirmed before). Confirmed days ago: 0, 0, 1, 5, 100 (too old to chart).
    """
    pledge = make_pledge(slug="count-me")
    pledge.opened_at = NOW - timedelta(days=200)
    wall = [
        confirmed_signature(pledge, country="KE", role="man"),
        confirmed_signature(pledge, country="KE", role="woman"),
        confirmed_signature(pledge, country="KE", role="woman"),
        confirmed_signature(pledge, country="UG", role="man"),
        confirmed_signature(pledge, country="UG", role="other"),
    ]
    for signature, days_ago in zip(wall, [0, 0, 1, 5, 100], strict=True):
        confirmed_on(signature, days_ago)
    held = confirmed_signature(pledge, country="PK")
    set_status(held, SignatureStatus.HELD)
    hidden = confirmed_signature(pledge, country="KE")
    set_status(hidden, SignatureStatus.HIDDEN)
    signing.sign(pledge, signature_input(pledge, country="NP"))
    withdrawn = confirmed_signature(pledge, country="KE")
    me_service.withdraw(withdrawn)
    # Reviewed: two of the wall's five, so three (and the held one) wait for review.
    for signature in wall[:2]:
        signature.reviewed_at = NOW
    db.session.add(Report(pledge_id=pledge.id, signature_id=wall[0].id, reason="spam"))
    db.session.add(
        Report(pledge_id=pledge.id, signature_id=wall[1].id, reason="fake", resolved_at=NOW)
    )
    db.session.commit()
    recount(pledge.id)
    db.session.commit()
    return pledge


def organizer_client(app, client, slug: str = "count-me"):
    with app.app_context():
        run_by(
            db.session.scalar(db.select(Pledge).filter_by(slug=slug)), make_user("o@example.org")
        )
    log_in(client, "o@example.org")
    return client


def test_the_figures_equal_a_hand_count(frozen, app_ctx):
    pledge = build_campaign()
    per_day = service.signatures_per_day(pledge)
    assert len(per_day) == service.DAYS == 90
    assert per_day[0].label == "2025-12-16" and per_day[-1].label == "2026-03-15"
    counted = {row.label: row.count for row in per_day if row.count}
    assert counted == {"2026-03-15": 2, "2026-03-14": 1, "2026-03-10": 1}

    confirmation = service.confirmation(pledge)
    # Signed, not withdrawn: 5 on the wall + held + hidden + pending = 8; confirmed 7.
    assert (confirmation.signed, confirmation.confirmed) == (8, 7)
    assert confirmation.rate == pytest.approx(7 / 8)
    assert [row.count for row in confirmation.by_status] == [1, 1, 5, 1, 1]

    assert service.by_country(pledge) == [service.Row("Kenya", 3), service.Row("Uganda", 2)]
    assert [(r.label, r.count) for r in service.by_role(pledge)] == [
        ("Man", 2),
        ("Woman", 2),
        ("Another gender", 1),
        ("Prefers not to say", 0),
    ]
    backlog = service.backlog(pledge)
    assert (backlog.unreviewed, backlog.held, backlog.open_reports) == (4, 1, 1)


def test_the_page_shows_every_number_in_a_table_below_its_chart(app, client, frozen):
    with app.app_context():
        build_campaign()
    organizer_client(app, client)
    response = client.get("/organize/count-me/dashboard")
    assert response.status_code == 200
    page = response.text
    for name in CHART_NAMES:
        image = re.search(
            rf'<img class="chart-image" src="(/organize/count-me/dashboard/{name}\.svg)"'
            r'\s+alt="([^"]+)"',
            page,
        )
        assert image, name
        assert "The numbers are in the table below." in image.group(2)
    cells = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([\d,]+)</td>', page))
    assert cells["Kenya"] == "3" and cells["Uganda"] == "2"
    assert cells["2026-03-15"] == "2" and cells["2026-03-14"] == "1" and cells["2026-01-01"] == "0"
    assert cells["Woman"] == "2" and cells["Another gender"] == "1"
    assert cells["Waiting for email confirmation"] == "1"
    assert cells["Withdrawn by the signer"] == "1"
    assert cells["Confirmed signatures no moderator has reviewed"] == "4"
    assert cells["Reports not yet resolved"] == "1"
    assert "7 of 8" in page and "87.5%" in page
    assert "Signers who withdrew are left out" in page
    for what, pattern in INLINE_OR_FOREIGN:
        assert not pattern.search(page), f"the dashboard has {what}"


def test_per_day_starts_at_the_opening_and_stops_at_the_close(frozen, app_ctx):
    pledge = make_pledge()
    pledge.opened_at = NOW - timedelta(days=3)
    db.session.commit()
    days = [row.label for row in service.signatures_per_day(pledge)]
    assert days == ["2026-03-12", "2026-03-13", "2026-03-14", "2026-03-15"]
    pledge.status = PledgeStatus.CLOSED
    pledge.closed_at = NOW - timedelta(days=1)
    days = [row.label for row in service.signatures_per_day(pledge)]
    assert days[-1] == "2026-03-14"


def test_countries_beyond_the_top_fifteen_are_added_up(app_ctx):
    codes = [
        "KE",
        "UG",
        "PK",
        "NP",
        "CO",
        "LB",
        "SS",
        "ML",
        "NG",
        "SO",
        "YE",
        "AF",
        "MM",
        "UA",
        "PH",
        "GT",
        "HN",
    ]
    pledge = make_pledge()
    for code in codes:
        confirmed_signature(pledge, country=code)
    confirmed_signature(pledge, country="KE")
    rows = service.by_country(pledge)
    assert len(rows) == service.TOP_COUNTRIES + 1
    assert rows[0] == service.Row("Kenya", 2)
    assert rows[-1] == service.Row(service.OTHER_COUNTRIES, 2)
    assert sum(row.count for row in rows) == len(codes) + 1


def test_each_chart_is_valid_svg_without_script(app, client, frozen):
    with app.app_context():
        build_campaign()
    organizer_client(app, client)
    for name in CHART_NAMES:
        response = client.get(f"/organize/count-me/dashboard/{name}.svg")
        assert response.status_code == 200, name
        assert response.mimetype == "image/svg+xml"
        assert response.headers["Content-Security-Policy"] == IMAGE_CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        root = parse_svg(response.data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
        assert b"<script" not in response.data and b"javascript:" not in response.data
        assert root[0].tag.endswith("title") and root[1].tag.endswith("desc")
    countries = client.get("/organize/count-me/dashboard/countries.svg").text
    assert "Kenya: 3; Uganda: 2" in countries
    assert client.get("/organize/count-me/dashboard/nothing.svg").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/organize/count-me/dashboard", "/organize/count-me/dashboard/per-day.svg"],
)
def test_only_the_pledges_organizers_and_admins_see_it(app, client, path):
    with app.app_context():
        build_campaign()
        make_user("other@example.org")
        make_user("admin@example.org", role="admin")
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    log_in(client, "other@example.org")
    assert client.get(path).status_code == 404
    admin = app.test_client()
    log_in(admin, "admin@example.org")
    assert admin.get(path).status_code == 200


def test_charts_are_standalone_documents_with_their_numbers_in_words():
    svg = charts.bar_chart("By <role> & more", ["Man", "Woman"], [3, 12], horizontal=True)
    root = parse_svg(svg.encode())
    title, desc = root[0], root[1]
    assert title.text == "By <role> & more"
    assert desc.text == "Man: 3; Woman: 12"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "chart-title chart-desc"
    assert "<script" not in svg and "<!--" not in svg
    assert not re.search(r"(?:href|src)=\"(?:https?:)?//", svg)
    assert svg == charts.bar_chart("By <role> & more", ["Man", "Woman"], [3, 12], horizontal=True)
    line = charts.line_chart("Per day", [f"2026-01-{d:02d}" for d in range(1, 31)], list(range(30)))
    assert parse_svg(line.encode()).find("{http://www.w3.org/2000/svg}desc") is not None
    assert "No data yet" in charts.bar_chart("Empty", [], [])
    # Counts step in whole numbers: never a value axis of 0, 0.1, 0.2 …
    assert ">0.5<" not in charts.bar_chart("Few", ["a", "b"], [0, 1])


def test_weasyprint_renders_a_chart_given_as_an_image():
    svg = charts.bar_chart("Signatures by country", ["Kenya", "Uganda"], [12, 7], horizontal=True)

    class ChartFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            assert url == "https://pledges.test/chart.svg"
            return URLFetcherResponse(url, svg.encode(), {"Content-Type": "image/svg+xml"})

    pdf = HTML(
        string='<img src="chart.svg" alt="Signatures by country">',
        base_url="https://pledges.test/",
        url_fetcher=ChartFetcher(allowed_protocols=()),
    ).write_pdf()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Signatures by country" in text
    assert "Kenya" in text and "Uganda" in text and "12" in text
