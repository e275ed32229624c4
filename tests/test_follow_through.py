"""Follow-through figures and the public feed of actions, against a hand count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from pledges.actions import service as actions
from pledges.actions.service import ActionInput
from pledges.domain.tallies import recount, tally_for
from pledges.extensions import db
from pledges.me import service as me_service
from pledges.models import Action, Signature
from tests.factories import confirmed_signature, make_pledge

START = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def log(signature, description, people=None, visibility="public", when=None):
    action = actions.log_action(
        signature,
        ActionInput(
            commitment_id=signature.pledge.commitments[0].id,
            kind="advocacy",
            done_on=(when or START).date(),
            description=description,
            people_reached=people,
            evidence_url="https://example.org/report" if visibility == "public" else None,
            visibility=visibility,
        ),
    )
    db.session.commit()
    return action


def small_pledge():
    """Four signers: A logs two public actions, B one private, C nothing, D logs and leaves."""
    pledge = make_pledge()
    a = confirmed_signature(pledge, name="Amina Full", visibility="full")
    b = confirmed_signature(pledge, name="Babar Hidden", visibility="anonymous", country="PK")
    confirmed_signature(pledge, name="Chen Quiet")
    d = confirmed_signature(pledge, name="Dora Gone")
    log(a, "Spoke at the district peace committee", people=10)
    log(a, "Ran a listening circle for fathers", people=5)
    log(b, "Private reflection journal", people=3, visibility="private")
    log(d, "Action of someone who later withdrew", people=100)
    me_service.withdraw(d)
    db.session.commit()
    return pledge, a, b


def test_figures_match_a_hand_count(app, client):
    with app.app_context(), time_machine.travel(START, tick=False):
        pledge, a, b = small_pledge()
        tally = tally_for(pledge.id)
        assert tally.total == 3
        assert tally.actions == 3  # A's two and B's one; D's left with D
        assert tally.people_reached == 18
        assert tally.active_signers == 2  # A and B logged this cycle
        assert round(tally.active_share * 100) == 67
        assert tally.confirmed_actions == 0
        assert recount(pledge.id) == tally  # the kept counters equal a recount
        db.session.commit()

        page = client.get(f"/p/{pledge.slug}/wall").text
        assert "67%" in page and "18" in page
        assert client.get(f"/api/v1/pledges/{pledge.slug}").json["follow_through"] == {
            "active_signers": 2,
            "active_share": 0.6667,
            "actions": 3,
            "confirmed_actions": 0,
            "people_reached": 18,
        }

        # Editing and deleting move the figures.
        first = db.session.scalar(select(Action).where(Action.signature_id == a.id).limit(1))
        actions.update_action(
            a,
            first,
            ActionInput(
                commitment_id=first.commitment_id,
                kind=first.kind,
                done_on=first.done_on,
                description=first.description,
                people_reached=(first.people_reached or 0) + 20,
                evidence_url=first.evidence_url,
                visibility=first.visibility,
            ),
        )
        db.session.commit()
        b_action = db.session.scalar(select(Action).where(Action.signature_id == b.id))
        actions.delete_action(b, b_action)
        db.session.commit()
        tally = tally_for(pledge.id)
        assert (tally.actions, tally.people_reached, tally.active_signers) == (2, 35, 1)
        assert recount(pledge.id) == tally
        db.session.commit()
        # The wall shows it at once: the cache was invalidated by each change.
        assert "33%" in client.get(f"/p/{pledge.slug}/wall").text


def test_activity_lapses_when_the_cycle_ends(app_ctx):
    with time_machine.travel(START, tick=False):
        pledge = make_pledge()
        signer = confirmed_signature(pledge)
        log(signer, "First cycle action")
        assert tally_for(pledge.id).active_signers == 1
    with time_machine.travel(START + timedelta(days=31), tick=False):
        assert tally_for(pledge.id).active_signers == 0
        signer = db.session.get(Signature, signer.id)
        log(signer, "Second cycle action", when=START + timedelta(days=31))
        assert tally_for(pledge.id).active_signers == 1
        assert recount(pledge.id).active_signers == 1
        db.session.commit()


def test_public_feed_shows_public_actions_as_each_signer_chose(app, client):
    with app.app_context(), time_machine.travel(START, tick=False):
        pledge, a, b = small_pledge()
        hidden = confirmed_signature(pledge, name="Hidden By Moderators")
        log(hidden, "Action of a hidden signer")
        hidden.status = "hidden"
        db.session.commit()

        feed = client.get(f"/p/{pledge.slug}/actions")
        assert feed.status_code == 200
        page = feed.text
        assert "Spoke at the district peace committee" in page
        assert "Ran a listening circle for fathers" in page
        assert "Amina Full" in page
        assert "Private reflection journal" not in page
        assert "Action of someone who later withdrew" not in page
        assert "Action of a hidden signer" not in page
        assert 'rel="nofollow ugc noopener noreferrer"' in page
        assert "@example.org" not in page
        wall = client.get(f"/p/{pledge.slug}/wall").text
        assert "Ran a listening circle for fathers" in wall  # the latest, on the wall too
        assert client.get(f"/p/{pledge.slug}/actions?before=nonsense").status_code == 400


def test_feed_pages_through_every_public_action_once(app, client):
    app.config["WALL_PAGE_SIZE"] = 2
    with app.app_context():
        pledge = make_pledge()
        signer = confirmed_signature(pledge, visibility="anonymous")
        for n in range(5):
            with time_machine.travel(START + timedelta(minutes=n), tick=False):
                log(signer, f"Action number {n}", when=START)
        seen, url = [], f"/p/{pledge.slug}/actions"
        while url:
            page = client.get(url).text
            seen += re.findall(r"Action number (\d)", page)
            match = re.search(r'<a rel="next" href="([^"]+)"', page)
            url = match.group(1).replace("&amp;", "&") if match else None
        assert seen == ["4", "3", "2", "1", "0"]
        assert "Anonymous ally" in client.get(f"/p/{pledge.slug}/actions").text
