"""What a signer sends is kept as they meant it: odd links, repeated choices, old actions,
accented organization names, and mail and messages in their language."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from babel import support
from flask_babel import Domain
from sqlalchemy import func, select

from pledges.extensions import db
from pledges.me import service as me_service
from pledges.models import (
    Action,
    ActionComment,
    Organization,
    OutboxEmail,
    Signature,
    SignatureStatus,
)
from pledges.organize import service as builder
from pledges.signers import SigningError, check_commitments, check_visibility
from pledges.signing import service as signing
from tests.factories import confirmed_signature, make_pledge, make_user, signature_input
from tests.helpers import action_form_data, csrf_token, log_in, sign_via_form, signer_page
from tests.test_multilingual import french_pledge
from tests.test_orgs import add_organization
from tests.test_partners import accept, invited_partner, log_action, query, reply

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# 1. A malformed link is a field error, not a crash.


@pytest.mark.parametrize("link", ["http://[::1", "https://[", "http://a]b"])
def test_a_malformed_evidence_link_is_refused_clearly(app, client, outbox_dir, link):
    with app.app_context():
        pledge = make_pledge()
        me = signer_page(client, outbox_dir, pledge)
        token = csrf_token(client.get(f"{me}/actions/new").text)
        response = client.post(
            f"{me}/actions/new",
            data={**action_form_data(pledge, evidence_url=link), "csrf_token": token},
        )
        assert response.status_code == 400
        assert "must be a web address starting with http" in response.text
        assert 'aria-invalid="true"' in response.text
        assert count(Action) == 0


# 2. A commitment sent twice is one choice.


def test_a_commitment_sent_twice_is_chosen_once(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        first, second = pledge.commitments[0].id, pledge.commitments[1].id
        response = sign_via_form(client, pledge, commitments=[str(first), str(second), str(second)])
        assert response.status_code == 302
        signature = db.session.scalar(select(Signature))
        assert [row.commitment_id for row in signature.chosen] == [first, second]
        assert count(OutboxEmail) == 1


def test_the_private_page_takes_a_commitment_sent_twice_once(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        first, third = pledge.commitments[0].id, pledge.commitments[2].id
        me = signer_page(client, outbox_dir, pledge)
        token = csrf_token(client.get(me).text)
        response = client.post(
            f"{me}/commitments",
            data={"cm-csrf_token": token, "cm-commitments": [str(first), str(third), str(third)]},
        )
        assert response.status_code == 302
        db.session.expire_all()
        signature = db.session.scalar(select(Signature))
        assert signature.active_commitment_ids() == {first, third}


# 3. Signing errors speak the reader's language.


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
    assert "tick #1, #2." in messages[2]
    assert "mailinator.com" in messages[4]


# 4. Editing an old action keeps its commitment.


def test_editing_an_action_keeps_a_commitment_since_dropped(app, client, outbox_dir):
    with time_machine.travel(START, tick=False), app.app_context():
        pledge = make_pledge()
        first, second = pledge.commitments[0], pledge.commitments[1]
        second_words = second.text
        me = signer_page(client, outbox_dir, pledge, commitments=[str(first.id), str(second.id)])
        action = log_action(client, me, pledge, commitment_id=str(second.id))
        older = log_action(client, me, pledge, commitment_id=str(first.id))
        # The organizers retire and reword it; the signer drops it at renewal.
        builder.reword_commitment(second, "Some other words now.")
        builder.retire_commitment(second)
        db.session.commit()
        token = csrf_token(client.get(me).text)
        client.post(
            f"{me}/commitments", data={"cm-csrf_token": token, "cm-commitments": [first.id]}
        )
        action_id, older_id, second_id = action.id, older.id, second.id
        form = action_form_data(pledge)

    # Its cycle has ended: the signer no longer holds it.
    with time_machine.travel(START + timedelta(days=31), tick=False), app.app_context():
        edit = f"{me}/actions/{action_id}/edit"
        page = client.get(edit).text
        assert f'<option selected value="{second_id}">{second_words}</option>' in page
        assert "Some other words now." not in page
        response = client.post(
            edit,
            data={
                **form,
                "commitment_id": str(second_id),
                "description": "Talked with my brothers, fixed a typo.",
                "csrf_token": csrf_token(page),
            },
        )
        assert response.status_code == 302
        action = db.session.get(Action, action_id)
        assert action.commitment_id == second_id
        assert action.description == "Talked with my brothers, fixed a typo."

        # Another action is not moved to the dropped commitment, nor a new one logged on it.
        for path in (f"{me}/actions/{older_id}/edit", f"{me}/actions/new"):
            page = client.get(path).text
            assert second_words not in page
            response = client.post(
                path,
                data={
                    **form,
                    "commitment_id": str(second_id),
                    "csrf_token": csrf_token(page),
                },
            )
            assert response.status_code == 400
        db.session.expire_all()
        assert db.session.get(Action, older_id).commitment_id != second_id
        assert count(Action) == 2


# 5. Partner mail in the signer's language.


def latest_mail_row() -> OutboxEmail:
    return db.session.scalar(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(1))


def test_partner_mail_is_in_the_signers_language(app, client, outbox_dir):
    with app.app_context():
        pledge = french_pledge()
        english_title = pledge.title
        client.set_cookie("lang", "fr")
        me = signer_page(client, outbox_dir, pledge, name="Amina Odhiambo")
        client.set_cookie("lang", "en")
        assert db.session.scalar(select(Signature.locale)) == "fr"
        invited_partner(client, outbox_dir, me, name="Grace", email="grace@example.org")
        invitation = latest_mail_row()
        token = csrf_token(client.get(me).text)
        client.post(f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})
        notice = latest_mail_row()
        assert notice.id != invitation.id
        for message in (invitation, notice):
            assert message.to_address == "grace@example.org"
            assert '<html lang="fr"' in message.body_html
            assert "Alliés pour la paix" in message.body_text
            assert english_title not in message.body_text


# 6. Organization names compared case-insensitively, accents too.


def test_an_accented_name_in_other_capitals_is_the_same_organization(app, client):
    with app.app_context():
        make_user("runner@example.org")
    log_in(client, "runner@example.org")
    assert add_organization(client, name="École de la Paix").status_code == 302
    response = add_organization(client, name="ÉCOLE DE LA PAIX")
    assert response.status_code == 400
    assert "There is already an organization of that name." in response.text
    with app.app_context():
        [school] = db.session.scalars(select(Organization)).all()
        pledge = make_pledge()
        signature = confirmed_signature(pledge, organization="école de la paix ")
        assert signature.organization_id == school.id
        assert signature.organization_name == "école de la paix"


# 7. Withdrawing with comments on actions is clean.


def test_withdrawing_with_partner_comments_raises_no_warning(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        me = signer_page(client, outbox_dir, pledge)
        action = log_action(client, me, pledge)
        link = invited_partner(client, outbox_dir, me)
        accept(client, link)
        assert query(client, link, action, "Who came?").status_code == 302
        assert reply(client, me, action, "Ten neighbours.").status_code == 302
        assert count(ActionComment) == 2
        token = csrf_token(client.get(me).text)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            response = client.post(
                f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"}
            )
        assert response.status_code == 302
        assert count(ActionComment) == 0 and count(Action) == 0
        assert db.session.scalar(select(Signature.status)) == SignatureStatus.WITHDRAWN
