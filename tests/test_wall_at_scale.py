"""The wall of a viral pledge costs what a small one does: no count reads more than
EXACT_COUNT_UPTO entries (past it, PostgreSQL's estimate, said "about"), and keyset paging
walks entries of one day (the same ``public_since``) in both directions without a gap."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import text

from pledges.extensions import db
from pledges.wall import service as wall_service
from tests.factories import confirmed_signature, make_pledge
from tests.test_wall import link, names_on

PAGE = 3


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WALL_PAGE_SIZE": PAGE}


def position(page_html: str) -> str:
    return " ".join(
        html.unescape(re.search(r'<p class="position">(.*?)</p>', page_html, re.S).group(1)).split()
    )


def test_past_the_exact_count_the_wall_gives_an_estimate(client, app_ctx, backend, monkeypatch):
    monkeypatch.setattr(wall_service, "EXACT_COUNT_UPTO", 4)
    pledge = make_pledge()
    for day in range(1, 10):
        with time_machine.travel(datetime(2026, 1, day, 12, tzinfo=UTC), tick=False):
            confirmed_signature(pledge, name=f"Signer {day}")
    if backend == "postgresql":
        db.session.execute(text("ANALYZE signatures"))  # as seed-demo does after a load
        db.session.commit()

    first = client.get(f"/p/{pledge.slug}/wall").text
    second = client.get(link(first, "next")).text
    assert names_on(first) == ["Signer 9", "Signer 8", "Signer 7"]
    assert names_on(second) == ["Signer 6", "Signer 5", "Signer 4"]
    if backend == "postgresql":
        # Nine entries, more than the four counted exactly: the planner's estimate.
        assert re.fullmatch(r"Signers about 1–3 of about [\d,]+", position(first))
        assert re.search(r"About [\d,]+ signers are shown on the wall\.", first)
        assert position(second).startswith("Signers about ")
    else:  # SQLite has no estimate: the exact count, as before
        assert position(first) == "Signers 1–3 of 9"
        assert position(second) == "Signers 4–6 of 9"


def test_up_to_the_exact_count_the_wall_counts_exactly(client, app_ctx, monkeypatch):
    monkeypatch.setattr(wall_service, "EXACT_COUNT_UPTO", 9)
    pledge = make_pledge()
    for day in range(1, 10):
        with time_machine.travel(datetime(2026, 1, day, 12, tzinfo=UTC), tick=False):
            confirmed_signature(pledge, name=f"Signer {day}")

    first = client.get(f"/p/{pledge.slug}/wall").text
    last = client.get(link(client.get(link(first, "next")).text, "next")).text
    assert position(first) == "Signers 1–3 of 9"
    assert position(last) == "Signers 7–9 of 9"
    assert "9 signers are shown on the wall." in first


def test_paging_through_one_day_of_signers_misses_no_one(client, app_ctx):
    pledge = make_pledge()
    with time_machine.travel(datetime(2026, 1, 5, 9, tzinfo=UTC), tick=False):
        for n in range(8):
            confirmed_signature(pledge, name=f"Same Day {n}")
    with time_machine.travel(datetime(2026, 1, 6, 9, tzinfo=UTC), tick=False):
        confirmed_signature(pledge, name="Next Day")

    pages = [client.get(f"/p/{pledge.slug}/wall").text]
    while link(pages[-1], "next"):
        pages.append(client.get(link(pages[-1], "next")).text)
    forward = [name for page in pages for name in names_on(page)]
    assert forward[0] == "Next Day"
    assert sorted(forward[1:]) == [f"Same Day {n}" for n in range(8)]
    assert len(pages) == 3

    # Back towards the newest, page by page: the same pages.
    back = pages[-1]
    for page in reversed(pages[:-1]):
        back = client.get(link(back, "prev")).text
        assert names_on(back) == names_on(page)
