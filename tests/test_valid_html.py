"""Valid HTML, by the Nu Html Checker (npm's vnu-jar, on the system's Java): the pages the
browser sweeps open are checked there (tests/browser/conftest.py's assert_accessible); here,
the checker itself, the pieces that made pages invalid (machine-readable times, a CSRF input
on each of several forms), the error pages and every email's HTML part."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import abort, render_template
from sqlalchemy import select

from pledges.accounts.service import send_reset_link
from pledges.admin.service import invite_user
from pledges.checkins.service import send_due_reminders, unsubscribe_token
from pledges.dossier import content as dossier_content
from pledges.dossier.build import SIGNERS_TEMPLATE
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import User
from pledges.moderation.service import file_report
from pledges.paper import service as paper
from pledges.partners import service as partners
from pledges.presentation.templating import machine_datetime
from pledges.signing import service as signing
from pledges.signing.recover import send_private_links
from pledges.updates import service as updates
from tests.factories import (
    confirmed_signature,
    logged_action,
    make_pledge,
    make_user,
    run_by,
    signature_input,
)
from tests.helpers import (
    assert_valid_html,
    bodies,
    csrf_token,
    html_checker,
    log_action,
    logged_in,
    outbox_rows,
    signer_page,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def page(body: str) -> str:
    return f'<!doctype html><html lang="en"><head><title>t</title></head><body>{body}</body></html>'


# --- the checker -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "finding"),
    [
        ('<p id="a">one</p><p id="a">two</p>', "Duplicate ID"),
        ("<p>a paragraph</div>", "Stray end tag"),
        ('<time datetime="2026-03-08T14:05:09.123456+00:00">8 March</time>', "datetime"),
        ("<center>Sign here</center>", "obsolete"),
    ],
)
def test_the_checker_finds_what_makes_a_page_invalid(markup, finding):
    """The sweep passes only because pages are valid, not because the checker says nothing."""
    with pytest.raises(AssertionError, match=finding):
        assert_valid_html(page(markup), "an invalid page")
    assert_valid_html(page("<p>Fine.</p>"), "a valid page")


# --- machine-readable times ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 3, 8, 14, 5, 9, 123456, tzinfo=UTC), "2026-03-08T14:05:09Z"),
        # Another zone is turned into UTC; a naive value is taken as UTC (as stored).
        (
            datetime(2026, 3, 8, 1, 5, 9, 999999, tzinfo=timezone(timedelta(hours=3))),
            "2026-03-07T22:05:09Z",
        ),
        (datetime(2026, 3, 8, 14, 5, 9, 500000), "2026-03-08T14:05:09Z"),
        (date(2026, 3, 8), "2026-03-08"),
        (None, ""),
    ],
)
def test_machine_datetime_is_a_valid_html_datetime(value, expected):
    assert machine_datetime(value) == expected
    if value is not None:
        assert_valid_html(page(f'<time datetime="{expected}">then</time>'), str(value))


def test_every_time_element_in_the_templates_uses_machine_datetime():
    """``isoformat()`` keeps a timestamp's microseconds: 50 errors on one wall page."""
    pattern = re.compile(r'<time datetime="\{\{ (?!iso \}\})[^}]*\}\}"')
    misses = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        for match in pattern.finditer(path.read_text())
        if "|machine_datetime" not in match.group(0)
    ]
    assert not misses, misses


# --- several forms on a page -----------------------------------------------------------------


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.forms = 0

    def handle_starttag(self, tag, attrs) -> None:
        self.forms += tag == "form"
        self.ids += [value for name, value in attrs if name == "id"]


def test_a_page_with_several_forms_repeats_no_id(client, outbox_dir, app_ctx):
    """The private page has a form for each thing a signer may change, each with its CSRF
    token: none carries WTForms's id="csrf_token" (which every form would repeat)."""
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    log_action(client, me, pledge)
    html = client.get(me).text
    parser = _Ids()
    parser.feed(html)
    assert parser.forms >= 5
    assert len(re.findall(r'name="(?:[\w-]+-)?csrf_token"', html)) >= 5
    duplicates = sorted({i for i in parser.ids if parser.ids.count(i) > 1})
    assert not duplicates, duplicates
    assert_valid_html(html, "the private page")


def test_no_template_renders_the_csrf_field_with_its_id():
    """``{{ form.csrf_token }}`` renders id="csrf_token"; ``{{ csrf_field(form) }}`` does not."""
    bare = re.compile(r"\{\{ *[\w.]+\.csrf_token *\}\}")
    misses = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        for match in bare.finditer(path.read_text())
    ]
    assert not misses, misses


# --- error pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 403, 404, 405, 413, 429, 500])
def test_error_pages_are_valid(failing_app, status):
    @failing_app.get("/fails-with/<int:code>")
    def fails_with(code: int):
        abort(code)

    client = failing_app.test_client()
    path = {404: "/no/such/page", 405: "/about", 500: "/boom"}.get(status)
    if path == "/about":
        response = client.post(path)
    else:
        response = client.get(path or f"/fails-with/{status}")
    assert response.status_code == status
    assert response.content_type.startswith("text/html")
    assert_valid_html(response.text, f"the {status} page")


def test_the_form_expired_page_is_valid(client):
    response = client.post("/lost-link", data={"email": "amina@example.org"})
    assert response.status_code == 400
    assert "This form was open too long" in response.text
    assert_valid_html(response.text, "the CSRF error page")


# --- pages only a sent form shows (the browser sweeps open every other page) -----------------


def test_the_pages_after_a_form_is_sent_are_valid(app, client):
    with app.app_context():
        organizer = make_user("organizer@example.org")
        pledge = run_by(make_pledge(), organizer)
        signature = confirmed_signature(pledge)
        file_report(signature, "fake", "Not a real person, I think.", "10.0.0.9")
        db.session.commit()
        slug, signature_id = pledge.slug, signature.id
        unsubscribe = f"/reminders/unsubscribe/{unsubscribe_token(signature)}"

    token = csrf_token(client.get("/password/forgot").text)
    sent = client.post(
        "/password/forgot", data={"email": "organizer@example.org", "csrf_token": token}
    )
    stopped = client.post(unsubscribe)
    invalid = client.get("/password/reset/not-a-token")
    organizer_client = logged_in(app, "organizer@example.org")
    token = csrf_token(organizer_client.get(f"/organize/{slug}/reports").text)
    unresolved = organizer_client.post(
        f"/organize/{slug}/reports/{signature_id}", data={f"r{signature_id}-csrf_token": token}
    )
    for name, response, status, template in [
        ("reset link sent", sent, 200, "accounts/reset_sent.html"),
        ("reminders stopped", stopped, 200, "checkins/unsubscribed.html"),
        ("reset link invalid", invalid, 404, "accounts/reset_invalid.html"),
        ("reports resolved with errors", unresolved, 400, "moderation/resolve.html"),
    ]:
        assert response.status_code == status, (name, response.status_code)
        assert_valid_html(response.text, f"{name} ({template})")


def test_a_dossiers_signer_list_is_valid(app, app_ctx):
    """The one print template no page shows (the signed pledge and the dossier's front matter
    have their previews in the browser sweep): the signer list, as a dossier prints it."""
    pledge = make_pledge()
    for name, country, visibility in [
        ("Amina Odhiambo", "KE", "full"),
        ("Tariq Mahmood", "PK", "initial"),
        ("Nimmi Perera", "LK", "organization"),
    ]:
        confirmed_signature(
            pledge, name=name, country=country, visibility=visibility, organization="Peace Now"
        )
    [runs] = list(dossier_content.signer_parts(pledge, utcnow(), 100))
    with app.test_request_context():
        html = render_template(
            SIGNERS_TEMPLATE, pledge=pledge, runs=runs, first_page=3, code="D-TEST"
        )
    assert "Amina Odhiambo" in html
    assert_valid_html(html, SIGNERS_TEMPLATE)


# --- emails ----------------------------------------------------------------------------------


def test_every_email_html_part_is_valid(app_ctx):
    """One email of each template, made by the flows that send them."""
    pledge = make_pledge()
    signature = confirmed_signature(pledge, email="amina@example.org")  # confirm
    signing.sign(pledge, signature_input(pledge, email="amina@example.org"))  # already_signed
    send_private_links("amina@example.org")  # lost_link
    partner = partners.invite(signature, "Grace Mukami", "grace@example.org")  # partner_invite
    partners.accept(partner, show_name=False)
    action = logged_action(signature)
    db.session.commit()
    partners.query_action(partner, action, "Which committee was it?")  # partner_query
    partners.reply(signature, action, "The Kisumu district one.")  # partner_answer
    invite_user("new.organizer@example.org", "Farida", "organizer")  # invitation
    make_user("organizer@example.org")
    send_reset_link("organizer@example.org")  # password_reset
    db.session.commit()
    assert send_due_reminders(now=utcnow() + timedelta(days=400)) == 1  # checkin
    partners.signer_withdrawing(signature)  # partner_withdrawn
    db.session.commit()
    organizer = db.session.scalar(select(User).filter_by(email="organizer@example.org"))
    sheet = paper.create_sheet(pledge, "en", organizer)
    row = paper.RowInput(1, "Grace Mukami", "", "KE", "full", "grace@example.org", "", False)
    assert paper.enter_rows(sheet, [row], organizer).emailed == 1  # paper_claim
    db.session.commit()
    confirmed_signature(pledge, email="subscriber@example.org").wants_updates = True
    news = updates.save_update(pledge, {pledge.language: updates.UpdateText("News", "We met.")})
    updates.publish(news)
    send = updates.start_send(news)
    db.session.commit()
    updates.run_send(send.id)  # update
    assert db.session.scalar(select(User).filter_by(email="new.organizer@example.org"))

    html_of = {row.template: bodies(row)[1] for row in outbox_rows()}
    templates = {p.stem for p in (TEMPLATES / "email").glob("[!_]*.html")}
    assert set(html_of) == templates
    checker = html_checker()
    failures = {name: checker.errors(html) for name, html in sorted(html_of.items())}
    failures = {name: errors for name, errors in failures.items() if errors}
    assert not failures, "\n".join(
        f"email/{name}.html: {m['message']} {m.get('extract', '')!r}"
        for name, errors in failures.items()
        for m in errors
    )
