"""Follow-through on the dashboard and per-pledge counts on the organizer's home page,
checked against a campaign small enough to count by hand."""

from __future__ import annotations

import html
import re

from pledges.extensions import db
from pledges.moderation import service as moderation
from pledges.partners import service as partners
from tests.factories import confirmed_signature, logged_action, make_pledge, make_user, run_by
from tests.helpers import log_in

OWNER = "owner@example.org"


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def campaign():
    """Four signers on the wall: Amina logged two actions (one confirmed by her partner),
    Babar one; Chen and Dora none. A fifth, hidden by moderators, logged one: it counts
    nowhere. One more pledge, with nobody yet."""
    pledge = make_pledge(slug="allies", title="Allies for peace", goal=40)
    amina = confirmed_signature(pledge, name="Amina Full")
    babar = confirmed_signature(pledge, name="Babar B")
    confirmed_signature(pledge, name="Chen C")
    confirmed_signature(pledge, name="Dora D")
    hidden = confirmed_signature(pledge, name="Eve Hidden")
    first = logged_action(amina, people=10)
    logged_action(amina, people=5)
    logged_action(babar)
    logged_action(hidden)
    db.session.commit()
    partner = partners.invite(amina, "Grace Mukami", "grace@example.org")
    partners.accept(partner, show_name=False)
    partners.confirm_action(partner, first)
    moderation.hide(hidden, "Spam")
    db.session.commit()
    make_pledge(slug="quiet", title="Quiet pledge", goal=None)
    owner = make_user(OWNER)
    run_by(pledge, owner)
    run_by(db.session.scalar(db.select(type(pledge)).where(type(pledge).slug == "quiet")), owner)


def test_the_dashboard_shows_follow_through(app, client):
    with app.app_context():
        campaign()
    log_in(client, OWNER)
    page = words(client.get("/organize/allies/dashboard").text)
    assert "Logged an action 50.0%" in page  # 2 of the 4 on the wall
    assert "Signers who logged at least one action 2 50.0%" in page
    assert "Actions logged 3" in page  # the hidden signer's action is out
    assert "Actions confirmed by an accountability partner 1 33.3%" in page
    assert "People reached 15" in page


def test_the_organizer_home_shows_counts_for_each_pledge(app, client):
    with app.app_context():
        campaign()
    log_in(client, OWNER)
    page = words(client.get("/organize/").text)
    allies = page.split("Allies for peace", 1)[1].split("Quiet pledge", 1)[0]
    assert "Signers on the wall 4 of 40" in allies
    assert "Logged an action 50% (2)" in allies
    assert "Actions logged 3" in allies
    assert "Confirmed by partners 1" in allies
    assert "Waiting for review 4" in allies  # nobody has reviewed the four yet
    quiet = page.split("Quiet pledge", 1)[1]
    assert "Signers on the wall 0" in quiet and "Logged an action –" in quiet
