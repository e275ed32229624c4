"""Choosing a language in a real browser: one click in the footer, kept from page to page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import PHONE


def test_visitor_switches_to_french_in_the_footer_and_stays_in_french(open_page, live_server):
    pledge = live_server.pledge()
    # A browser that asks for English: only the visitor's click makes the pages French.
    page = open_page(locale="en-GB", **PHONE)
    page.goto(pledge.path)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Sign the pledge")).to_be_visible()

    languages = page.get_by_role("contentinfo").get_by_role("navigation", name="Language")
    languages.get_by_role("link", name="Français").tap()

    expect(page).to_have_url(re.compile(r"\?lang=fr$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("button", name="Signer l'engagement")).to_be_visible()
    expect(page.get_by_label("Votre nom complet")).to_be_visible()
    # The pledge's own words stay in the language they were written in, and say so.
    expect(page.get_by_role("heading", level=1)).to_have_text(pledge.title)
    expect(page.get_by_role("heading", level=1)).to_have_attribute("lang", "en")
    languages = page.get_by_role("contentinfo").get_by_role("navigation", name="Langue")
    expect(languages.get_by_role("link", name="Français")).to_have_attribute("aria-current", "true")

    page.get_by_role("link", name="Voir qui a signé").tap()
    expect(page).to_have_url(re.compile(rf"{pledge.path}/wall$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("navigation", name="Principal")).to_be_visible()

    page.goto("/about")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("link", name="À propos")).to_be_visible()
