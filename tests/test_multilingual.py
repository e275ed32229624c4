"""A pledge in several languages: organizers translate it, readers read and sign it in
theirs, and the signer's mail and signed document keep the language they signed in."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import (
    AuditEntry,
    CommitmentTranslation,
    OutboxEmail,
    Pledge,
    PledgeTranslation,
    Signature,
)
from pledges.organize import service as builder
from tests.factories import (
    FRENCH_COMMITMENTS,
    confirmed_signature,
    french_pledge,
    make_pledge,
    make_user,
    run_by,
    translate,
)
from tests.helpers import (
    bodies,
    confirm_via_link,
    csrf_token,
    deliver_and_read,
    links_in,
    log_in,
    pdf_text,
    sign_via_form,
)

URDU_TITLE = "امن کے لیے اتحادی"
URDU_PREAMBLE = "مرد اور عورتیں، ایک ساتھ۔"
URDU_COMMITMENT = "میں پہلے خواتین امن سازوں کی بات سنوں گا۔"


def content_block(page: str) -> str:
    return re.search(r'<div class="pledge-content"[^>]*>', page).group(0)


def test_organizer_translates_their_pledge_and_strangers_cannot(app, client):
    with app.app_context():
        pledge = run_by(make_pledge("ours"), make_user("owner@example.org"))
        commitment_ids = [c.id for c in pledge.commitments]
        make_user("stranger@example.org")

    log_in(client, "stranger@example.org")
    assert client.get("/organize/ours/translations").status_code == 404
    token = csrf_token(client.get("/organize/new").text)
    assert (
        client.post(
            "/organize/ours/translations", data={"csrf_token": token, "tr-locale": "fr"}
        ).status_code
        == 404
    )
    client.post("/logout", data={"csrf_token": token})

    log_in(client, "owner@example.org")
    page = client.get("/organize/ours/translations")
    assert page.status_code == 200
    assert 'href="/organize/ours/translations"' in client.get("/organize/ours/").text
    form = {
        "tr-locale": "fr",
        "tr-title": "Alliés pour la paix",
        "tr-preamble": "Hommes et femmes, ensemble.",
        "tr-guidelines": "",
        **{f"tr-commitments-{i}": text for i, text in enumerate(FRENCH_COMMITMENTS)},
    }
    # Without its CSRF token, nothing is saved.
    assert client.post("/organize/ours/translations", data=form).status_code == 400
    response = client.post(
        "/organize/ours/translations", data={**form, "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    with app.app_context():
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == "ours"))
        assert [t.locale for t in pledge.translations] == ["fr"]
        texts = db.session.scalars(
            select(CommitmentTranslation.text)
            .where(CommitmentTranslation.commitment_id.in_(commitment_ids))
            .order_by(CommitmentTranslation.commitment_id)
        ).all()
        assert texts == FRENCH_COMMITMENTS
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.pledge_id == pledge.id)
        ).all()
        assert "translation.add" in actions

    # The pledge's own language, from the content languages (wider than the interface's).
    page = client.get("/organize/ours/translations")
    response = client.post(
        "/organize/ours/translations/language",
        data={"lang-language": "ur", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302
    page = client.get("/organize/ours/translations")
    response = client.post(
        "/organize/ours/translations/fr/remove", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    with app.app_context():
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == "ours"))
        assert pledge.language == "ur" and pledge.translations == []


def test_french_reader_reads_signs_and_gets_a_french_document(app, client, outbox_dir):
    with app.app_context():
        pledge = french_pledge()
        slug = pledge.slug
    page = client.get(f"/p/{slug}", headers={"Accept-Language": "fr"}).text
    assert "Alliés pour la paix" in page and "Hommes et femmes, ensemble." in page
    assert FRENCH_COMMITMENTS[0] in html.unescape(page)
    assert 'lang="fr"' in content_block(page) and 'dir="ltr"' in content_block(page)
    # The original is offered beside it.
    assert re.search(r'Aussi en :\s*<a href="/p/[\w-]+\?lang=en"', page)

    with app.app_context():
        pledge = db.session.get(Pledge, pledge.id)
        client.set_cookie("lang", "fr")
        assert sign_via_form(client, pledge, email="awa@example.org").status_code == 302
        message = deliver_and_read(outbox_dir)[-1]
    assert "Alliés pour la paix" in message["Subject"]
    assert "Merci de confirmer votre signature" in message["Subject"]
    links = links_in(message)
    confirm_via_link(client, links["confirm"])
    with app.app_context():
        signature = db.session.scalar(select(Signature))
        assert signature.locale == "fr"
        assert signature.chosen_commitments[0].text == FRENCH_COMMITMENTS[0]

    # Renewing (offered near the cycle's end), they are offered the commitments they did
    # not choose in French too.
    with time_machine.travel(utcnow() + timedelta(days=25), tick=False):
        manage = html.unescape(client.get(links["me"]).text)
    assert FRENCH_COMMITMENTS[2] in manage
    assert "I will join dialogues in cycles." not in manage

    # Whatever language the page is now read in, the document is the signer's.
    client.set_cookie("lang", "en")
    response = client.get(links["me"] + "/pledge.pdf")
    assert response.status_code == 200
    text = " ".join(pdf_text(response.data).split())
    assert "Alliés pour la paix" in text
    assert "J'écouterai d'abord les femmes" in text.replace("’", "'")
    assert "Mes engagements" in text and "My commitments" not in text


def test_english_reader_of_an_untranslated_pledge_sees_the_original(app, client):
    with app.app_context():
        pledge = make_pledge(title="Aliados por la paz")
        pledge.language = "es"
        db.session.commit()
        slug = pledge.slug
    page = client.get(f"/p/{slug}", headers={"Accept-Language": "en"}).text
    assert "Aliados por la paz" in page
    assert 'lang="es"' in content_block(page)
    assert "Sign the pledge" in page  # the interface stays English
    assert "Also in:" not in page


@pytest.mark.config(SUPPORTED_LOCALES=("en", "fr", "es"))  # Urdu as a content language only
def test_urdu_content_is_right_to_left_inside_an_english_page(app, client):
    with app.app_context():
        pledge = make_pledge()
        translate(pledge, "ur", URDU_TITLE, URDU_PREAMBLE, [URDU_COMMITMENT, "", ""])
        slug = pledge.slug
    english = client.get(f"/p/{slug}").text
    # Urdu is a content language only: offered with ?content=, not as an interface language.
    assert f'href="/p/{slug}?content=ur"' in english and "اردو" in english

    page = client.get(f"/p/{slug}?content=ur").text
    assert 'lang="en"' in re.search(r"<html[^>]*>", page).group(0)
    block = content_block(page)
    assert 'lang="ur"' in block and 'dir="rtl"' in block
    assert URDU_PREAMBLE in page and URDU_COMMITMENT in page
    # An untranslated commitment shows in its own words.
    assert "I will challenge violent ideas of masculinity." in page
    assert re.search(r'<ol class="commitment-list" lang="ur" dir="rtl">', page)
    # The form keeps the language, so the signature records it.
    assert f'action="/p/{slug}?content=ur#sign"' in page

    wall = client.get(f"/p/{slug}/wall?content=ur").text
    assert URDU_TITLE in wall
    assert URDU_TITLE not in client.get(f"/p/{slug}/wall").text

    api = client.get(f"/api/v1/pledges/{slug}?content=ur").get_json()
    assert api["language"] == "ur" and api["title"] == URDU_TITLE
    assert api["commitments"][0]["text"] == URDU_COMMITMENT


@pytest.mark.skipif(
    not shutil.which("fc-list")
    or "Arabic"
    not in subprocess.run(  # noqa: S603
        [shutil.which("fc-list")], capture_output=True, text=True
    ).stdout,
    reason="needs a font for Arabic script (Debian: fonts-noto-core)",
)
def test_urdu_signed_pledge_prints_in_urdu(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        translate(pledge, "ur", URDU_TITLE, URDU_PREAMBLE, [URDU_COMMITMENT, "", ""])
        slug = pledge.slug
        page = client.get(f"/p/{slug}?content=ur")
        data = {
            "name": "Ayesha Khan",
            "email": "ayesha@example.org",
            "country": "PK",
            "role": "woman",
            "visibility": "full",
            "publication": "now",
            "commitments": [str(pledge.commitments[0].id)],
            "consent": "y",
            "csrf_token": csrf_token(page.text),
        }
        assert client.post(f"/p/{slug}?content=ur", data=data).status_code == 302
        links = links_in(deliver_and_read(outbox_dir)[-1])
    confirm_via_link(client, links["confirm"])
    with app.app_context():
        assert db.session.scalar(select(Signature.locale)) == "ur"
    preview = client.get(links["me"] + "/pledge.html").text
    assert re.search(r'<ol class="commitments" lang="ur" dir="rtl">', preview)
    text = pdf_text(client.get(links["me"] + "/pledge.pdf").data)
    # Extracted glyph by glyph: compare without spaces and joiners.
    squeezed = re.sub(r"[\s\u200c\u200d]", "", text)
    assert re.sub(r"\s", "", URDU_PREAMBLE) in squeezed


def test_rewording_keeps_the_translated_words_the_signer_signed(app_ctx):
    pledge = french_pledge()
    signature = confirmed_signature(pledge, locale="fr")
    first = pledge.commitments[0]
    # Those French words are the signer's now: they cannot be edited in place...
    with pytest.raises(builder.BuilderError):
        builder.save_translation(
            pledge,
            builder.TranslationInput(
                locale="fr",
                title="Alliés pour la paix",
                preamble="Hommes et femmes, ensemble.",
                guidelines="",
                commitments={
                    first.id: "Autre chose.",
                    **{
                        c.id: text
                        for c, text in zip(
                            pledge.commitments[1:], FRENCH_COMMITMENTS[1:], strict=True
                        )
                    },
                },
            ),
        )
    db.session.rollback()
    # ...only reworded, which asks for a new translation.
    builder.reword_commitment(first, "I will listen first to women who build peace.")
    db.session.commit()
    translate(
        pledge,
        "fr",
        "Alliés pour la paix",
        "Hommes et femmes, ensemble.",
        ["J'écouterai en premier les femmes qui bâtissent la paix.", *FRENCH_COMMITMENTS[1:]],
    )
    db.session.expire_all()
    signature = db.session.get(Signature, signature.id)
    assert signature.chosen_commitments[0].text == FRENCH_COMMITMENTS[0]


def test_french_signer_gets_a_french_reminder_from_the_command(app, runner):
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        pledge = french_pledge()
        signature = confirmed_signature(pledge, locale="fr")
        signature.next_checkin_at = utcnow() - timedelta(minutes=1)
        signature.confirmed_at = utcnow() - timedelta(days=31)
        db.session.commit()
        db.session.execute(db.delete(OutboxEmail))
        db.session.commit()

    # A command runs outside any request: the reminder is in the signer's language.
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        message = db.session.scalars(select(OutboxEmail)).one()
        _, body_html = bodies(message)
    assert "Alliés pour la paix" in message.subject
    assert "Check-in" not in message.subject
    assert '<html lang="fr"' in body_html
    assert FRENCH_COMMITMENTS[0] in html.unescape(body_html)


def test_translation_rows_belong_to_the_pledge(app_ctx):
    pledge = french_pledge()
    assert db.session.scalars(select(PledgeTranslation.locale)).all() == ["fr"]
    builder.remove_translation(pledge, "fr")
    db.session.commit()
    assert db.session.scalars(select(PledgeTranslation)).all() == []


def test_every_public_page_names_the_pledge_in_the_readers_language(app, client):
    with app.app_context():
        pledge = french_pledge()
        original = pledge.title
        confirmed_signature(pledge, name="Amina Odhiambo")
        slug = pledge.slug
    french = {"Accept-Language": "fr"}
    home = client.get("/", headers=french).text
    assert '<h3 lang="fr" dir="ltr"><a href="/p/' in home and "Alliés pour la paix" in home
    assert original not in home
    actions = client.get(f"/p/{slug}/actions", headers=french).text
    assert "<title>Ce que les allié·es ont fait : Alliés pour la paix" in html.unescape(actions)
    assert original not in actions
    embed = client.get(f"/p/{slug}/embed", headers=french).text
    assert "Alliés pour la paix" in embed and original not in embed
    feed = client.get(f"/p/{slug}/feed.atom", headers=french).text
    assert "<title>Alliés pour la paix · Joining Forces</title>" in feed
    assert "Amina Odhiambo, Kenya a signé" in feed
    # English readers still get the original, from the same caches.
    assert original in client.get(f"/p/{slug}/feed.atom", headers={"Accept-Language": "en"}).text
    assert original in client.get("/", headers={"Accept-Language": "en"}).text


def test_wall_query_errors_are_in_the_readers_language(app, client):
    with app.app_context():
        slug = make_pledge().slug
    page = client.get(f"/p/{slug}/wall?country=zz&lang=fr")
    assert page.status_code == 400
    assert "« ZZ » n'est pas un code de pays que nous connaissons." in html.unescape(page.text)
