"""Signer safety (issue #13), the signer's own side: the choices at signing and on the private
page, the one-click "take me off the public wall now" link of every email, discreet mail,
and "Leave this page quickly"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

import pytest
import time_machine
from sqlalchemy import select

from pledges.checkins.service import send_due_reminders
from pledges.extensions import db
from pledges.models import Publication, Signature
from tests.factories import make_pledge
from tests.helpers import (
    confirm_via_link,
    csrf_token,
    deliver_and_read,
    links_in,
    log_action,
    sign_via_form,
    signer_page,
    text_of,
)
from tests.test_partners import accept, invited_partner, latest_mail_to, query

HIDE_LINK_RE = re.compile(r"http://pledges\.test(/me/hide/[\w-]+)")
QUICK_EXIT = 'class="quick-exit-link" href="https://www.bbc.com/weather"'


def the_signature() -> Signature:
    db.session.expire_all()
    return db.session.scalar(select(Signature))


def section(html: str, element_id: str, end: str = "</div>") -> str:
    """The element with ``element_id``, up to the next ``end``."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.index(end, start)]


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def shown_publicly() -> bool:
    """The door's own predicate for every public surface (the wall, feeds, API...)."""
    return the_signature().is_shown_publicly(datetime.now(UTC))


# --- the sign form ------------------------------------------------------------------------


def test_the_sign_form_stores_the_safety_choices(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    response = sign_via_form(
        client,
        pledge,
        visibility="anonymous",
        show_role="y",
        show_role_proposed="",  # the script saw the signer tick it themselves
        publication="month",
        discreet_mail="y",
    )
    assert response.status_code == 302
    signature = the_signature()
    assert signature.show_role is True
    assert signature.publication == Publication.MONTH
    assert signature.discreet_mail is True


@pytest.mark.parametrize(
    ("visibility", "shown"),
    [("full", True), ("initial", True), ("anonymous", False), ("organization", False)],
)
def test_a_role_box_left_as_proposed_follows_the_visibility_without_script(
    client, outbox_dir, app_ctx, visibility, shown
):
    """Without script the box stays ticked as it came for the default "initial": a signer
    who then picks anonymous, and leaves it, is not shown with their role."""
    pledge = make_pledge()
    sign_via_form(
        client,
        pledge,
        visibility=visibility,
        organization="Mothers for Peace",
        show_role="y",
        show_role_proposed="on",
    )
    assert the_signature().show_role is shown


def test_a_role_box_the_signer_changed_is_their_choice(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge, visibility="full", show_role=None, show_role_proposed="on")
    assert the_signature().show_role is False  # unticked on purpose, though named


def test_the_sign_page_proposes_safe_defaults_and_shows_examples(client, app_ctx):
    pledge = make_pledge()
    page = client.get(f"/p/{pledge.slug}").text
    # The default visibility is "initial", which shows the role; mail is ordinary.
    assert re.search(r'<input[^>]* checked[^>]* id="show_role"', page)
    assert 'name="show_role_proposed" type="hidden" value="on"' in page
    assert re.search(r'<input checked[^>]*name="publication"[^>]*value="now"', page)
    assert re.search(r'<input[^>]* id="discreet_mail"', page)
    assert not re.search(r'<input[^>]* checked[^>]* id="discreet_mail"', page)
    assert "7 days after I confirm" in page and "30 days after I confirm" in page
    assert "When the pledge closes" in page and "Never: count me, but do not show me" in page
    # Examples from the wall's own public_signer: one per visibility.
    examples = plain(section(page, "entry-examples", "</ul>"))
    assert "Amina Odhiambo" in examples
    assert "Amina O." in examples
    assert "A member of Women Peacemakers Network" in examples
    assert "Anonymous ally · Kenya" in examples
    lines = examples.splitlines()
    anonymous = next(line for line in lines if "Anonymous ally" in line)
    initial = next(line for line in lines if "Amina O." in line)
    assert "Woman" not in anonymous  # the role is off by default for anonymous entries
    assert "Woman" in initial


def test_after_errors_the_page_shows_the_signers_own_entry(client, app_ctx):
    pledge = make_pledge()
    response = sign_via_form(
        client,
        pledge,
        name="Jens van Tricht",
        country="NL",
        role="man",
        visibility="initial",
        publication="week",
        consent="",
    )
    assert response.status_code == 400
    mine = section(response.text, "your-entry")
    assert "Jens T." in mine and "Netherlands" in mine and "Man" in mine
    assert "Jens van Tricht" not in mine
    assert "Shown from 7 days after you confirm." in mine
    # The choices come back as sent.
    assert re.search(r'<input checked[^>]*name="publication"[^>]*value="week"', response.text)


# --- the private page ---------------------------------------------------------------------


def post_on_page(client, me: str, path: str, prefix: str = "", **data):
    token = csrf_token(client.get(me).text)
    return client.post(f"{me}{path}", data={f"{prefix}csrf_token": token, **data})


def test_the_private_page_changes_publication_role_and_mail(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Babar Bashir", country="PK")
    page = client.get(me).text
    assert "What the public sees now" in page
    assert "Babar Bashir · Pakistan" in plain(section(page, "public", "How the wall names you"))

    response = post_on_page(client, me, "/publication", "pub-", **{"pub-publication": "never"})
    assert response.status_code == 302
    assert the_signature().publication == Publication.NEVER
    assert "you chose never to be shown" in client.get(me).text
    assert not shown_publicly()

    response = post_on_page(
        client, me, "/visibility", "vis-", **{"vis-visibility": "anonymous"}
    )  # the role box left unticked
    assert response.status_code == 302
    signature = the_signature()
    assert signature.visibility == "anonymous" and signature.show_role is False

    response = post_on_page(client, me, "/discreet-mail", "dm-", **{"dm-discreet_mail": "y"})
    assert response.status_code == 302
    assert the_signature().discreet_mail is True
    mine = client.get(f"{me}/data.json").get_json()["signature"]
    assert mine["publication"] == "never" and mine["discreet_mail"] is True
    assert mine["show_role"] is False and mine["off_the_wall_by_choice"] is False

    bad = post_on_page(client, me, "/publication", "pub-", **{"pub-publication": "someday"})
    assert bad.status_code == 400
    assert "Not a valid choice" in bad.text


def test_off_the_wall_from_the_private_page_and_back_only_from_there(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Babar Bashir", country="PK")
    assert shown_publicly()

    assert post_on_page(client, me, "/off-the-wall").status_code == 302
    assert the_signature().self_hidden is True
    assert not shown_publicly()
    page = client.get(me).text
    assert "you took yourself off the public wall" in page
    assert "Put me back on the public wall" in page

    assert post_on_page(client, me, "/back-on-the-wall").status_code == 302
    assert the_signature().self_hidden is False
    assert shown_publicly()
    # A button without its CSRF token changes nothing.
    assert client.post(f"{me}/off-the-wall").status_code == 400
    assert the_signature().self_hidden is False


# --- the hide link of every email ---------------------------------------------------------


def every_signer_email(client, outbox_dir) -> list:
    """Sign, sign again, get a reminder and a partner's question: every kind of email a
    signer receives, as delivered (.eml)."""
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Ali Yusuf", email="ali@example.org")
    sign_via_form(client, pledge, email="ali@example.org")  # "you have already signed"
    action = log_action(client, me, pledge)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=31)):
        assert send_due_reminders() == 1
        deliver_and_read(outbox_dir)  # delivered when due
    link = invited_partner(client, outbox_dir, me, email="maria@example.org")
    accept(client, link)
    query(client, link, action, "Who came?")
    return [m for m in deliver_and_read(outbox_dir) if m["To"] == "ali@example.org"]


def test_every_email_to_a_signer_carries_a_hide_link_that_only_hides(client, outbox_dir, app_ctx):
    messages = every_signer_email(client, outbox_dir)
    subjects = [m["Subject"] for m in messages]
    assert len(messages) == 4, subjects  # confirm, already signed, check-in, question
    hide_links = []
    for message in messages:
        plain = HIDE_LINK_RE.findall(text_of(message))
        html = HIDE_LINK_RE.findall(message.get_body(preferencelist=("html",)).get_content())
        assert plain and html, message["Subject"]
        assert (
            "Take me off the public wall now"
            in message.get_body(preferencelist=("html",)).get_content()
        )
        hide_links.append(plain[0])
    assert len(set(hide_links)) == 4  # a link of its own in each

    link = hide_links[-1]
    # Opening it (as a mail scanner does) changes nothing.
    page = client.get(link)
    assert page.status_code == 200
    # Its address is a key: it never leaves in a Referer, nor stays in a cache.
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page.headers["Cache-Control"]
    assert "Take me off the public wall now" in page.text
    assert page.text.count("<button") == 1
    assert the_signature().self_hidden is False
    # A hide link opens nothing else: not the private page.
    token = link.rsplit("/", 1)[1]
    assert client.get(f"/me/{token}").status_code == 404

    response = client.post(link, data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert the_signature().self_hidden is True
    assert not shown_publicly()
    after = client.get(link).text
    assert "You are off the public wall" in after
    assert "<button" not in after  # no undo here: the link may be in other hands
    assert "back-on-the-wall" not in after


def test_a_hide_link_can_be_used_before_confirming(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge, name="Ali Yusuf")
    [message] = deliver_and_read(outbox_dir)
    links = links_in(message)
    page = client.get(links["hide"])
    client.post(links["hide"], data={"csrf_token": csrf_token(page.text)})
    confirm_via_link(client, links["confirm"])
    signature = the_signature()
    assert signature.self_hidden is True and signature.status == "confirmed"
    assert not shown_publicly()


def test_a_private_page_link_is_no_hide_link(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    token = me.rsplit("/", 1)[1]
    assert client.get(f"/me/hide/{token}").status_code == 404
    assert client.get("/me/hide/not-a-token").status_code == 404


# --- discreet mail ------------------------------------------------------------------------


def test_discreet_mail_has_a_neutral_subject_and_sender(client, outbox_dir, app_ctx):
    pledge = make_pledge(title="Men against gender-based violence")
    me = signer_page(client, outbox_dir, pledge, email="ali@example.org", discreet_mail="y")
    sign_via_form(client, pledge, email="ali@example.org")
    action = log_action(client, me, pledge)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=31)):
        assert send_due_reminders() == 1
        deliver_and_read(outbox_dir)
    link = invited_partner(client, outbox_dir, me, email="maria@example.org")
    accept(client, link)
    query(client, link, action, "Who came?")
    messages = deliver_and_read(outbox_dir)
    to_signer = [m for m in messages if m["To"] == "ali@example.org"]
    assert [m["Subject"] for m in to_signer] == [
        "Your link",
        "Your link",
        "A reminder",
        "A new message",
    ]
    invitation = latest_mail_to(outbox_dir, "maria@example.org")
    for message in [*to_signer, invitation]:
        assert message["From"] == "Notifications <pledges@localhost>", message["Subject"]
        sender_name = parseaddr(message["From"])[0]
        for word in ("gender", "violence", "pledge", "Men against", "Joining Forces"):
            assert word.lower() not in message["Subject"].lower()
            assert word.lower() not in sender_name.lower()
    # What is inside still works.
    assert "/confirm/" in text_of(to_signer[0])
    assert "Men against gender-based violence" in text_of(to_signer[0])


def test_ordinary_mail_keeps_its_subject_and_sender(client, outbox_dir, app_ctx):
    pledge = make_pledge(title="Allies in Kivu")
    sign_via_form(client, pledge)
    [message] = deliver_and_read(outbox_dir)
    assert message["Subject"] == "Please confirm your signature: Allies in Kivu"
    assert message["From"] == "Joining Forces <pledges@localhost>"


@pytest.mark.config(DISCREET_SENDER_NAME="Ali's box")
def test_the_discreet_sender_name_is_configurable(client, outbox_dir, app_ctx):
    sign_via_form(client, make_pledge(), discreet_mail="y")
    [message] = deliver_and_read(outbox_dir)
    assert message["From"] == "Ali's box <pledges@localhost>"


# --- leave this page quickly --------------------------------------------------------------


def test_signer_partner_sign_and_confirmation_pages_offer_a_quick_exit(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge, email="ali@example.org")
    links = links_in(deliver_and_read(outbox_dir)[-1])
    pages = [f"/p/{pledge.slug}", f"/p/{pledge.slug}/thanks", links["confirm"], links["hide"]]
    confirm_via_link(client, links["confirm"])
    me = links["me"]
    partner = invited_partner(client, outbox_dir, me, email="maria@example.org")
    pages += [me, f"{me}/partners", f"{me}/reminders", f"{me}/actions/new", partner]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        assert QUICK_EXIT in page.text, path
        assert "/static/js/quick-exit.js" in page.text, path
    # Public pages that are not about one person do not need it.
    assert QUICK_EXIT not in client.get(f"/p/{pledge.slug}/wall").text
    with client.get("/static/js/quick-exit.js") as script:
        assert script.status_code == 200
        assert "location.replace" in script.get_data(as_text=True)


@pytest.mark.config(QUICK_EXIT_URL="https://www.google.com/search?q=weather")
def test_the_quick_exit_address_is_configurable(client, app_ctx):
    page = client.get(f"/p/{make_pledge().slug}").text
    assert 'href="https://www.google.com/search?q=weather"' in page


def test_an_unnamed_signers_own_example_leaves_out_a_country_few_share(client, app_ctx):
    pledge = make_pledge()
    response = sign_via_form(
        client, pledge, country="IS", visibility="anonymous", show_role=None, consent=""
    )
    mine = plain(section(response.text, "your-entry"))
    assert "Anonymous ally" in mine
    assert "Iceland" not in mine and "Woman" not in mine
