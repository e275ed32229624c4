"""Right-to-left interfaces (Arabic, Urdu): the page's direction, the stylesheets' logical
properties, arrows that point the way the page reads, codes kept left to right, the language
menu in each language's own script, and a signer's PDF in Urdu that reads right to left."""

from __future__ import annotations

import re

import pytest

from pledges import PROJECT_ROOT
from pledges.extensions import db
from tests.factories import confirmed_signature, make_pledge
from tests.helpers import pdf_text, signer_page
from tests.test_pdf import embedded_fonts

RTL = ("en", "fr", "es", "ar", "ur")
URDU_TITLE = "امن کے لیے مرد اور عورتیں ساتھ"

# A physical direction where a logical one belongs: margin-left, padding-right, border-left,
# left: 0, text-align: right, float: left… (the page-margin boxes of printed pages,
# @bottom-left and the like, are places on paper, not directions of text).
PHYSICAL = re.compile(
    r"(?<![@\w-])(?:(?:margin|padding|border)-(?:left|right)|left|right)\s*:"
    r"|(?:text-align|float|clear)\s*:\s*(?:left|right)\b"
)


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


@pytest.mark.parametrize(
    "stylesheet", ["app.css", "embed.css", "pdf.css", "dossier.css", "paper-sheet.css"]
)
def test_stylesheets_use_logical_directions_only(stylesheet):
    css = (PROJECT_ROOT / "static" / "css" / stylesheet).read_text()
    physical = [
        line.strip()
        for line in css.splitlines()
        if PHYSICAL.search(line) and not line.strip().startswith("/*")
    ]
    assert physical == []


def test_the_check_for_physical_directions_finds_them():
    for line in ("margin-left: 1rem;", ".x { padding-right: 0 }", "left: 0;", "float: left;"):
        assert PHYSICAL.search(line), line
    for line in ("margin-inline-start: 1rem;", "@bottom-left {", "text-align: start;"):
        assert not PHYSICAL.search(line), line


@pytest.mark.config(SUPPORTED_LOCALES=RTL)
@pytest.mark.parametrize("language", ["ar", "ur"])
def test_every_kind_of_page_is_right_to_left(client, app_ctx, language):
    pledge = make_pledge()
    client.get(f"/?lang={language}")
    for path in ("/", "/about", f"/p/{pledge.slug}", f"/p/{pledge.slug}/wall", "/verify"):
        page = client.get(path).text
        assert f'lang="{language}"' in html_tag(page), path
        assert 'dir="rtl"' in html_tag(page), path
    embed = client.get(f"/p/{pledge.slug}/embed").text
    assert 'dir="rtl"' in html_tag(embed)
    # English pages stay left to right.
    assert 'dir="ltr"' in html_tag(client.get("/?lang=en").text)


@pytest.mark.config(SUPPORTED_LOCALES=RTL)
def test_the_language_menu_names_each_language_in_its_own_script_and_direction(client):
    page = client.get("/about").text
    menu = page[page.index('<nav class="languages"') :]
    assert 'lang="ar" dir="rtl">العربية</a>' in menu
    assert 'lang="ur" dir="rtl">اردو</a>' in menu
    assert 'lang="fr" dir="ltr">Français</a>' in menu


@pytest.mark.config(SUPPORTED_LOCALES=RTL)
def test_accept_language_picks_arabic_and_urdu(client):
    for header, language in (("ar-EG, ar;q=0.9", "ar"), ("ur-PK, en;q=0.5", "ur")):
        page = client.get("/", headers={"Accept-Language": header}).text
        assert f'lang="{language}"' in html_tag(page) and 'dir="rtl"' in html_tag(page)


@pytest.mark.config(SUPPORTED_LOCALES=RTL, WALL_PAGE_SIZE=2)
def test_pager_arrows_point_the_way_the_page_reads(client, app_ctx):
    pledge = make_pledge()
    for n in range(5):
        confirmed_signature(pledge, name=f"Signer {n}")
    wall = f"/p/{pledge.slug}/wall"

    english = client.get(f"{wall}?lang=en").text
    older = re.search(r'<a rel="next"[^>]*>([^<]*)</a>', english).group(1)
    assert older.strip() == "Older →"

    arabic = client.get(f"{wall}?lang=ar").text
    older = re.search(r'<a rel="next"[^>]*>([^<]*)</a>', arabic).group(1).strip()
    # "Next" is to the left in a right-to-left page: the arrow points there, after the word.
    assert older.endswith("←") and "→" not in older
    newer_link = re.search(r'<a rel="next" href="([^"]*)"', arabic).group(1)
    newer = client.get(newer_link.replace("&amp;", "&")).text
    prev = re.search(r'<a rel="prev"[^>]*>([^<]*)</a>', newer).group(1).strip()
    assert prev.startswith("→") and "←" not in prev


@pytest.mark.config(SUPPORTED_LOCALES=RTL)
def test_codes_stay_left_to_right_inside_right_to_left_text(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    client.get("/?lang=ur")
    me = signer_page(client, outbox_dir, pledge, name="Tariq Mahmood")
    page = client.get(me).text
    code = re.search(r'<code dir="ltr">([^<]+)</code>', page).group(1)
    verify = client.get(f"/verify/{code}").text
    assert f'<bdi dir="ltr">{code}</bdi>' in verify


@pytest.mark.config(SUPPORTED_LOCALES=RTL)
def test_a_signers_pdf_in_urdu_reads_right_to_left(client, outbox_dir, tmp_path, app_ctx):
    pledge = make_pledge(title=URDU_TITLE)
    pledge.language = "ur"
    db.session.commit()
    client.get(f"/p/{pledge.slug}?lang=ur")
    name = "فاطمہ بی بی"
    me = signer_page(client, outbox_dir, pledge, name=name, country="PK")

    page = client.get(f"{me}/pledge.html").text
    assert 'lang="ur"' in html_tag(page) and 'dir="rtl"' in html_tag(page)

    response = client.get(f"{me}/pledge.pdf")
    assert response.status_code == 200
    words = " ".join(pdf_text(response.data).split())
    # Characters in logical (reading) order, not mirrored: the title and the name as typed.
    assert URDU_TITLE in words
    assert name in words
    assert "".join(reversed(URDU_TITLE)) not in words
    # Embedded in a font of the script (Naskh: Nastaliq's glyphs lose letters when the
    # text is read back, as this test found).
    assert "Noto-Naskh-Arabic" in embedded_fonts(response.data)


@pytest.mark.config(SUPPORTED_LOCALES=RTL)
def test_emails_to_an_urdu_signer_are_right_to_left(client, outbox_dir, app_ctx):
    from tests.helpers import deliver_and_read, sign_via_form

    pledge = make_pledge()
    client.get("/?lang=ur")
    sign_via_form(client, pledge, name="Tariq Mahmood")
    message = deliver_and_read(outbox_dir)[-1]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'lang="ur"' in html_tag(html) and 'dir="rtl"' in html_tag(html)


@pytest.mark.config(SUPPORTED_LOCALES=RTL)
def test_charts_run_from_the_right_in_arabic(app):
    from pledges.presentation.charts import bar_chart

    with app.test_request_context("/?lang=ar"):
        svg = bar_chart("Countries", ["Kenya", "Pakistan"], [3, 5])
        # The first label sits to the right of the second.
        assert svg.index(">Pakistan<") < svg.index(">Kenya<")
    with app.test_request_context("/?lang=en"):
        svg = bar_chart("Countries", ["Kenya", "Pakistan"], [3, 5])
        assert svg.index(">Kenya<") < svg.index(">Pakistan<")


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "لم يُحفظ أي توقيع."),  # zero
        (1, "حُفظ توقيع واحد."),  # one
        (2, "حُفظ توقيعان."),  # two
        (3, "حُفظت 3 توقيعات."),  # few: 3-10
        (11, "حُفظ 11 توقيعًا."),  # many: 11-99
        (100, "حُفظ 100 توقيع."),  # other: 100, 101…
    ],
)
def test_arabic_has_its_six_plural_forms(app, count, expected):
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale("ar"):
        said = ngettext("%(num)s signature saved.", "%(num)s signatures saved.", count)
    assert said == expected


def test_every_arabic_plural_message_fills_all_six_forms():
    from babel.messages.pofile import read_po

    with open(PROJECT_ROOT / "translations" / "ar" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    assert catalog.num_plurals == 6
    plurals = [m for m in catalog if m.id and m.pluralizable]
    assert plurals
    assert [m.id[0] for m in plurals if len(m.string) != 6 or not all(m.string)] == []


def test_urdu_interface_and_its_pdf_speak_urdu(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    client.get("/?lang=ur")
    page = client.get(f"/p/{pledge.slug}").text
    assert "یہ صفحہ فوراً چھوڑیں" in page  # "Leave this page quickly"
    assert "عہد پر دستخط کریں" in page  # "Sign the pledge"
    me = signer_page(client, outbox_dir, pledge, name="Tariq Mahmood")
    words = " ".join(pdf_text(client.get(f"{me}/pledge.pdf").data).split())
    # The document's own headings in Urdu, read back in reading order.
    assert "اس دستاویز کی تصدیق کریں" in words  # "Verify this document"


def test_english_words_in_an_urdu_pdf_keep_their_own_direction(client, outbox_dir, app_ctx):
    from tests.helpers import log_action

    pledge = make_pledge()
    client.get("/?lang=ur")
    me = signer_page(client, outbox_dir, pledge, name="Tariq Mahmood")
    log_action(client, me, pledge, description="Hosted a listening circle in Kisumu.")
    html = client.get(f"{me}/pledge.html").text
    assert '<div dir="ltr"><p>Hosted a listening circle in Kisumu.</p></div>' in html
    words = " ".join(pdf_text(client.get(f"{me}/pledge.pdf").data).split())
    assert "Hosted a listening circle in Kisumu." in words


def test_own_direction_reads_the_first_letter():
    from pledges.presentation.templating import own_direction

    assert own_direction("Kisumu, 2026") == "ltr"
    assert own_direction("2026 میں کراچی") == "rtl"
    assert own_direction("— 12") == "auto"
