"""The one door for changes the wall counts (pledges/domain/transitions.py).

After every transition the stored counters equal a recount from the signatures, and the
pledge's wall version has moved, so no cached page outlives the change. Real database,
real services: a transition that forgot a counter or the cache fails here.
"""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import pledges
from pledges.actions import service as actions
from pledges.domain import transitions
from pledges.domain.cycles import cadence
from pledges.domain.signers import normalize_email
from pledges.domain.tallies import recount, tally_for
from pledges.extensions import db
from pledges.me import service as me_service
from pledges.models import (
    Partner,
    PartnerStatus,
    Pledge,
    ReviewState,
    Signature,
    SignatureStatus,
)
from pledges.signing import service as signing
from tests.factories import confirmed_signature, logged_action, make_pledge, signature_input
from tests.helpers import counters


def wall_version(pledge_id: int) -> int:
    return db.session.scalar(select(Pledge.wall_version).where(Pledge.id == pledge_id))


class Door:
    """Checks one transition: counters agree with a recount, and the wall version moved."""

    def __init__(self, pledge_id: int) -> None:
        self.pledge_id = pledge_id
        self.version = wall_version(pledge_id)

    def passed(self) -> None:
        db.session.commit()
        kept = counters(self.pledge_id)
        recount(self.pledge_id)
        assert counters(self.pledge_id) == kept
        db.session.rollback()  # the recount only checked; the counters stay as kept
        version = wall_version(self.pledge_id)
        assert version > self.version, "the wall cache would still serve the old page"
        self.version = version


def log(signature: Signature, people: int | None = None) -> actions.Action:
    return logged_action(signature, people)


def partner_of(signature: Signature) -> Partner:
    partner = Partner(
        signature=signature,
        name="Grace",
        email="grace@example.org",
        email_normalized="grace@example.org",
        token_hash=f"{signature.id:064d}",
        status=PartnerStatus.ACTIVE,
    )
    db.session.add(partner)
    return partner


def busy_signer(pledge: Pledge, **fields) -> Signature:
    """A confirmed signer with two actions, one confirmed by a partner: in every figure."""
    signature = confirmed_signature(pledge, **fields)
    log(signature, people=5)
    confirmed = log(signature, people=7)
    transitions.review_action(confirmed, partner_of(signature), ReviewState.CONFIRMED)
    db.session.commit()
    return signature


def pending_signature(pledge: Pledge) -> Signature:
    data = signature_input(pledge)
    signing.sign(pledge, data)
    db.session.commit()
    return db.session.scalar(
        select(Signature).where(Signature.email_normalized == normalize_email(data.email))
    )


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def test_confirm_counts_the_signer_and_starts_their_cycles(ctx):
    pledge = make_pledge()
    signature = pending_signature(pledge)
    door = Door(pledge.id)

    assert transitions.confirm(signature)
    door.passed()
    assert signature.status == SignatureStatus.CONFIRMED
    assert signature.next_checkin_at == signature.confirmed_at + cadence(signature)
    assert tally_for(pledge.id).total == 1

    assert not transitions.confirm(signature), "a second confirmation changes nothing"
    db.session.commit()
    assert wall_version(pledge.id) == door.version
    assert tally_for(pledge.id).total == 1


def test_held_then_approved_counts_from_approval(ctx):
    pledge = make_pledge()
    pledge.premoderation = True
    db.session.commit()
    signature = pending_signature(pledge)
    door = Door(pledge.id)

    assert transitions.confirm(signature)
    door.passed()
    assert signature.status == SignatureStatus.HELD
    assert tally_for(pledge.id).total == 0

    later = signature.confirmed_at + timedelta(days=3)
    assert transitions.approve(signature, reviewed_by_id=None, now=later)
    door.passed()
    assert signature.status == SignatureStatus.CONFIRMED
    assert signature.next_checkin_at == later + cadence(signature)
    assert tally_for(pledge.id).total == 1
    assert not transitions.approve(signature, reviewed_by_id=None, now=later)


def test_hide_and_unhide_take_everything_out_and_put_it_back(ctx):
    pledge = make_pledge()
    shown = busy_signer(pledge, country="KE")
    busy_signer(pledge, country="BI")
    before = tally_for(pledge.id)
    assert (before.total, before.actions, before.confirmed_actions) == (2, 4, 2)
    assert (before.people_reached, before.active_signers) == (24, 2)
    door = Door(pledge.id)

    moved = transitions.hide(
        pledge.id, [Signature.id == shown.id], reason="spam", reviewed_by_id=None
    )
    assert moved == {SignatureStatus.CONFIRMED: 1}
    door.passed()
    hidden = tally_for(pledge.id)
    assert (hidden.total, hidden.actions, hidden.confirmed_actions) == (1, 2, 1)
    assert (hidden.people_reached, hidden.active_signers) == (12, 1)
    assert hidden.by_country == {"BI": 1}

    db.session.refresh(shown)
    assert transitions.unhide(shown, reviewed_by_id=None)
    door.passed()
    assert tally_for(pledge.id) == before
    assert not transitions.unhide(shown, reviewed_by_id=None)


def test_bulk_hide_counts_each_signer_once(ctx):
    pledge = make_pledge()
    for _ in range(3):
        busy_signer(pledge)
    door = Door(pledge.id)

    moved = transitions.hide(pledge.id, [], reason="flood", reviewed_by_id=None)
    assert moved == {SignatureStatus.CONFIRMED: 3}
    door.passed()
    assert tally_for(pledge.id).total == 0
    assert tally_for(pledge.id).actions == 0

    assert not transitions.hide(pledge.id, [], reason="again", reviewed_by_id=None)
    db.session.commit()
    assert wall_version(pledge.id) == door.version, "nothing moved, nothing to refresh"


@pytest.mark.parametrize("hidden_first", [False, True])
def test_withdrawal_leaves_every_figure(ctx, hidden_first):
    pledge = make_pledge()
    leaving = busy_signer(pledge)
    busy_signer(pledge)
    if hidden_first:
        transitions.hide(pledge.id, [Signature.id == leaving.id], reason="x", reviewed_by_id=None)
        db.session.commit()
        db.session.refresh(leaving)
    door = Door(pledge.id)

    me_service.withdraw(leaving)
    door.passed()
    tally = tally_for(pledge.id)
    assert (tally.total, tally.actions, tally.people_reached, tally.active_signers) == (
        1,
        2,
        12,
        1,
    )
    assert leaving.status == SignatureStatus.WITHDRAWN
    assert leaving.next_checkin_at is None


def test_visibility_change_refreshes_the_wall(ctx):
    pledge = make_pledge()
    signature = confirmed_signature(pledge)
    door = Door(pledge.id)

    me_service.change_visibility(signature, "anonymous", "")
    door.passed()
    assert signature.visibility == "anonymous"


def test_each_action_change_keeps_the_follow_through_figures(ctx):
    pledge = make_pledge()
    signature = confirmed_signature(pledge)
    door = Door(pledge.id)

    action = log(signature, people=4)
    door.passed()
    assert tally_for(pledge.id).active_signers == 1

    people_before = action.people_reached
    action.people_reached = 9
    transitions.action_edited(signature, action, people_before)
    door.passed()
    assert tally_for(pledge.id).people_reached == 9

    transitions.review_action(action, partner_of(signature), ReviewState.CONFIRMED)
    door.passed()
    assert tally_for(pledge.id).confirmed_actions == 1

    actions.delete_action(signature, action)
    door.passed()
    tally = tally_for(pledge.id)
    assert (tally.actions, tally.confirmed_actions, tally.people_reached) == (0, 0, 0)
    assert tally.active_signers == 0


def test_other_wall_content_changes_refresh_the_wall(ctx):
    pledge = make_pledge()
    door = Door(pledge.id)
    transitions.wall_content_changed(pledge.id)
    door.passed()


# The counters and the wall version are written only through the door.
WRITERS = {
    "_wall_changed",
    "adjust_signers",
    "adjust_follow_through",
    "record_status_change",
    "record_activity",
    "recompute_activity",
    "forget_activity",
    "forget_activity_of",
}
# The door itself, and the modules that define the writers.
DOOR = {"domain/transitions.py", "domain/tallies.py", "domain/cycles.py"}


def test_no_module_but_the_door_writes_counters_or_the_cache():
    package = Path(pledges.__file__).parent
    callers = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative in DOOR:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "attr", None) or getattr(node, "id", None)
            if isinstance(node, ast.alias):
                name = node.name
            if name in WRITERS:
                callers.append(f"{relative}:{node.lineno}: {name}")
    assert callers == []
