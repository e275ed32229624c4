"""Accountability partners: a signer invites them; they confirm, query or decline."""

from __future__ import annotations

import html
import re
import warnings
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.me import service as me_service
from pledges.models import (
    Action,
    ActionComment,
    OutboxEmail,
    Partner,
    Pledge,
    Signature,
    SignatureStatus,
)
from tests.factories import french_pledge, make_pledge
from tests.helpers import (
    PARTNER_LINK_RE,
    bodies,
    count,
    csrf_token,
    deliver_and_read,
    links_in,
    log_action,
    read_outbox,
    signer_page,
    text_of,
)


def invite(client, me: str, name: str = "Grace Mukami", email: str = "grace@example.org"):
    token = csrf_token(client.get(me).text)
    return client.post(
        f"{me}/partners", data={"pt-csrf_token": token, "pt-name": name, "pt-email": email}
    )


def latest_mail_to(outbox_dir, address: str):
    return [m for m in deliver_and_read(outbox_dir) if m["To"] == address][-1]


def partner_link(outbox_dir, address: str) -> str:
    """The partner page path from the latest email to ``address``."""
    return PARTNER_LINK_RE.search(text_of(latest_mail_to(outbox_dir, address))).group(1)


def invited_partner(client, outbox_dir, me: str, **fields) -> str:
    assert invite(client, me, **fields).status_code == 302
    return partner_link(outbox_dir, fields.get("email", "grace@example.org"))


def partner_post(client, link: str, path: str, **data):
    token = csrf_token(client.get(link).text)
    prefix = {"/accept": "acc-", "/decline": "dec-", "/name": "nm-"}.get(path, "")
    return client.post(f"{link}{path}", data={f"{prefix}csrf_token": token, **data})


def accept(client, link: str, show_name: bool = False):
    data = {"acc-show_name": "y"} if show_name else {}
    return partner_post(client, link, "/accept", **data)


def query(client, link: str, action: Action, body: str):
    return partner_post(client, link, f"/actions/{action.id}/query", **{f"q{action.id}-body": body})


def reply(client, me: str, action: Action, body: str):
    token = csrf_token(client.get(me).text)
    return client.post(
        f"{me}/actions/{action.id}/comments",
        data={f"r{action.id}-csrf_token": token, f"r{action.id}-body": body},
    )


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def test_a_signer_invites_a_partner_who_gets_a_private_link(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Amina Odhiambo")
    public = log_action(client, me, pledge, description="Spoke at the market")
    private = log_action(client, me, pledge, description="Listened first", visibility="private")

    response = invite(client, me, name="Grace Mukami", email="Grace@Example.org")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#partners")
    page = client.get(me).text
    assert "Invitation sent to Grace Mukami." in page
    assert "Grace Mukami" in page and "no answer yet" in page

    [message] = [m for m in deliver_and_read(outbox_dir) if m["To"] == "Grace@Example.org"]
    assert "Amina Odhiambo" in message["Subject"]
    text = text_of(message)
    for words in (pledge.title, "confirm an action or ask about it", "accept or decline"):
        assert words in text
    link = PARTNER_LINK_RE.search(text).group(1)

    partner = db.session.scalar(select(Partner))
    assert (partner.name, partner.email, partner.email_normalized, partner.status) == (
        "Grace Mukami",
        "Grace@Example.org",
        "grace@example.org",
        "invited",
    )
    assert partner.show_name is False
    assert link.rsplit("/", 1)[1] not in partner.token_hash  # only the hash is kept

    partner_page = client.get(link)
    assert partner_page.status_code == 200
    assert '<meta name="robots" content="noindex">' in partner_page.text
    for words in ("Amina Odhiambo", pledge.title, pledge.commitments[0].text):
        assert words in partner_page.text
    # Every action, public and private, newest first.
    assert partner_page.text.index("Listened first") < partner_page.text.index(
        "Spoke at the market"
    )
    assert f'id="action-{public.id}"' in partner_page.text
    assert f'id="action-{private.id}"' in partner_page.text
    # Invited, not yet accepted: nothing to confirm yet.
    assert "Accept the role" in partner_page.text
    assert f"/actions/{public.id}/confirm" not in partner_page.text


@pytest.mark.parametrize(
    ("name", "email", "message"),
    [
        ("", "grace@example.org", "Tell us your partner's name."),
        ("G" * 121, "grace@example.org", "Field cannot be longer than 120 characters."),
        ("Grace", "", "Tell us your partner's email address"),
        ("Grace", "not-an-email", "An email address must have an @-sign."),
        ("Grace", "grace@example", "It should have a period."),
        ("Grace", "g" * 250 + "@example.org", "Field cannot be longer than 254 characters."),
        ("Grace", " Signer@EXAMPLE.org ", "That is your own address"),
    ],
)
def test_bad_invitations_get_clear_errors_and_store_nothing(
    client, outbox_dir, name, email, message, app_ctx
):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, email="signer@example.org")
    mail_before = count(OutboxEmail)
    response = invite(client, me, name=name, email=email)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    assert count(Partner) == 0
    assert count(OutboxEmail) == mail_before


def test_three_partners_at_most_and_never_the_same_address_twice(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    links = [
        invited_partner(client, outbox_dir, me, name=f"Partner {n}", email=f"p{n}@example.org")
        for n in (1, 2, 3)
    ]
    assert "the most you can have at a time" in client.get(me).text

    fourth = invite(client, me, name="Partner 4", email="p4@example.org")
    assert fourth.status_code == 400
    assert "You already have 3 accountability partners" in fourth.text
    assert count(Partner) == 3

    # Declining frees a place; the same address cannot be invited twice, in any case.
    assert partner_post(client, links[0], "/decline").status_code == 302
    again = invite(client, me, name="Partner 2 again", email="P2@EXAMPLE.org")
    assert again.status_code == 400
    assert "You have already invited this address." in again.text
    declined_again = invite(client, me, name="Partner 1", email="p1@example.org")
    assert "declined to be your partner" in declined_again.text
    assert count(Partner) == 3
    assert invite(client, me, name="Partner 4", email="p4@example.org").status_code == 302
    assert count(Partner) == 4


def test_the_database_refuses_the_same_partner_twice(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    signer_page(client, outbox_dir, pledge)
    signature = db.session.scalar(select(Signature))
    for n in (1, 2):
        db.session.add(
            Partner(
                signature_id=signature.id,
                name="Grace",
                email="grace@example.org",
                email_normalized="grace@example.org",
                token_hash=str(n) * 64,
            )
        )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_pending_signature_cannot_invite(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, confirm=False)
    assert "Accountability partners" not in client.get(me).text
    assert client.get(f"{me}/partners").status_code == 403
    response = invite(client, me)
    assert response.status_code == 403
    assert "Confirm your signature first" in response.text
    assert count(Partner) == 0


def test_a_partner_accepts_and_confirms_an_action(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    action = log_action(client, me, pledge)
    link = invited_partner(client, outbox_dir, me, name="Grace Mukami")

    assert accept(client, link).status_code == 302
    partner = fresh(Partner, db.session.scalar(select(Partner.id)))
    assert (partner.status, partner.show_name) == ("active", False)
    assert partner.responded_at is not None
    assert f"/actions/{action.id}/confirm" in client.get(link).text

    version = fresh(Pledge, pledge.id).wall_version
    response = partner_post(client, link, f"/actions/{action.id}/confirm")
    assert response.status_code == 302
    action = fresh(Action, action.id)
    assert (action.review_state, action.reviewed_by_id) == ("confirmed", partner.id)
    assert action.reviewed_at is not None
    assert tally_for(pledge.id).confirmed_actions == 1
    assert fresh(Pledge, pledge.id).wall_version > version

    # Confirming twice counts once.
    partner_post(client, link, f"/actions/{action.id}/confirm")
    assert tally_for(pledge.id).confirmed_actions == 1
    assert 'Confirmed</strong> by <span dir="auto">Grace Mukami' in client.get(me).text
    assert 'by <span dir="auto">you</span>' in client.get(link).text

    # Querying it takes the confirmation back.
    assert query(client, link, action, "Who else was there?").status_code == 302
    assert fresh(Action, action.id).review_state == "queried"
    assert tally_for(pledge.id).confirmed_actions == 0


def test_an_invited_partner_accepts_before_reviewing(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    action = log_action(client, me, pledge)
    link = invited_partner(client, outbox_dir, me)

    confirmed = partner_post(client, link, f"/actions/{action.id}/confirm")
    assert confirmed.status_code == 403
    assert "Accept the role first" in confirmed.text
    assert query(client, link, action, "Really?").status_code == 403
    assert partner_post(client, link, "/name", **{"nm-show_name": "y"}).status_code == 403
    action = fresh(Action, action.id)
    assert (action.review_state, action.comments) == ("unreviewed", [])
    assert tally_for(pledge.id).confirmed_actions == 0
    assert fresh(Partner, 1).show_name is False


def test_a_partner_declines_and_can_do_nothing_more(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    action = log_action(client, me, pledge, description="A private circle", visibility="private")
    link = invited_partner(client, outbox_dir, me)
    assert accept(client, link, show_name=True).status_code == 302

    assert partner_post(client, link, "/decline").status_code == 302
    partner = fresh(Partner, 1)
    assert (partner.status, partner.show_name) == ("declined", False)
    page = client.get(link).text
    assert "You declined this role" in page
    assert "A private circle" not in page
    assert "<form" not in page
    assert "Declined" in client.get(me).text

    # The buttons are gone; sending the forms anyway changes nothing.
    token = csrf_token(client.get(me).text)
    for path, data in (
        (f"/actions/{action.id}/confirm", {"csrf_token": token}),
        (f"/actions/{action.id}/query", {"csrf_token": token, f"q{action.id}-body": "Hm?"}),
        ("/accept", {"acc-csrf_token": token}),
        ("/name", {"nm-csrf_token": token, "nm-show_name": "y"}),
    ):
        response = client.post(f"{link}{path}", data=data)
        assert response.status_code == 403
        assert "You declined this role" in response.text
    action = fresh(Action, action.id)
    assert (action.review_state, action.comments) == ("unreviewed", [])
    assert fresh(Partner, 1).status == "declined"


def test_a_partner_queries_and_the_signer_answers(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Amina Odhiambo")
    action = log_action(client, me, pledge)
    link = invited_partner(client, outbox_dir, me, name="Grace Mukami")
    accept(client, link)

    # An empty question is refused, and nothing is sent.
    mail_before = count(OutboxEmail)
    empty = query(client, link, action, "   ")
    assert empty.status_code == 400
    assert "Write your question, so it can be answered." in empty.text
    assert count(ActionComment) == 0 and count(OutboxEmail) == mail_before
    assert fresh(Action, action.id).review_state == "unreviewed"

    question = "How many people came, and <b>who</b> led it?"
    assert query(client, link, action, question).status_code == 302
    action = fresh(Action, action.id)
    assert action.review_state == "queried"
    [comment] = action.comments
    assert (comment.partner_id, comment.body) == (1, question)

    message = latest_mail_to(outbox_dir, "amina@example.org")
    assert "Grace Mukami has a question" in message["Subject"]
    assert question in text_of(message)
    answer_page = client.get(links_in(message)["me"]).text
    assert "How many people came, and &lt;b&gt;who&lt;/b&gt; led it?" in answer_page
    assert "<b>who</b>" not in answer_page

    # A second partner, who did not ask, is not written to about the answer.
    other = invited_partner(client, outbox_dir, me, name="Jane Wambui", email="jane@example.org")
    accept(client, other)
    mail_before = count(OutboxEmail)
    assert reply(client, me, action, "").status_code == 400
    assert count(ActionComment) == 1 and count(OutboxEmail) == mail_before
    assert reply(client, me, action, "Twelve; Mama Rose led it.").status_code == 302
    answer = db.session.scalar(select(ActionComment).order_by(ActionComment.id.desc()))
    assert (answer.partner_id, answer.body) == (None, "Twelve; Mama Rose led it.")

    # The partner who asked is told, with the answer and no link (theirs is kept hashed).
    told = latest_mail_to(outbox_dir, "grace@example.org")
    assert told["Subject"] == "Amina Odhiambo answered your question"
    body = text_of(told)
    assert "Twelve; Mama Rose led it." in body and "http" not in body
    assert "private link from your invitation email" in body
    assert count(OutboxEmail) == mail_before + 1
    assert "answered" not in latest_mail_to(outbox_dir, "jane@example.org")["Subject"]

    partner_page = client.get(link).text
    assert "Twelve; Mama Rose led it." in partner_page
    assert partner_page.index("&lt;b&gt;who") < partner_page.index("Mama Rose")


def test_the_signer_answers_only_where_a_partner_asked(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    action = log_action(client, me, pledge)
    assert client.get(f"{me}/actions/{action.id}/comments").status_code == 200
    response = reply(client, me, action, "Nobody asked.")
    assert response.status_code == 400
    assert "No partner has asked about this action yet." in response.text
    assert count(ActionComment) == 0


def test_partners_and_signers_reach_only_their_own(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    mine = signer_page(client, outbox_dir, pledge, email="mine@example.org")
    theirs = signer_page(client, outbox_dir, pledge, email="theirs@example.org")
    my_action = log_action(client, mine, pledge)
    their_action = log_action(client, theirs, pledge)
    my_partner = invited_partner(client, outbox_dir, mine, email="mp@example.org")
    their_partner = invited_partner(client, outbox_dir, theirs, email="tp@example.org")
    accept(client, my_partner)
    accept(client, their_partner)
    query(client, their_partner, their_action, "Tell me more.")

    stolen = partner_post(client, my_partner, f"/actions/{their_action.id}/confirm")
    assert stolen.status_code == 404
    assert query(client, my_partner, their_action, "Snooping").status_code == 404
    assert reply(client, mine, their_action, "Not mine to answer").status_code == 404
    assert "Tell me more." not in client.get(my_partner).text
    token = csrf_token(client.get(mine).text)
    their_partner_id = db.session.scalar(
        select(Partner.id).where(Partner.email == "tp@example.org")
    )
    removed = client.post(f"{mine}/partners/{their_partner_id}/remove", data={"csrf_token": token})
    assert removed.status_code == 404
    assert count(Partner) == 2
    assert count(ActionComment) == 1
    assert fresh(Action, their_action.id).review_state == "queried"
    assert fresh(Action, my_action.id).review_state == "unreviewed"


def test_every_form_needs_its_csrf_token(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    action = log_action(client, me, pledge)
    link = invited_partner(client, outbox_dir, me)
    accept(client, link)
    query(client, link, action, "Who came?")
    mail_before = count(OutboxEmail)

    for path, data in (
        (f"{me}/partners", {"pt-name": "Eve", "pt-email": "eve@example.org"}),
        (f"{me}/partners/1/remove", {}),
        (f"{me}/actions/{action.id}/comments", {f"r{action.id}-body": "Answer"}),
        (f"{link}/actions/{action.id}/confirm", {}),
        (f"{link}/actions/{action.id}/query", {f"q{action.id}-body": "More?"}),
        (f"{link}/name", {"nm-show_name": "y"}),
        (f"{link}/decline", {}),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "Nothing was saved yet" in response.text
    partner = fresh(Partner, 1)
    assert (partner.status, partner.show_name) == ("active", False)
    assert count(Partner) == 1 and count(ActionComment) == 1
    assert fresh(Action, action.id).review_state == "queried"
    assert count(OutboxEmail) == mail_before


def test_a_partner_chooses_whether_to_be_named(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    action = log_action(client, me, pledge)
    link = invited_partner(client, outbox_dir, me)
    page = client.get(link).text
    assert "being named in public can put you in danger" in page
    assert accept(client, link, show_name=True).status_code == 302
    assert fresh(Partner, 1).show_name is True
    partner_post(client, link, f"/actions/{action.id}/confirm")

    version = fresh(Pledge, pledge.id).wall_version
    assert partner_post(client, link, "/name").status_code == 302
    assert fresh(Partner, 1).show_name is False
    assert fresh(Pledge, pledge.id).wall_version > version
    assert "you appear only as “an accountability partner”" in client.get(link).text


def test_removing_a_partner_keeps_their_confirmations(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    confirmed = log_action(client, me, pledge, description="Confirmed one")
    queried = log_action(client, me, pledge, description="Queried one")
    link = invited_partner(client, outbox_dir, me, name="Grace Mukami")
    accept(client, link)
    partner_post(client, link, f"/actions/{confirmed.id}/confirm")
    query(client, link, queried, "Really?")

    token = csrf_token(client.get(me).text)
    response = client.post(f"{me}/partners/1/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Grace Mukami is no longer your accountability partner." in client.get(me).text
    assert count(Partner) == 0 and count(ActionComment) == 0
    assert client.get(link).status_code == 404
    confirmed, queried = fresh(Action, confirmed.id), fresh(Action, queried.id)
    assert (confirmed.review_state, confirmed.reviewed_by_id) == ("confirmed", None)
    assert (queried.review_state, queried.reviewed_by_id) == ("unreviewed", None)
    assert tally_for(pledge.id).confirmed_actions == 1
    assert "a former partner" in client.get(me).text


def test_withdrawing_tells_partners_without_naming_the_signer(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Amina Odhiambo")
    action = log_action(client, me, pledge)
    active = invited_partner(client, outbox_dir, me, name="Active", email="a@example.org")
    invited_partner(client, outbox_dir, me, name="Invited", email="i@example.org")
    declined = invited_partner(client, outbox_dir, me, name="Declined", email="d@example.org")
    accept(client, active)
    partner_post(client, declined, "/decline")
    partner_post(client, active, f"/actions/{action.id}/confirm")

    token = csrf_token(client.get(me).text)
    client.post(f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})

    assert count(Partner) == 0
    assert client.get(active).status_code == 404
    # The mail sent to the signer and to their partners is erased: what is left is the
    # notice of the end of the partnership.
    told = deliver_and_read(outbox_dir)
    assert sorted(m["To"] for m in told) == ["a@example.org", "i@example.org"]
    for message in told:
        text = text_of(message)
        assert "has withdrawn" in text and pledge.title in text
        assert "Amina" not in text and "Odhiambo" not in text
        assert "Amina" not in message.get_body(preferencelist=("html",)).get_content()
    assert tally_for(pledge.id).confirmed_actions == 0


def test_unknown_partner_links_are_not_found(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    action = log_action(client, me, pledge)
    assert client.get("/partner/not-a-token").status_code == 404
    token = csrf_token(client.get(me).text)
    response = client.post(
        f"/partner/not-a-token/actions/{action.id}/confirm", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert fresh(Action, action.id).review_state == "unreviewed"


def test_my_data_download_includes_partners_and_their_comments(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, email="ali@example.org")
    action = log_action(client, me, pledge)
    link = invited_partner(client, outbox_dir, me, name="Maria Rashid", email="maria@example.org")
    accept(client, link)
    assert query(client, link, action, "Who came to the dialogue?").status_code == 302
    data = client.get(f"{me}/data.json").json
    [partner] = data["accountability_partners"]
    assert (partner["name"], partner["email"], partner["status"]) == (
        "Maria Rashid",
        "maria@example.org",
        "active",
    )
    [logged] = data["actions"]
    assert logged["review"] == "queried"
    assert logged["comments"] == [
        {
            "by": "Maria Rashid",
            "text": "Who came to the dialogue?",
            "at": logged["comments"][0]["at"],
        }
    ]


def test_a_query_email_does_not_break_the_last_reminder_link(client, outbox_dir, app_ctx):
    from pledges.checkins.service import send_due_reminders

    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, email="ali@example.org")
    action = log_action(client, me, pledge)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=31)):
        assert send_due_reminders() == 1
        reminder = latest_mail_to(outbox_dir, "ali@example.org")  # delivered when due
    reminder_page = re.search(
        r"http://pledges\.test(/me/[\w-]+)/reminders", text_of(reminder)
    ).group(1)
    link = invited_partner(client, outbox_dir, me, email="maria@example.org")
    accept(client, link)
    query(client, link, action, "Tell me more?")
    question = latest_mail_to(outbox_dir, "ali@example.org")
    assert "question" in question["Subject"]
    assert client.get(reminder_page).status_code == 200
    assert client.get(links_in(question)["me"]).status_code == 200


def test_the_wall_credits_partners_only_as_they_chose(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Oluoch Dola")
    public = log_action(client, me, pledge, description="Dialogue with young men")
    private = log_action(
        client, me, pledge, description="Talk with my father", visibility="private"
    )
    link = invited_partner(client, outbox_dir, me, name="Seconde Nyanzobe")
    accept(client, link)
    partner_post(client, link, f"/actions/{public.id}/confirm")
    partner_post(client, link, f"/actions/{private.id}/confirm")

    for url in (f"/p/{pledge.slug}/wall", f"/p/{pledge.slug}/actions"):
        page = client.get(url).text
        assert "Dialogue with young men" in page
        assert "Confirmed by an accountability partner" in page
        assert "Seconde" not in page
        assert "Talk with my father" not in page

    assert partner_post(client, link, "/name", **{"nm-show_name": "y"}).status_code == 302
    for url in (f"/p/{pledge.slug}/wall", f"/p/{pledge.slug}/actions"):
        page = client.get(url).text
        assert "Confirmed by <bdi>Seconde Nyanzobe</bdi>, an accountability partner" in page

    # Named beside an anonymous signer, she would point at who the signer is. (The action
    # shown beside the name leaves the public pages with it: it would tie the two.)
    me_service.change_visibility(db.session.scalar(select(Signature)), "anonymous", "")
    db.session.commit()
    later = log_action(client, me, pledge, description="Listening circle at the market")
    partner_post(client, link, f"/actions/{later.id}/confirm")
    for url in (f"/p/{pledge.slug}/wall", f"/p/{pledge.slug}/actions"):
        page = client.get(url).text
        assert "Anonymous ally" in page and "Listening circle at the market" in page
        assert "Dialogue with young men" not in page
        assert "Seconde" not in page
        assert "Confirmed by an accountability partner" in page


def statements_for(client, path: str) -> int:
    """How many SQL statements a GET of ``path`` runs."""
    statements = []

    def count_statement(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    return len(statements)


def test_the_pages_read_every_thread_in_a_fixed_number_of_queries(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Amina Odhiambo")
    link = invited_partner(client, outbox_dir, me, name="Grace Mukami")
    accept(client, link)

    def queried_action():
        action = log_action(client, me, pledge)
        assert query(client, link, action, "Who came?").status_code == 302
        assert reply(client, me, action, "Twelve neighbours.").status_code == 302

    queried_action()
    few = statements_for(client, me), statements_for(client, link)
    for _ in range(5):
        queried_action()
    many = statements_for(client, me), statements_for(client, link)
    assert "Twelve neighbours." in client.get(me).text
    assert many == few, (few, many)


def latest_mail_row() -> OutboxEmail:
    return db.session.scalar(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(1))


def test_partner_mail_is_in_the_signers_language(client, outbox_dir, app_ctx):
    pledge = french_pledge()
    english_title = pledge.title
    client.set_cookie("lang", "fr")
    me = signer_page(client, outbox_dir, pledge, name="Amina Odhiambo")
    client.set_cookie("lang", "en")
    assert db.session.scalar(select(Signature.locale)) == "fr"
    invited_partner(client, outbox_dir, me, name="Grace", email="grace@example.org")
    invitation = read_outbox(outbox_dir)[-1]  # delivered: its row keeps no body
    html_part = invitation.get_body(preferencelist=("html",)).get_content()
    messages = [(invitation["To"], (text_of(invitation), html_part))]
    token = csrf_token(client.get(me).text)
    client.post(f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})
    notice = latest_mail_row()
    assert notice.template == "partner_withdrawn"
    messages.append((notice.to_address, bodies(notice)))
    for to_address, (body_text, body_html) in messages:
        assert to_address == "grace@example.org"
        assert '<html lang="fr"' in body_html
        assert "Alliés pour la paix" in body_text
        assert english_title not in body_text


def test_withdrawing_with_partner_comments_raises_no_warning(client, outbox_dir, app_ctx):
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
