"""A signer's story: sign, get an email, confirm, appear on the wall as they chose."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import inspect, select

from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.infrastructure.security import new_verification_code
from pledges.models import AccessToken, Organization, OutboxEmail, PledgeStatus, Signature
from pledges.signing import service
from tests.factories import make_pledge, signature_input
from tests.helpers import (
    confirm_via_link,
    count,
    csrf_token,
    deliver_and_read,
    links_in,
    sign_form_data,
    sign_via_form,
    statements,
    text_of,
)


@pytest.mark.parametrize(
    ("visibility", "organization", "shown", "hidden"),
    [
        ("full", "Chemchemi Ya Ukweli", ["Amina Wanjiru Odhiambo", "Chemchemi Ya Ukweli"], []),
        ("initial", "Chemchemi Ya Ukweli", ["Amina O."], ["Wanjiru", "Odhiambo", "Chemchemi"]),
        (
            "organization",
            "Chemchemi Ya Ukweli",
            ["A member of Chemchemi Ya Ukweli"],
            ["Amina", "Odhiambo"],
        ),
        (
            "anonymous",
            "Chemchemi Ya Ukweli",
            ["Anonymous ally", "Kenya"],
            ["Amina", "Odhiambo", "Chemchemi"],
        ),
    ],
)
def test_sign_confirm_and_appear_on_wall_as_chosen(
    client, outbox_dir, visibility, organization, shown, hidden, app_ctx
):
    pledge = make_pledge()
    response = sign_via_form(
        client,
        pledge,
        name="Amina Wanjiru Odhiambo",
        email="Amina.Odhiambo@Example.org",
        organization=organization,
        visibility=visibility,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/{pledge.slug}/thanks"
    assert "Check your inbox" in client.get(response.headers["Location"]).text

    # Pending signatures are not on the wall yet.
    assert "Amina" not in client.get(f"/p/{pledge.slug}/wall").text
    assert tally_for(pledge.id).total == 0

    [message] = deliver_and_read(outbox_dir)
    assert message["To"] == "Amina.Odhiambo@Example.org"
    assert pledge.title in message["Subject"]
    links = links_in(message)
    assert confirm_via_link(client, links["confirm"]).status_code == 302

    wall = client.get(f"/p/{pledge.slug}/wall").text
    for text in shown:
        assert text in wall
    for text in hidden:
        assert text not in wall
    assert tally_for(pledge.id).total == 1
    assert tally_for(pledge.id).by_role == {"woman": 1}
    assert tally_for(pledge.id).by_country == {"KE": 1}


def test_signature_records_exactly_what_was_chosen(client, app_ctx):
    pledge = make_pledge()
    required, optional, _ = pledge.commitments
    sign_via_form(
        client,
        pledge,
        commitments=[str(required.id), str(optional.id)],
        personal_note="  Because peace starts at home.\r\n\r\nAnd at work.  ",
        country="LK",
        role="man",
    )
    signature = db.session.scalar(select(Signature))
    assert signature.chosen_commitment_ids == {required.id, optional.id}
    assert signature.status == "pending"
    assert signature.email_normalized == "amina@example.org"
    assert signature.personal_note == "Because peace starts at home.\n\nAnd at work."
    assert (signature.country, signature.role) == ("LK", "man")
    assert len(signature.verification_code) == 11


def test_a_known_organization_is_linked_by_name(client, app_ctx):
    organization = Organization(slug="wpp", name="Women Peacemakers Program")
    db.session.add(organization)
    pledge = make_pledge()
    sign_via_form(client, pledge, email="a@example.org", organization="women peacemakers program")
    sign_via_form(client, pledge, email="b@example.org", organization="Another Group")
    linked = dict(db.session.execute(select(Signature.email, Signature.organization_id)).all())
    assert linked == {"a@example.org": organization.id, "b@example.org": None}


def test_required_commitments_are_fixed_and_a_crafted_post_cannot_drop_them(client, app_ctx):
    pledge = make_pledge()
    required, optional, _ = pledge.commitments
    page = client.get(f"/p/{pledge.slug}").text
    # Shown as part of the pledge, with nothing to untick: a hidden input carries it.
    assert f'<input type="hidden" name="commitments" value="{required.id}">' in page
    assert (
        f'type="checkbox" name="commitments" id="commitments-0" value="{required.id}"' not in page
    )
    assert not re.search(rf'type="checkbox"[^>]*value="{required.id}"', page)
    assert re.search(rf'type="checkbox"[^>]*value="{optional.id}"', page)

    # A post without it (crafted, or from a page older than the rule) is refused whole.
    response = sign_via_form(client, pledge, commitments=[str(optional.id)])
    assert response.status_code == 400
    assert "part of this pledge and of every signature: #1." in response.text
    # What the person typed and chose is still there, the required one fixed again.
    assert 'value="Amina Odhiambo"' in response.text
    assert '<option value="KE" selected>Kenya</option>' in response.text
    assert response.text.count(" selected>") == 1
    assert f'<input type="hidden" name="commitments" value="{required.id}">' in response.text
    assert count(Signature) == 0
    assert count(OutboxEmail) == 0


def test_every_error_comes_in_one_round(client, app_ctx):
    """A disposable address is said together with the other mistakes, not after them."""
    pledge = make_pledge()
    response = sign_via_form(
        client,
        pledge,
        email="someone@mailinator.com",
        country="",
        visibility="organization",
        organization="",
        consent=None,
    )
    assert response.status_code == 400
    summary = response.text.split('id="form-errors"')[1].split("</div>")[0]
    assert "Please use a permanent address: addresses at mailinator.com expire" in summary
    assert "Choose your country." in summary
    assert "To be shown by your organization, tell us its name." in summary
    assert "Please agree, or we cannot record your signature." in summary
    # The organization is named as a field, not as an optional one reported missing.
    assert ">Organization</a>: To be shown" in summary and "(optional)" not in summary
    assert count(Signature) == 0
    assert count(OutboxEmail) == 0

    # An address that is not one yet gets the format's message alone.
    malformed = sign_via_form(client, pledge, email="someone@", country="")
    assert "Enter a valid email address" in malformed.text
    assert "permanent address" not in malformed.text


def test_the_form_says_when_the_organization_is_needed_and_what_each_choice_shows(client, app_ctx):
    pledge = make_pledge()
    page = html.unescape(client.get(f"/p/{pledge.slug}").text)
    assert "Organization (optional)" not in page
    assert "Needed if you choose “Only my organization” below." in page
    # "I sign as" says what the public sees of it.
    assert "The wall shows it beside your entry only if you tick “Show that I sign as…”" in page
    # Each visibility choice carries the entry the wall would show for it, tied to its button.
    expected = {
        "full": "Amina Odhiambo",
        "initial": "Amina O.",
        "organization": "A member of Women Peacemakers Network",
        "anonymous": "Anonymous ally",
    }
    for index, (value, entry) in enumerate(expected.items()):
        radio = re.search(rf'<input[^>]*id="visibility-{index}"[^>]*>', page).group(0)
        assert f'value="{value}"' in radio
        assert f'aria-describedby="visibility-{index}-example"' in radio
        example = page.split(f'id="visibility-{index}-example">')[1].split("</span></span>")[0]
        assert entry in example


def test_at_least_one_commitment(client, app_ctx):
    pledge = make_pledge(commitments=[("Only optional", False)])
    response = sign_via_form(client, pledge, commitments=[])
    assert response.status_code == 400
    assert "Choose at least one commitment." in response.text
    assert count(Signature) == 0


def test_commitment_of_another_pledge_is_refused(client, app_ctx):
    pledge, other = make_pledge(), make_pledge()
    ids = [str(pledge.commitments[0].id), str(other.commitments[0].id)]
    response = sign_via_form(client, pledge, commitments=ids)
    assert response.status_code == 400
    assert count(Signature) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter a valid email address"),
        ("email", "", "Tell us your email address"),
        ("name", "   ", "Tell us your name."),
        ("name", "x" * 121, "Field cannot be longer than 120 characters."),
        ("organization", "o" * 161, "Field cannot be longer than 160 characters."),
        ("personal_note", "n" * 1001, "Field cannot be longer than 1000 characters."),
        ("country", "XX", "Choose your country from the list."),
        ("country", "", "Choose your country"),
        ("role", "king", "Not a valid choice"),
        ("visibility", "", "Choose how you want to appear on the wall."),
        ("consent", "", "Please agree"),
        ("name", "Amina\x00", "control characters"),
    ],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(client, field, value, message, app_ctx):
    pledge = make_pledge()
    response = sign_via_form(client, pledge, **{field: value})
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert count(Signature) == 0
    assert count(OutboxEmail) == 0


def test_organization_visibility_needs_an_organization(client, app_ctx):
    pledge = make_pledge()
    response = sign_via_form(client, pledge, visibility="organization", organization="")
    assert response.status_code == 400
    assert "tell us its name" in response.text
    assert count(Signature) == 0


def test_signing_again_creates_nothing_and_emails_the_links(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    first = sign_via_form(client, pledge, email="amina@example.org")
    [confirmation] = deliver_and_read(outbox_dir)
    confirm_via_link(client, links_in(confirmation)["confirm"])

    again = sign_via_form(client, pledge, email="  AMINA@EXAMPLE.ORG ", name="Someone Else")
    # The screen is the same whether or not the address had signed, and has no link.
    assert again.status_code == first.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    thanks = client.get(again.headers["Location"]).text
    assert "/me/" not in thanks and "/confirm/" not in thanks

    assert count(Signature) == 1
    assert db.session.scalar(select(Signature.full_name)) == "Amina Odhiambo"
    messages = deliver_and_read(outbox_dir)
    assert len(messages) == 2
    reminder = messages[1]
    assert "already signed" in reminder["Subject"]
    assert "were not saved" in text_of(reminder)
    links = links_in(reminder)
    assert "me" in links and "confirm" not in links  # already confirmed
    assert client.get(links["me"]).status_code == 200
    # The first manage link still works: a stranger re-signing cannot lock the owner out.
    assert client.get(links_in(confirmation)["me"]).status_code == 200


def test_signing_again_before_confirming_sends_a_fresh_confirm_link(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge)
    sign_via_form(client, pledge)
    first, second = deliver_and_read(outbox_dir)
    assert "confirm" in links_in(second)
    assert confirm_via_link(client, links_in(second)["confirm"]).status_code == 302
    assert db.session.scalar(select(Signature.status)) == "confirmed"


def test_confirm_link_opened_twice_and_confirmed_twice(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge)
    [message] = deliver_and_read(outbox_dir)
    path = links_in(message)["confirm"]

    # A mail scanner opening the link first confirms nothing.
    scanner = client.application.test_client()
    assert scanner.get(path).status_code == 200
    assert scanner.get(path).status_code == 200
    assert db.session.scalar(select(Signature.status)) == "pending"

    page = client.get(path)
    assert "Confirm my signature" in page.text
    token = csrf_token(page.text)
    assert client.post(path, data={"csrf_token": token}).status_code == 302
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    assert "Your signature is confirmed" in client.get(path).text
    assert tally_for(pledge.id).total == 1


def test_unknown_links_answer_404(client, app_ctx):
    assert client.get("/confirm/not-a-token").status_code == 404
    assert client.get("/me/not-a-token").status_code == 404


def test_tokens_are_stored_only_as_hashes(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge)
    [message] = deliver_and_read(outbox_dir)
    tokens = [path.rsplit("/", 1)[1] for path in links_in(message).values()]
    stored = db.session.scalars(select(AccessToken.token_hash)).all()
    assert len(stored) == 3  # confirm, private page, off the wall
    for token in tokens:
        assert len(token) >= 40
        assert token not in stored
        assert all(token not in value for value in stored)


def test_post_without_csrf_token_is_refused_and_keeps_the_answers(client, app_ctx):
    pledge = make_pledge()
    response = sign_via_form(client, pledge, csrf_token="", name="Jens van Tricht")
    assert response.status_code == 400
    assert "Nothing was saved yet" in response.text
    assert 'value="Jens van Tricht"' in response.text
    assert count(Signature) == 0


def test_draft_pledge_is_invisible(client, app_ctx):
    pledge = make_pledge(status=PledgeStatus.DRAFT)
    assert client.get(f"/p/{pledge.slug}").status_code == 404
    assert client.get(f"/p/{pledge.slug}/wall").status_code == 404
    assert client.post(f"/p/{pledge.slug}", data={}).status_code in (400, 404)
    assert count(Signature) == 0


def test_closed_pledge_shows_but_takes_no_signatures(client, app_ctx):
    open_pledge = make_pledge()
    pledge = make_pledge(status=PledgeStatus.CLOSED)
    page = client.get(f"/p/{pledge.slug}")
    assert page.status_code == 200
    assert "no longer takes signatures" in page.text
    assert 'name="email"' not in page.text
    # A form kept open in another tab from before the pledge closed.
    token = csrf_token(client.get(f"/p/{open_pledge.slug}").text)
    data = sign_form_data(pledge, csrf_token=token)
    response = client.post(f"/p/{pledge.slug}", data=data)
    assert response.status_code == 409
    assert "no longer takes signatures" in response.text
    assert count(Signature) == 0


def test_a_commitment_sent_twice_is_chosen_once(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    first, second = pledge.commitments[0].id, pledge.commitments[1].id
    response = sign_via_form(client, pledge, commitments=[str(first), str(second), str(second)])
    assert response.status_code == 302
    signature = db.session.scalar(select(Signature))
    assert [row.commitment_id for row in signature.chosen] == [first, second]
    assert count(OutboxEmail) == 1


def test_a_new_signature_is_written_in_one_statement_per_table(client, app_ctx):
    """The POST's cost is its statements: no look-up before the INSERT, no savepoint around
    it, the choices in one INSERT (not a flush of one object each), the email's row too."""
    pledge = make_pledge()
    path = f"/p/{pledge.slug}"
    data = sign_form_data(pledge, commitments=[str(c.id) for c in pledge.commitments[:2]])
    data["csrf_token"] = csrf_token(client.get(path).text)
    db.session.close()  # the request loads the pledge as a stranger's would, not from here
    with statements() as seen:
        assert client.post(path, data=data).status_code == 302
    reads = [statement for statement in seen if statement.startswith("SELECT")]
    writes = [statement.partition(" (")[0] for statement in seen if statement not in reads]
    assert writes == [
        "INSERT INTO SIGNATURES",
        "INSERT INTO SIGNATURE_COMMITMENTS",
        "INSERT INTO ACCESS_TOKENS",
        "INSERT INTO OUTBOX_EMAILS",
    ]
    assert len(reads) <= 2  # the pledge, and its commitments to check the choices against
    signature = db.session.scalar(select(Signature))
    assert len(signature.chosen) == 2 and count(AccessToken) == 3 and count(OutboxEmail) == 1


def test_the_signature_the_email_is_written_from_is_the_row_stored(app_ctx, monkeypatch):
    """sign() does not read the new row back: the object its email is rendered from is made
    from what was inserted, and must hold exactly that, relationships loading as usual."""
    pledge = make_pledge()
    required, optional, _ = pledge.commitments
    data = signature_input(
        pledge,
        commitment_ids=(required.id, optional.id),
        organization="  Chemchemi Ya Ukweli ",
        visibility="organization",
        ip_address="203.0.113.9",
        show_role=True,
        publication="week",
        discreet_mail=True,
        wants_updates=True,
    )
    emailed = []
    send_confirmation = service._send_confirmation
    monkeypatch.setattr(
        service, "_send_confirmation", lambda s: send_confirmation(emailed.append(s) or s)
    )
    with statements() as seen:
        service.sign(pledge, data)
    assert not any(statement.startswith("SELECT SIGNATURES") for statement in seen)
    [signature] = emailed
    columns = Signature.__table__.c.keys()
    assert not inspect(signature).unloaded & set(columns)  # every column known, none expired
    stored = db.session.execute(select(Signature.__table__)).one()._asdict()
    assert {column: getattr(signature, column) for column in columns} == stored
    assert signature.chosen_commitment_ids == {required.id, optional.id}
    assert signature.pledge is pledge
    db.session.commit()
    assert db.session.get(Signature, stored["id"]).organization_name == "Chemchemi Ya Ukweli"


def test_a_new_code_already_taken_is_drawn_again_not_mistaken_for_signing_twice(
    app_ctx, monkeypatch
):
    pledge = make_pledge()
    service.sign(pledge, signature_input(pledge, email="first@example.org"))
    taken = db.session.scalar(select(Signature.verification_code))
    # Once in 2^50 a new signature's random code is one already stored: here, at once.
    draws = iter([taken])
    monkeypatch.setattr(
        service, "new_verification_code", lambda: next(draws, None) or new_verification_code()
    )
    service.sign(pledge, signature_input(pledge, email="second@example.org"))
    db.session.commit()
    codes = dict(db.session.execute(select(Signature.email, Signature.verification_code)).all())
    assert set(codes) == {"first@example.org", "second@example.org"}
    assert codes["first@example.org"] == taken != codes["second@example.org"]
    templates = db.session.scalars(select(OutboxEmail.template)).all()
    assert templates == ["confirm", "confirm"]  # no "you have already signed"


def test_an_address_is_checked_once_per_submission_and_forgotten_after_it(
    client, app_ctx, monkeypatch
):
    """The form's format check, its rule on disposable domains and the service all need the
    address checked: it is checked once per request, and not remembered past it (no
    signer's address stays in the worker's memory)."""
    from pledges.domain import signers

    checked: list[str] = []
    real_check = signers.validate_email

    def counting(address, **kwargs):
        checked.append(address)
        return real_check(address, **kwargs)

    monkeypatch.setattr(signers, "validate_email", counting)
    pledge = make_pledge()
    assert sign_via_form(client, pledge, email="amina@example.org").status_code == 302
    assert checked == ["amina@example.org"]
    # The same address again, in a new request: checked again (then answered as a repeat).
    assert sign_via_form(client, pledge, email="amina@example.org").status_code == 302
    assert checked == ["amina@example.org"] * 2
    # And a malformed one still gets the form's own message.
    response = sign_via_form(client, pledge, email="amina@")
    assert response.status_code == 400
    assert "Enter a valid email address, like name@example.org." in response.text
