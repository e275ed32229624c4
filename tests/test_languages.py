"""The dialogue's own languages beside English, French and Spanish: Swahili, Sinhala and
Tamil interfaces (Arabic and Urdu, right to left, are in test_rtl.py): chosen by the
browser, named in their own script, and a signer's PDF whose text reads back in logical
order in the script's own font."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pledges.extensions import db
from tests.factories import make_pledge
from tests.helpers import pdf_text, signer_page
from tests.test_pdf import embedded_fonts

ALL = ("en", "fr", "es", "sw", "ar", "ur", "si", "ta")


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def test_all_eight_languages_are_offered_by_default(app):
    assert tuple(app.config["SUPPORTED_LOCALES"]) == ALL


@pytest.mark.config(SUPPORTED_LOCALES=ALL)
def test_the_menu_names_swahili_sinhala_and_tamil_in_their_own_script(client):
    page = client.get("/about").text
    menu = page[page.index('<nav class="languages"') :]
    assert 'lang="sw" dir="ltr">Kiswahili</a>' in menu
    assert 'lang="si" dir="ltr">සිංහල</a>' in menu
    assert 'lang="ta" dir="ltr">தமிழ்</a>' in menu


@pytest.mark.config(SUPPORTED_LOCALES=ALL)
@pytest.mark.parametrize(
    ("header", "language", "sign"),
    [
        ("sw-KE, sw;q=0.9, en;q=0.5", "sw", "Tia sahihi"),
        ("si-LK, en;q=0.5", "si", "අත්සන්"),
        ("ta-LK, ta;q=0.9", "ta", "கையொப்ப"),
    ],
)
def test_the_browsers_language_picks_the_interface(client, app_ctx, header, language, sign):
    pledge = make_pledge()
    page = client.get(f"/p/{pledge.slug}", headers={"Accept-Language": header}).text
    assert f'lang="{language}"' in html_tag(page) and 'dir="ltr"' in html_tag(page)
    assert sign in page


@pytest.mark.config(SUPPORTED_LOCALES=ALL)
@pytest.mark.parametrize(
    ("language", "name", "heading", "script"),
    [
        ("si", "නිමල් පෙරේරා", "මගේ කැපවීම්", "Sinhala"),
    ],
)
def test_a_signers_pdf_reads_back_in_logical_order(
    client, outbox_dir, app_ctx, language, name, heading, script
):
    """Sinhala shapes vowel signs before or around consonants: the text read back from the
    PDF must still be the characters as typed, in their order ("My commitments" from the
    catalog, the signer's name with its two-part vowels), in a font of the script.

    Tamil is laid out and drawn right (looked at), but is not checked this way: WeasyPrint
    maps each glyph to one piece of text, so a two-part vowel sign drawn before its
    consonant (கொ, கை) reads back without its first part, and pypdf puts a space after a
    virama; a reader copying Tamil text from the PDF meets the same."""
    pledge = make_pledge()
    db.session.commit()
    client.get(f"/p/{pledge.slug}?lang={language}")
    me = signer_page(client, outbox_dir, pledge, name=name, country="LK")
    response = client.get(f"{me}/pledge.pdf")
    assert response.status_code == 200
    if pdf_out := os.environ.get("PLEDGES_KEEP_PDF"):
        Path(pdf_out, f"signed-{language}.pdf").write_bytes(response.data)
    words = " ".join(pdf_text(response.data).split())
    assert heading in words
    assert name in words
    assert any(script in embedded for embedded in embedded_fonts(response.data))


@pytest.mark.config(SUPPORTED_LOCALES=ALL)
def test_a_tamil_signers_pdf_is_set_in_a_tamil_font(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    client.get(f"/p/{pledge.slug}?lang=ta")
    me = signer_page(client, outbox_dir, pledge, name="கவிதா செல்வராஜ்", country="LK")
    response = client.get(f"{me}/pledge.pdf")
    assert response.status_code == 200
    assert any("Tamil" in embedded for embedded in embedded_fonts(response.data))
    assert "Noto-Sans" in embedded_fonts(response.data)  # the Latin parts
