"""Text no person types: noncharacters, NUL bytes and made-up language codes get a clear
answer, store nothing, and never break a page for everyone else."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from wtforms import Form, StringField, TextAreaField
from wtforms.validators import ValidationError

from pledges.actions import service as actions
from pledges.extensions import db
from pledges.forms import no_control_characters
from pledges.infrastructure.database import utcnow
from pledges.models import PledgeOrganizer, PledgeStatus, PledgeTranslation, Signature
from tests.factories import confirmed_signature, make_pledge, make_user, run_by
from tests.helpers import count, csrf_token, deliver_and_read, log_in, sign_via_form

ATOM = "{http://www.w3.org/2005/Atom}"
CONTROL_MESSAGE = "Remove the invisible control characters from this text."


# Noncharacters: refused by the forms, and never fatal to the Atom feed.


@pytest.mark.parametrize(
    "text", ["\ufffe", "\uffff", "\ufdd0", "\U0001ffff", "\U0010fffe", "\ud800", "\x00"]
)
def test_the_shared_validator_refuses_noncharacters_and_surrogates(text):
    with pytest.raises(ValidationError):
        no_control_characters(None, SimpleNamespace(data=f"Peace {text} now"))


@pytest.mark.parametrize("text", ["Ça va\tbien\nmerci", "امن", "emoji 🕊️", "\ufffd"])
def test_the_shared_validator_lets_real_text_through(text):
    no_control_characters(None, SimpleNamespace(data=text))


def test_a_note_with_a_noncharacter_is_refused_and_nothing_is_stored(client, app_ctx):
    pledge = make_pledge()
    response = sign_via_form(client, pledge, personal_note="Together\uffff for peace")
    assert response.status_code == 400
    assert CONTROL_MESSAGE in response.text
    assert count(Signature) == 0


def test_the_feed_survives_text_stored_before_the_validator_knew_better(app, client):
    with app.app_context():
        pledge = make_pledge()
        slug = pledge.slug
        signature = confirmed_signature(
            pledge, name="Amina\uffff Odhiambo", personal_note="Peace\ufffe now\x1b"
        )
        actions.log_action(
            signature,
            actions.ActionInput(
                commitment_id=pledge.commitments[0].id,
                kind="conversation",
                done_on=utcnow().date(),
                description="Talked\uffff with my brothers.",
                people_reached=3,
                evidence_url=None,
                visibility="public",
            ),
        )
        db.session.commit()

    response = client.get(f"/p/{slug}/feed.atom")
    assert response.status_code == 200
    root = ET.fromstring(response.data)  # noqa: S314 -- our own feed, not untrusted input
    contents = [entry.findtext(f"{ATOM}content") for entry in root.iter(f"{ATOM}entry")]
    titles = [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]
    assert "Peace now" in contents
    assert "Talked with my brothers." in contents
    assert "Amina Odhiambo, Kenya signed" in titles


# NUL bytes: PostgreSQL refuses them, so the forms must refuse them first.


def test_login_with_a_nul_byte_answers_like_a_wrong_address(app, client):
    with app.app_context():
        make_user("me@example.org")
    response = log_in(client, "me\x00@example.org")
    assert response.status_code == 422
    assert "That email address and password don&#39;t match an active account." in response.text
    assert client.get("/organize/").status_code == 302  # not logged in


def test_password_reset_with_a_nul_byte_is_refused_and_sends_nothing(app, client, outbox_dir):
    with app.app_context():
        make_user("me@example.org")
    page = client.get("/password/forgot")
    response = client.post(
        "/password/forgot",
        data={"email": "me@example.org\x00", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 422
    assert CONTROL_MESSAGE in response.text
    with app.app_context():
        assert deliver_and_read(outbox_dir) == []


def test_adding_an_organizer_with_a_nul_byte_is_refused(app, client):
    with app.app_context():
        run_by(make_pledge("ours", status=PledgeStatus.DRAFT), make_user("owner@example.org"))
        make_user("colleague@example.org")
        organizers = count(PledgeOrganizer)
    log_in(client, "owner@example.org")
    team = "/organize/ours/organizers"
    token = csrf_token(client.get(team).text)
    response = client.post(
        f"{team}/add", data={"csrf_token": token, "org-email": "colleague@example.org\x00"}
    )
    assert response.status_code == 400
    assert CONTROL_MESSAGE in response.text
    with app.app_context():
        assert count(PledgeOrganizer) == organizers


# A translation into a language this site does not offer.


@pytest.mark.parametrize("locale", ["zz", "x!", "en_ZZ_x", "de"])
def test_a_translation_into_an_unknown_language_is_refused(app, client, locale):
    with app.app_context():
        run_by(make_pledge("ours"), make_user("owner@example.org"))
    log_in(client, "owner@example.org")
    page = client.get("/organize/ours/translations")
    response = client.post(
        "/organize/ours/translations",
        data={
            "csrf_token": csrf_token(page.text),
            "tr-locale": locale,
            "tr-title": "Titel",
            "tr-preamble": "Text.",
        },
    )
    assert response.status_code == 400
    with app.app_context():
        assert count(PledgeTranslation) == 0


# The signing rate limit on a pledge that is not public.


@pytest.mark.config(SIGN_LIMIT_PER_IP="2 per minute", SIGN_LIMIT_PER_DOMAIN="100 per minute")
@pytest.mark.parametrize("slug", ["no-such-pledge", "draft-pledge"])
def test_the_signing_limit_on_a_pledge_nobody_can_sign_is_a_plain_answer(app, client, slug):
    with app.app_context():
        make_pledge("draft-pledge", status=PledgeStatus.DRAFT)
    token = csrf_token(client.get("/login").text)
    statuses = {
        client.post(
            f"/p/{slug}", data={"csrf_token": token, "email": "a@example.org", "name": "A"}
        ).status_code
        for _ in range(12)
    }
    assert 429 in statuses
    assert statuses <= {404, 429}


BIDI_MESSAGE = "Remove the invisible text-direction controls from this text."


@pytest.mark.parametrize(
    "control",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_one_line_fields_refuse_bidi_controls_and_long_texts_keep_them(control):
    one_line = StringField().bind(Form(), "name")
    one_line.data = f"Ada{control}Corp"
    with pytest.raises(ValidationError, match="text-direction"):
        no_control_characters(None, one_line)
    long_text = TextAreaField().bind(Form(), "note")
    long_text.data = f"In Arabic: {control}سلام"
    no_control_characters(None, long_text)  # right-to-left writing may need them


def test_the_marks_that_only_steer_neutral_characters_are_allowed():
    field = StringField().bind(Form(), "name")
    field.data = "Amina\u200f \u200eO.\u061c"
    no_control_characters(None, field)


@pytest.mark.parametrize(
    "field, value",
    [("name", "Ada \u202eecalevoL"), ("organization", "\u2067Evil\u2069 Corp")],
)
def test_a_signer_name_or_organization_with_bidi_controls_is_refused(app, client, field, value):
    with app.app_context():
        pledge = make_pledge()
        response = sign_via_form(client, pledge, **{field: value})
        assert response.status_code == 400
        assert BIDI_MESSAGE in response.text
        assert count(Signature) == 0


def test_a_pledge_title_with_bidi_controls_is_refused(app, client):
    with app.app_context():
        make_user("me@example.org")
    log_in(client, "me@example.org")
    page = client.get("/organize/new")
    response = client.post(
        "/organize/new",
        data={
            "title": "Allies \u202eecaep rof",
            "preamble": "Why.",
            "checkin_cadence_days": "30",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code in (400, 422)
    assert BIDI_MESSAGE in response.text


def test_a_reversed_organization_does_not_flip_the_next_signers_entry(app, tmp_path):
    """Stored before the rule: the wall and the dossier isolate each entry."""
    from pledges.dossier import service as dossier_service

    with app.app_context():
        pledge = make_pledge()
        confirmed_signature(pledge, name="Ada Quist", organization="\u202eCorp Evil", country="KE")
        confirmed_signature(pledge, name="Bob Smith", country="KE")
        confirmed_signature(pledge, name="Carl Jones", country="KE")
        wall = app.test_client().get(f"/p/{pledge.slug}/wall").text
        dossier = dossier_service.request_dossier(pledge, "officials")
        db.session.commit()
        path = tmp_path / "dossier.pdf"
        dossier_service.issue(dossier, path, progress=lambda done, total: None, part_size=10)
    assert "<bdi>\u202eCorp Evil</bdi>" in wall
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(str(path)).pages).split())
    assert "Bob Smith" in text and "Carl Jones" in text  # not "htimS boB"
