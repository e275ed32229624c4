"""After confirming: a page of next steps, not a dead end (issue 15, item 2)."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from pledges.extensions import db
from pledges.models import AccessToken, Signature
from tests.factories import make_pledge
from tests.helpers import csrf_token, deliver_and_read, links_in, sign_via_form


@pytest.fixture
def confirmed(client, outbox_dir, app_ctx):
    """A signer who just pressed "Confirm my signature": (pledge, confirm path, the answer)."""
    pledge = make_pledge(slug="allies", title="Allies for peace")  # 30-day cycles
    sign_via_form(client, pledge)
    confirm = links_in(deliver_and_read(outbox_dir)[-1])["confirm"]
    page = client.get(confirm)
    answer = client.post(confirm, data={"csrf_token": csrf_token(page.text)})
    return pledge, confirm, answer


def test_confirming_lands_on_the_next_steps(client, confirmed):
    pledge, confirm, answer = confirmed
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{confirm}/next"
    links_before = db.session.scalar(select(func.count()).select_from(AccessToken))
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200
    # Showing the page (to a person or a link scanner) issues no link.
    assert db.session.scalar(select(func.count()).select_from(AccessToken)) == links_before
    text = page.text
    assert "Your signature is confirmed" in text
    # A button to the private page (a POST: showing the page issues no link).
    assert f'action="{confirm}/private-page"' in text
    assert "Open my private page" in text
    # Share links and a QR code, all to the public pledge page.
    public = "http://pledges.test/p/allies"
    assert "https://wa.me/?text=" in text and "Share by email" in text
    qr = re.search(r'<svg [^>]*class="qr-code"[^>]*><title>([^<]*)</title>', text)
    assert qr and qr.group(1) == f"QR code of {public}"
    assert f'<a href="{public}">{public}</a>' in text
    assert "/me/" not in text  # no private link on screen
    # What happens next: the first check-in date.
    signature = db.session.scalars(select(Signature)).one()
    first = render_template_string("{{ when|date }}", when=signature.next_checkin_at)
    assert f"On <strong>{first}</strong>, at the end of your first cycle" in text
    assert "cycles of 30 days" in text
    # Inviting a partner.
    assert "Invite an accountability partner" in text
    assert 'name="section" value="partners"' in text


def test_the_qr_code_needs_no_exception_in_the_content_security_policy(client, confirmed):
    _pledge, confirm, _answer = confirmed
    page = client.get(f"{confirm}/next")
    policy = page.headers["Content-Security-Policy"]
    assert "style-src 'self';" in policy and "unsafe-inline" not in policy
    svg = re.search(r"<svg .*?</svg>", page.text, re.S).group(0)
    assert "style=" not in svg and "<script" not in svg


@pytest.mark.parametrize("section", [None, "partners"])
def test_the_buttons_open_the_private_page_with_a_fresh_link(client, confirmed, section):
    _pledge, confirm, _answer = confirmed
    page = client.get(f"{confirm}/next")
    data = {"csrf_token": csrf_token(page.text)}
    if section:
        data["section"] = section
    opened = client.post(f"{confirm}/private-page", data=data)
    assert opened.status_code == 302
    location = opened.headers["Location"]
    assert re.fullmatch(r"/me/[\w-]+" + ("#partners" if section else ""), location)
    assert client.get(location.split("#")[0]).status_code == 200


def test_opening_the_private_page_needs_the_form(client, confirmed):
    _pledge, confirm, _answer = confirmed
    refused = client.post(f"{confirm}/private-page", data={})
    assert refused.status_code in (302, 400)
    assert "/me/" not in refused.headers.get("Location", "")


def test_before_confirming_there_are_no_next_steps_and_nothing_changes(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge)
    confirm = links_in(deliver_and_read(outbox_dir)[-1])["confirm"]
    answer = client.get(f"{confirm}/next")
    assert answer.status_code == 302 and answer.headers["Location"] == confirm
    assert db.session.scalar(select(Signature.status)) == "pending"
    assert client.get("/confirm/not-a-token/next").status_code == 404
