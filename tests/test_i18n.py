"""Languages: a reader gets pages, labels, dates and emails in their language, and the
translations stay complete as strings are added."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel import support
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import Domain
from sqlalchemy import select

from pledges import PROJECT_ROOT
from pledges.domain.signers import SigningError, check_commitments, check_visibility
from pledges.extensions import db
from pledges.infrastructure.i18n import LOCALE_COOKIE
from pledges.me import service as me_service
from pledges.models import OutboxEmail
from pledges.presentation.display import ACTION_KIND_LABELS, format_date
from pledges.signing import service
from pledges.signing import service as signing
from tests.factories import confirmed_signature, make_pledge, make_user, signature_input
from tests.helpers import bodies, log_in

TRANSLATIONS = PROJECT_ROOT / "translations"
# Every catalog under translations/: one there must be complete, whether or not the
# interface offers it yet (SUPPORTED_LOCALES).
TRANSLATED = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def test_browser_language_chooses_the_page_language(app, client):
    response = client.get("/", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"})
    page = response.text
    assert "Femmes et hommes, allié·es pour la paix" in page
    assert "Engagements ouverts" in page
    assert 'lang="fr"' in html_tag(page) and 'dir="ltr"' in html_tag(page)
    # The same address answers differently per reader: shared caches must know.
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_unsupported_browser_language_falls_back_to_english(app, client):
    page = client.get("/", headers={"Accept-Language": "de, nl;q=0.8"}).text
    assert "Men and women, as allies for peace" in page
    assert 'lang="en"' in html_tag(page)


def test_lang_parameter_switches_and_is_remembered(app, client):
    response = client.get("/?lang=es", headers={"Accept-Language": "fr"})
    assert "Mujeres y hombres, aliados por la paz" in response.text
    assert f"{LOCALE_COOKIE}=es" in response.headers["Set-Cookie"]

    # Later pages follow the choice, over the browser's own preference.
    page = client.get("/about", headers={"Accept-Language": "fr"}).text
    assert "Acerca de Joining Forces" in page
    assert 'lang="es"' in html_tag(page)


def test_an_unknown_lang_parameter_is_ignored(app, client):
    response = client.get("/?lang=xx")
    assert "Men and women, as allies for peace" in response.text
    assert LOCALE_COOKIE + "=" not in response.headers.get("Set-Cookie", "")


def test_footer_offers_each_language_named_in_itself(app, client):
    page = client.get("/about?x=1", headers={"Accept-Language": "es"}).text
    footer = page[page.index('<footer class="site-footer">') :]
    for name in ("English", "Français", "Español"):
        assert f">{name}</a>" in footer
    # Plain links to the same page, other query arguments kept.
    assert 'href="/about?x=1&amp;lang=fr"' in footer
    assert 'aria-current="true">Español</a>' in footer


def test_error_pages_are_translated(app, client):
    response = client.get("/no-such-page", headers={"Accept-Language": "es"})
    assert response.status_code == 404
    assert "No encontramos esa página" in response.text
    assert "Página no encontrada" in response.text  # the title


@pytest.mark.config(SUPPORTED_LOCALES=("en", "fr", "es", "ur"))
def test_right_to_left_languages_set_the_page_direction(app, client):
    page = client.get("/?lang=ur").text
    assert 'lang="ur"' in html_tag(page) and 'dir="rtl"' in html_tag(page)
    page = client.get("/?lang=fr").text
    assert 'dir="ltr"' in html_tag(page)


def test_wall_cache_keeps_languages_apart(client, app_ctx):
    pledge = make_pledge()
    confirmed_signature(pledge, name="Dorothy Attema")
    wall = f"/p/{pledge.slug}/wall"

    french = client.get(wall, headers={"Accept-Language": "fr"})
    assert 'lang="fr"' in html_tag(french.text) and "Aller au contenu" in french.text
    assert {"Accept-Language", "Cookie"} <= set(french.vary)

    # Same page and filters, other language: not the French copy from the cache.
    english = client.get(wall, headers={"Accept-Language": "en"}).text
    assert 'lang="en"' in html_tag(english) and "Skip to content" in english
    assert "Aller au contenu" not in english

    # And each language is still served (from the cache) to its own readers.
    again = client.get(wall, headers={"Accept-Language": "fr"}).text
    assert "Aller au contenu" in again and "Dorothy Attema" in again


def test_email_queued_in_a_french_request_is_french(app):
    """Emails are rendered when queued, so in the language of the request queuing them."""
    with app.app_context():
        pledge = make_pledge(title="Alliés pour la paix")
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        pledge = db.session.merge(pledge)
        service.sign(pledge, signature_input(pledge, name="Awa Diallo"))
        db.session.commit()
        message = db.session.scalars(select(OutboxEmail)).one()
        body_text, body_html = bodies(message)
    assert message.subject == "Merci de confirmer votre signature : Alliés pour la paix"
    assert "Bonjour Awa Diallo," in body_text
    assert "Merci d'avoir signé « Alliés pour la paix »." in body_text
    assert "Confirmer ma signature" in body_html
    assert '<html lang="fr"' in body_html
    assert "Thank you" not in body_text + body_html


def test_organizer_pages_follow_the_language(app, client):
    with app.app_context():
        make_user("admin@example.org", role="admin")
        slug = make_pledge(title="Alliés pour la paix").slug
    log_in(client, "admin@example.org")

    page = client.get("/organize/?lang=fr").text
    assert 'lang="fr"' in html_tag(page)
    assert "Connecté·e en tant que" in page and "(administrateur·rice)" in page
    assert "Tous les engagements" in page and "Nouvel engagement" in page
    assert ">ouvert</span>" in page  # the pledge's status, as a label
    assert "All pledges" not in page

    # The language is remembered from page to page, with the pledge's own figures.
    overview = client.get(f"/organize/{slug}/").text
    assert "Statut : ouvert" in overview and "Signataires confirmé·es" in overview
    assert "Tableau de bord" in overview and "Vue d" in overview


def test_country_names_follow_the_language(app, client):
    with app.app_context():
        pledge = make_pledge()
        confirmed_signature(pledge, name="Amina Odhiambo", country="EG")
        slug = pledge.slug
    for lang, germany, egypt in (
        ("en", "Germany", "Egypt"),
        ("fr", "Allemagne", "Égypte"),
        ("es", "Alemania", "Egipto"),
    ):
        sign_page = client.get(f"/p/{slug}?lang={lang}").text
        assert f'<option value="DE">{germany}</option>' in sign_page
        assert egypt in client.get(f"/p/{slug}/wall?lang={lang}").text
    # Sorted as readers expect: Égypte among the E's, not after Z.
    options = re.findall(r'<option value="(\w\w)">', client.get(f"/p/{slug}?lang=fr").text)
    assert options.index("EG") < options.index("ER") < options.index("ZW")


def test_labels_and_dates_follow_the_language(app):
    for language, kind, day in [
        ("en", "Training or workshop", "5 March 2025"),
        ("fr", "Formation ou atelier", "5 mars 2025"),
        ("es", "Formación o taller", "5 de marzo de 2025"),
    ]:
        with app.test_request_context(f"/?lang={language}"):
            assert ACTION_KIND_LABELS["training"] == kind
            assert format_date(date(2025, 3, 5)) == day


# Completeness: every string marked in the code is translated, fully, in each catalog.


def catalog(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=language)


def message_key(message) -> tuple[str | None, str]:
    singular = message.id[0] if isinstance(message.id, tuple) else message.id
    return message.context, singular


def extracted_from_code() -> set[tuple[str | None, str]]:
    """A fresh extraction, with the settings `make translations` uses (babel.cfg)."""
    with open(PROJECT_ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=keywords
    ):
        found.add((context, message[0] if isinstance(message, tuple) else message))
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_is_complete_and_reviewed(language):
    po = catalog(language)
    messages = [m for m in po if m.id]
    assert messages
    untranslated = [
        m.id
        for m in messages
        if not (all(m.string) if isinstance(m.string, tuple) else m.string) or m.fuzzy
    ]
    assert untranslated == []
    # Placeholders (%(name)s) in each translation match the original.
    problems = {m.id: m.check(po) for m in messages if m.check(po)}
    assert problems == {}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_string_has_a_translation(language):
    translated = {message_key(m) for m in catalog(language) if m.id}
    missing = extracted_from_code() - translated
    assert not missing, f"run `make translations` and translate into {language}: {missing}"


def test_committed_template_is_up_to_date():
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        template = {message_key(m) for m in read_po(fh) if m.id}
    assert template == extracted_from_code(), "run `make translations`"


def test_compiled_catalogs_are_git_ignored():
    assert "*.mo" in Path(PROJECT_ROOT / ".gitignore").read_text().split()


def test_no_translation_function_hides_behind_an_alias():
    """Extraction knows _, gettext, ngettext, lazy_gettext and lazy_ngettext by name: a
    string marked through an alias (``lazy_gettext as _l``) would silently stay English."""
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "pledges").rglob("*.py")
        if re.search(r"\b(lazy_)?n?gettext as (?!_\b)\w+", path.read_text())
    ]
    assert offenders == []


# --- errors of the signing service speak the reader's language ----------------------------


class MarkedTranslations(support.NullTranslations):
    """A stand-in catalog that marks every message it translates."""

    def gettext(self, message):
        return f"[xx] {message}"

    ugettext = gettext


@pytest.fixture
def marked_language(monkeypatch):
    monkeypatch.setattr(Domain, "get_translations", lambda self: MarkedTranslations())


def signing_error(call, *args) -> str:
    with pytest.raises(SigningError) as caught:
        call(*args)
    return caught.value.message


def test_signing_errors_are_translated(app, marked_language):
    with app.test_request_context("/"):
        pledge = make_pledge(
            commitments=[("Required one", True), ("Required two", True), ("Optional", False)]
        )
        optional = pledge.commitments[2].id
        messages = [
            signing_error(check_commitments, pledge, []),
            signing_error(check_commitments, pledge, [optional, 10_000]),
            signing_error(check_commitments, pledge, [optional]),
            signing_error(check_visibility, "organization", " "),
            signing_error(signing.check_email_allowed, "x@mailinator.com"),
        ]
        signature = confirmed_signature(pledge)
        me_service.withdraw(signature)
        messages.append(
            signing_error(me_service.change_visibility, signature, "organization", "Somewhere")
        )
        pledge.status = "closed"
        messages.append(signing_error(signing.sign, pledge, signature_input(pledge)))
    for message in messages:
        assert message.startswith("[xx] "), message
    assert "signature: #1, #2." in messages[2]
    assert "mailinator.com" in messages[4]
