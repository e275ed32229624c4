"""Whole pages in one language: pledge words without a translation in the reader's language
are shown in their own, marked with ``lang`` and a note saying so in the reader's; guidelines
fall back like commitments; and the demo pledge reads whole in French and Spanish."""

from __future__ import annotations

import html
import re

from markupsafe import escape

from pledges.demo import COMMITMENTS, DEMO_SLUG, TRANSLATIONS, ensure_demo_pledge
from pledges.domain.content import pledge_content
from pledges.extensions import db
from pledges.models import PledgeTranslation
from tests.factories import FRENCH_COMMITMENTS, french_pledge, make_pledge, translate

FRENCH_NOTE = "Ce texte n’a pas encore été traduit en français ; il est affiché en anglais."
COMMITMENTS_NOTE = (
    "Certains engagements n’ont pas encore été traduits en français ; ils sont affichés en anglais."
)
SPANISH_NOTE = "Este texto aún no se ha traducido al español; se muestra en inglés."


def body(page_html: str) -> str:
    """The page's main content (the head repeats the preamble in its card metadata)."""
    return page_html[page_html.index("<main") :]


def element_with(page_html: str, text: str) -> str:
    """The opening tag of the innermost element whose own text starts with ``text``."""
    page_html = body(page_html)
    index = page_html.index(str(escape(text)))
    return page_html[page_html.rindex("<", 0, index) : index]


def block_around(page_html: str, text: str, tag: str) -> str:
    """The opening tag of the nearest ``tag`` element enclosing ``text``."""
    page_html = body(page_html)
    index = page_html.index(str(escape(text)))
    return re.findall(rf"<{tag}\b[^>]*>", page_html[:index])[-1]


def test_an_untranslated_pledge_says_so_in_the_readers_language(client, app_ctx):
    pledge = make_pledge()
    page = client.get(f"/p/{pledge.slug}?lang=es").text
    assert '<html lang="es"' in page
    # The note is in Spanish, marked as such; the pledge's words are marked English.
    note = element_with(page, SPANISH_NOTE)
    assert 'lang="es"' in note and 'class="content-fallback"' in note
    assert 'lang="en"' in block_around(page, "Without paternalism.", "div")
    assert 'lang="en"' in block_around(page, "I will listen to women peacebuilders first.", "ol")
    assert page.count(SPANISH_NOTE) == 1  # once for the whole pledge, not per block
    # The wall says it beside the title too.
    wall = client.get(f"/p/{pledge.slug}/wall").text
    assert SPANISH_NOTE in wall and 'lang="en"' in block_around(wall, pledge.title, "h1")
    # In English, nothing to say.
    english = client.get(f"/p/{pledge.slug}?lang=en").text
    assert "content-fallback" not in english


def test_untranslated_guidelines_fall_back_like_commitments(client, app_ctx):
    # Translated into French without guidelines (the factory leaves them empty).
    pledge = french_pledge()
    content = pledge_content(pledge, "fr")
    assert content.guidelines == "Choose what you can keep."
    assert content.guidelines_language == "en"

    page = client.get(f"/p/{pledge.slug}?lang=fr").text
    assert "Hommes et femmes, ensemble." in page
    # The guidelines are there, in English, their block marked so, with the French note.
    assert "Choose what you can keep." in page
    aside = block_around(page, "Choose what you can keep.", "aside")
    assert 'class="guidelines"' in aside and 'lang="en"' in aside
    note = element_with(page, FRENCH_NOTE)
    assert 'lang="fr"' in note
    assert page.count(FRENCH_NOTE) == 1
    # Everything else is French, with no note.
    assert 'lang="fr"' in block_around(page, "Hommes et femmes, ensemble.", "div")


def test_a_commitment_without_translation_is_marked_in_its_own_language(client, app_ctx):
    pledge = make_pledge()
    translate(
        pledge,
        "fr",
        "Alliés pour la paix",
        "Hommes et femmes, ensemble.",
        [FRENCH_COMMITMENTS[0], "", FRENCH_COMMITMENTS[2]],
    )
    page = client.get(f"/p/{pledge.slug}?lang=fr").text
    untranslated = "I will challenge violent ideas of masculinity."
    assert 'lang="en"' in block_around(page, untranslated, "li")
    assert "lang" not in block_around(page, FRENCH_COMMITMENTS[0], "li")
    # Said once above the commitments (the guidelines, untranslated too, say so themselves).
    commitments = page[page.index('class="commitments') :]
    assert commitments.count(COMMITMENTS_NOTE) == 1
    assert commitments.index(COMMITMENTS_NOTE) < commitments.index(str(escape(untranslated)))
    assert 'lang="fr"' in element_with(page, COMMITMENTS_NOTE)
    assert page.count(FRENCH_NOTE) == 1


def test_the_demo_pledge_reads_whole_in_french_and_spanish(client, app_ctx):
    ensure_demo_pledge()
    db.session.commit()
    for language in ("fr", "es"):
        words = TRANSLATIONS[language]
        assert len(words["commitments"]) == len(COMMITMENTS)
        page = client.get(f"/p/{DEMO_SLUG}?lang={language}").text
        assert "content-fallback" not in page
        assert html.escape(words["title"], quote=False) in page
        for part in ("preamble", "guidelines"):
            first_sentence = words[part].split(".")[0]
            assert html.escape(first_sentence, quote=False) in page, (language, part)
        for text in words["commitments"]:
            assert html.escape(text, quote=False) in page, (language, text)
        # None of the English words is left on the page.
        assert "allies for peace" not in page
        assert COMMITMENTS[0][0] not in page
        assert f'<div class="pledge-content" lang="{language}"' in page


def test_an_existing_demo_pledge_gets_its_translations(app_ctx):
    pledge = ensure_demo_pledge()
    db.session.commit()
    for translation in list(pledge.translations):
        db.session.delete(translation)
    db.session.commit()
    version = pledge.wall_version
    ensure_demo_pledge()
    db.session.commit()
    db.session.refresh(pledge)
    assert {t.locale for t in pledge.translations} == {"fr", "es", "sw", "ur"}
    assert pledge.wall_version > version  # cached pages in the old words are not served
    assert db.session.get(PledgeTranslation, (pledge.id, "es")).guidelines
