"""The public wall on a desktop browser: people, filters by country and role, pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from playwright.sync_api import expect

from tests.browser.conftest import WALL_PAGE_SIZE

COUNTRIES = ["KE", "PK", "LK"]
ROLES = ["woman", "man"]
SIGNERS = 12


def signer_names(page) -> list[str]:
    return page.locator(".signer-name").all_inner_texts()


def test_wall_pages_through_everyone_and_filters_by_country_and_role(desktop, live_server):
    pledge = live_server.pledge()
    for n in range(SIGNERS):
        # One a day: within a day the wall's order is by random public id.
        with time_machine.travel(datetime(2026, 1, n + 1, 12, tzinfo=UTC), tick=False):
            live_server.signer(
                pledge.slug,
                name=f"Signer {n:02d}",
                country=COUNTRIES[n % 3],
                role=ROLES[n % 2],
                visibility="full",
                show_role=True,
            )
    page = desktop
    page.goto(f"{pledge.path}/wall")
    expect(page.get_by_role("heading", level=1)).to_have_text(pledge.title)
    expect(page.locator(".goal-text").first).to_contain_text(f"{SIGNERS} of 100")

    # Newest first, a page at a time, everyone exactly once.
    pages = [signer_names(page)]
    pager = page.get_by_role("navigation", name="Pages of signers")
    while pager.get_by_role("link", name="Older →").count():
        pager.get_by_role("link", name="Older →").click()
        pages.append(signer_names(page))
    assert [len(names) for names in pages] == [5, 5, 2]
    seen = [name for names in pages for name in names]
    assert seen == [f"Signer {n:02d}" for n in reversed(range(SIGNERS))]
    pager.get_by_role("link", name="← Newer").click()
    assert signer_names(page) == pages[1]
    pager.get_by_role("link", name="Newest").click()
    assert signer_names(page) == pages[0]
    assert len(pages[0]) == WALL_PAGE_SIZE

    breakdown = page.get_by_role("complementary", name="Who has signed")
    breakdown.get_by_role("link", name="Kenya").click()
    expect(page).to_have_url(re.compile(r"country=KE"))
    expect(page.get_by_role("heading", name=re.compile("^Signers ·"))).to_contain_text("Kenya")
    expect(breakdown.get_by_role("link", name="Kenya")).to_have_attribute("aria-current", "true")
    kenyans = [f"Signer {n:02d}" for n in reversed(range(SIGNERS)) if n % 3 == 0]
    assert signer_names(page) == kenyans

    breakdown.get_by_role("link", name="Man", exact=True).click()
    expect(page).to_have_url(re.compile(r"(?=.*country=KE)(?=.*role=man)"))
    assert signer_names(page) == [
        f"Signer {n:02d}" for n in reversed(range(SIGNERS)) if n % 3 == 0 and n % 2 == 1
    ]
    for meta in page.locator(".signer-meta").all_inner_texts():
        assert "Kenya" in meta and "Man" in meta

    page.get_by_role("link", name="Show everyone").click()
    assert signer_names(page) == pages[0]
