"""The public wall and the pledge list: counts, breakdowns, filters, paging, privacy."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from pledges.domain.tallies import recount, tally_for
from pledges.extensions import db
from pledges.models import PledgeStatus, Signature
from pledges.wall.service import public_pledge_or_404
from tests.factories import confirmed_signature, make_pledge
from tests.helpers import sign_via_form, statements

PAGE = 3


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WALL_PAGE_SIZE": PAGE}


def names_on(page_html: str) -> list[str]:
    return [
        html.unescape(n)
        for n in re.findall(r'<p class="signer-name"><bdi>(.*?)</bdi></p>', page_html)
    ]


def link(page_html: str, rel: str) -> str | None:
    match = re.search(rf'<a rel="{rel}" href="([^"]+)"', page_html)
    return html.unescape(match.group(1)) if match else None


def signed_on(day: int, pledge, **overrides):
    """A signer confirmed on day ``day`` of January 2026: the wall orders by day only."""
    with time_machine.travel(datetime(2026, 1, day, 15, 30, tzinfo=UTC), tick=False):
        return confirmed_signature(pledge, **overrides)


def test_wall_pages_are_stable_while_people_keep_signing(client, app_ctx):
    pledge = make_pledge()
    for n in range(1, 8):
        signed_on(n, pledge, name=f"Signer {n}")
    first = client.get(f"/p/{pledge.slug}/wall").text
    assert names_on(first) == ["Signer 7", "Signer 6", "Signer 5"]
    older = link(first, "next")
    assert link(first, "prev") is None

    second = client.get(older).text
    assert names_on(second) == ["Signer 4", "Signer 3", "Signer 2"]

    for n in range(8, 12):
        signed_on(n, pledge, name=f"Signer {n}")
    # The same link shows the same people, however many signed since.
    assert names_on(client.get(older).text) == ["Signer 4", "Signer 3", "Signer 2"]
    third = client.get(link(second, "next")).text
    assert names_on(third) == ["Signer 1"]
    assert link(third, "next") is None
    # And back towards the newest.
    assert names_on(client.get(link(third, "prev")).text) == [
        "Signer 4",
        "Signer 3",
        "Signer 2",
    ]
    assert names_on(client.get(link(second, "prev")).text) == [
        "Signer 7",
        "Signer 6",
        "Signer 5",
    ]
    assert names_on(client.get(f"/p/{pledge.slug}/wall").text)[0] == "Signer 11"


def test_wall_shows_totals_goal_and_breakdowns(client, app_ctx):
    pledge = make_pledge(goal=8)
    for country, role in [("KE", "man"), ("KE", "woman"), ("PK", "man"), ("NL", "undisclosed")]:
        confirmed_signature(pledge, country=country, role=role)
    sign_via_form(client, pledge, email="pending@example.org", country="LK")  # unconfirmed
    page = client.get(f"/p/{pledge.slug}/wall").text
    assert "<strong>4</strong> of 8 signatures" in page
    assert 'value="4"' in page and 'max="8"' in page  # the goal bar
    assert "50.0%" in page
    tally = tally_for(pledge.id)
    assert tally.by_country == {"KE": 2, "NL": 1, "PK": 1}
    assert tally.by_role == {"man": 2, "woman": 1, "undisclosed": 1}
    assert "Sri Lanka" not in page


def test_wall_filters_by_country_and_role(client, app_ctx):
    pledge = make_pledge()
    # The role filter finds only signers who chose to show their role.
    confirmed_signature(pledge, name="Kenyan Man", country="KE", role="man", show_role=True)
    confirmed_signature(pledge, name="Kenyan Woman", country="KE", role="woman", show_role=True)
    confirmed_signature(pledge, name="Dutch Man", country="NL", role="man", show_role=True)
    confirmed_signature(pledge, name="Quiet Man", country="KE", role="man")
    by_country = client.get(f"/p/{pledge.slug}/wall?country=KE").text
    assert sorted(names_on(by_country)) == ["Kenyan Man", "Kenyan Woman", "Quiet Man"]
    both = client.get(f"/p/{pledge.slug}/wall?country=ke&role=man").text
    assert names_on(both) == ["Kenyan Man"]
    assert client.get(f"/p/{pledge.slug}/wall?role=woman").text.count("signer-name") == 1


@pytest.mark.parametrize(
    "query",
    [
        "country=XX",
        "role=king",
        "before=yesterday",
        "after=1-0",
        "before=99999999999999999999999-1",
        "before=2026-13-01.abc",
        "before=2026-01-01.not*an*id",
        "after=2026-01-01",
    ],
)
def test_bad_wall_links_get_a_clear_400(client, query, app_ctx):
    pledge = make_pledge()
    response = client.get(f"/p/{pledge.slug}/wall?{query}")
    assert response.status_code == 400
    assert "Traceback" not in response.text
    assert "not" in response.text  # "is not a country code we know", "not valid", …


def test_hidden_and_withdrawn_signatures_are_not_on_the_wall(client, app_ctx):
    pledge = make_pledge()
    confirmed_signature(pledge, name="Visible Ally")
    hidden = confirmed_signature(pledge, name="Hidden Ally")
    hidden.status = "hidden"
    db.session.commit()
    page = client.get(f"/p/{pledge.slug}/wall").text
    assert "Visible Ally" in page and "Hidden Ally" not in page


def test_html_is_stored_as_typed_and_shown_escaped(client, app_ctx):
    pledge = make_pledge()
    script = '<script>alert("x")</script><b onmouseover=alert(1)>Bold</b>'
    confirmed_signature(pledge, name=script, personal_note=script, organization=script)
    assert db.session.scalar(select(Signature.full_name)) == script
    for url in (f"/p/{pledge.slug}/wall", f"/p/{pledge.slug}"):
        page = client.get(url).text
        assert "<script>alert" not in page
        assert "<b onmouseover" not in page
    wall = client.get(f"/p/{pledge.slug}/wall").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in wall
    api = client.get(f"/api/v1/pledges/{pledge.slug}/signatures").json
    assert api["data"][0]["name"] == script
    assert api["data"][0]["note"] == script


def test_emails_never_reach_a_public_page_or_the_api(client, app_ctx):
    pledge = make_pledge()
    for visibility in ("full", "initial", "organization", "anonymous"):
        confirmed_signature(
            pledge,
            email=f"secret.{visibility}@hidden-domain.example",
            visibility=visibility,
            organization="Allies Network",
        )
    urls = [
        "/",
        f"/p/{pledge.slug}",
        f"/p/{pledge.slug}/wall",
        f"/p/{pledge.slug}/wall?country=KE",
        "/api/v1/pledges",
        f"/api/v1/pledges/{pledge.slug}",
        f"/api/v1/pledges/{pledge.slug}/signatures",
        "/api/v1/openapi.json",
    ]
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        assert "hidden-domain" not in body, url
        assert "secret." not in body, url


def test_front_page_lists_open_pledges_with_counts(client, app_ctx):
    open_pledge = make_pledge(title="Open pledge for allies")
    make_pledge(title="Draft pledge", status=PledgeStatus.DRAFT)
    make_pledge(title="Closed pledge", status=PledgeStatus.CLOSED)
    for _ in range(3):
        confirmed_signature(open_pledge)
    page = client.get("/").text
    assert "Open pledge for allies" in page
    assert "<strong>3</strong> of 100 signatures" in page
    assert "Draft pledge" not in page and "Closed pledge" not in page


def test_counters_agree_with_a_recount(client, app_ctx):
    pledge = make_pledge()
    signatures = [
        confirmed_signature(pledge, country=c, role=r)
        for c, r in [("KE", "man"), ("KE", "woman"), ("BI", "man"), ("NL", "other")]
    ]
    from pledges.me import service

    service.withdraw(signatures[0])
    db.session.commit()
    kept = tally_for(pledge.id)
    rebuilt = recount(pledge.id)
    db.session.commit()
    assert kept == rebuilt
    assert (kept.total, kept.by_country) == (3, {"KE": 1, "BI": 1, "NL": 1})


def test_a_public_pledge_is_read_with_its_commitments_in_one_statement(app_ctx):
    pledge = make_pledge()
    slug, texts = pledge.slug, [c.text for c in pledge.commitments]
    db.session.close()
    with statements() as seen:
        found = public_pledge_or_404(slug, with_commitments=True)
        assert [c.text for c in found.commitments] == texts  # in the pledge's order
        assert found.offered_commitments == found.commitments
    assert len(seen) == 1
    with pytest.raises(NotFound):
        public_pledge_or_404("no-such-pledge", with_commitments=True)
