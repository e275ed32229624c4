"""The wall's filters first: how many match (small counts protected), the actions that follow
the same filters, and paging that says where you are ("Signers 51–100 of 1,050")."""

from __future__ import annotations

import html
import re

import pytest

from pledges.demo import add_synthetic_signatures
from pledges.extensions import db
from tests.factories import confirmed_signature, logged_action, make_pledge

PAGE = 3


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WALL_PAGE_SIZE": PAGE, "MIN_PUBLIC_COUNT": 5}


def text_of(page_html: str) -> str:
    """The page's text, tags dropped and spaces squeezed, as a reader sees it."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page_html)))


def link(page_html: str, rel: str) -> str:
    match = re.search(rf'<a rel="{rel}" href="([^"]+)"', page_html)
    assert match, f"no {rel} link"
    return html.unescape(match.group(1))


def test_the_filter_form_comes_before_the_lists_it_narrows(client, app_ctx):
    pledge = make_pledge()
    confirmed_signature(pledge, name="Kenyan Ally", country="KE")
    confirmed_signature(pledge, name="Dutch Ally", country="NL")
    page = client.get(f"/p/{pledge.slug}/wall").text
    form = page.index('class="filter-form"')
    assert form < page.index('class="follow-through"') < page.index('class="signer-list"')
    # Only countries with signers are offered, and every ally role.
    assert '<option value="KE">Kenya</option>' in page
    assert '<option value="NL">Netherlands</option>' in page
    assert '<option value="PK"' not in page
    assert '<option value="woman">Woman</option>' in page
    # The form's GET lands on the filtered wall, with the choice kept selected.
    filtered = client.get(f"/p/{pledge.slug}/wall?country=NL&role=").text
    assert '<option value="NL" selected>' in filtered
    assert "Dutch Ally" in filtered and "Kenyan Ally" not in filtered


def test_the_number_of_matches_is_shown_exactly_only_from_the_minimum(client, app_ctx):
    pledge = make_pledge()
    for n in range(6):
        confirmed_signature(pledge, name=f"Kenyan {n}", country="KE", role="man", show_role=True)
    for n in range(3):
        confirmed_signature(pledge, name=f"Dutch {n}", country="NL", role="man", show_role=True)

    kenya = text_of(client.get(f"/p/{pledge.slug}/wall?country=KE").text)
    assert "6 signers match these filters." in kenya
    everyone = text_of(client.get(f"/p/{pledge.slug}/wall").text)
    assert "9 signers are shown on the wall." in everyone

    # Three is under the minimum: "fewer than 5", and the exact figure nowhere.
    dutch = text_of(client.get(f"/p/{pledge.slug}/wall?country=NL").text)
    assert "Fewer than 5 signers match these filters." in dutch
    assert "3 signers" not in dutch and "of 3" not in dutch
    assert "Signers 1–3 of fewer than 5" in dutch
    assert "Show everyone" in dutch

    # Signers who hide their role are not found by the role filter, nor counted in it.
    confirmed_signature(pledge, name="Quiet", country="KE", role="woman", show_role=False)
    women = text_of(client.get(f"/p/{pledge.slug}/wall?role=woman").text)
    assert "No confirmed signatures match these filters." in women
    assert "0 signers match these filters." in women
    assert "Quiet" not in women


def test_an_unnamed_signer_is_neither_found_nor_counted_where_their_country_is_withheld(
    client, app_ctx
):
    pledge = make_pledge()
    for n in range(5):
        confirmed_signature(pledge, name=f"Named {n}", country="LK")
    confirmed_signature(pledge, name="Secret Person", country="BI", visibility="anonymous")
    burundi = text_of(client.get(f"/p/{pledge.slug}/wall?country=BI").text)
    assert "0 signers match these filters." in burundi
    assert "Anonymous ally" not in burundi


def test_the_actions_follow_the_filters(client, app_ctx):
    pledge = make_pledge()
    kenyan = confirmed_signature(
        pledge, name="Kenyan Ally", country="KE", role="man", show_role=True
    )
    dutch = confirmed_signature(
        pledge, name="Dutch Ally", country="NL", role="woman", show_role=True
    )
    logged_action(kenyan, description="Spoke at the Nakuru peace committee")
    logged_action(dutch, description="Trained facilitators in Utrecht")
    db.session.commit()

    wall = client.get(f"/p/{pledge.slug}/wall?country=KE").text
    assert "Nakuru" in wall and "Utrecht" not in wall
    assert f'href="/p/{pledge.slug}/actions?country=KE"' in wall
    assert "Utrecht" in client.get(f"/p/{pledge.slug}/wall").text

    feed = client.get(f"/p/{pledge.slug}/actions?country=KE").text
    assert "Nakuru" in feed and "Utrecht" not in feed
    assert "Kenya" in feed
    by_role = client.get(f"/p/{pledge.slug}/actions?role=woman").text
    assert "Utrecht" in by_role and "Nakuru" not in by_role
    # Both together: nobody.
    none = client.get(f"/p/{pledge.slug}/actions?country=NL&role=man").text
    assert "No public actions from the signers matching these filters yet." in none
    assert client.get(f"/p/{pledge.slug}/actions?country=XX").status_code == 400
    # Everyone's again, unfiltered: the cache kept the filtered pages apart.
    everyone = client.get(f"/p/{pledge.slug}/actions").text
    assert "Nakuru" in everyone and "Utrecht" in everyone


def test_paging_says_where_you_are(client, app_ctx):
    pledge = make_pledge()
    for n in range(7):
        confirmed_signature(pledge, name=f"Signer {n}", country="KE")
    first = text_of(client.get(f"/p/{pledge.slug}/wall").text)
    assert "Signers 1–3 of 7" in first
    second_html = client.get(f"/p/{pledge.slug}/wall").text
    second = client.get(link(second_html, "next")).text
    assert "Signers 4–6 of 7" in text_of(second)
    third = client.get(link(second, "next")).text
    assert "Signers 7–7 of 7" in text_of(third)
    # Back towards the newest (the "after" cursor) counts the same way.
    assert "Signers 4–6 of 7" in text_of(client.get(link(third, "prev")).text)
    assert "Signers 1–3 of 7" in text_of(client.get(link(second, "prev")).text)


@pytest.mark.config(WALL_PAGE_SIZE=50)
def test_paging_numbers_are_in_the_readers_locale(client, app_ctx):
    pledge = make_pledge()
    add_synthetic_signatures(pledge, 1_050, seed=15)
    db.session.commit()
    first = client.get(f"/p/{pledge.slug}/wall?lang=en").text
    assert "1,050 signers are shown on the wall." in text_of(first)
    second = text_of(client.get(link(first, "next")).text)
    assert "Signers 51–100 of 1,050" in second
    french = client.get(f"/p/{pledge.slug}/wall?lang=fr").text
    french_second = text_of(client.get(link(french, "next")).text)
    assert re.search(r"Signataires 51–100 sur 1\s050", french_second), french_second[:2000]
