"""The rules of the action log: who may log what, and what a valid action is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import func, select

from pledges.domain import cycles, transitions
from pledges.domain.rules import RuleError
from pledges.extensions import db
from pledges.forms import bidi_control_message, has_bidi_controls, has_control_characters
from pledges.infrastructure.database import utcnow
from pledges.models import (
    URL_MAX,
    Action,
    ActionKind,
    ActionVisibility,
    Signature,
    SignatureStatus,
    SignedCommitment,
)
from pledges.presentation.display import format_date

# The world's earliest time zone is UTC+14: an action done "today" there is still valid.
EARLIEST_UTC_OFFSET = timedelta(hours=14)


class ActionError(RuleError):
    """An action-log rule was broken."""


@dataclass(frozen=True)
class ActionInput:
    commitment_id: int
    kind: str
    done_on: date
    description: str
    people_reached: int | None
    evidence_url: str | None
    visibility: str


def latest_allowed_date() -> date:
    return (utcnow() + EARLIEST_UTC_OFFSET).date()


def check_done_on(done_on: date) -> None:
    if done_on > latest_allowed_date():
        raise ActionError(gettext("The date cannot be in the future."), field="done_on")


def clean_evidence_url(raw: str | None) -> str | None:
    """An http(s) link, or nothing. Anything else (file:, javascript:, data:…) is refused."""
    url = (raw or "").strip()
    if not url:
        return None
    if len(url) > URL_MAX:
        raise ActionError(
            gettext("The link is longer than %(max)s characters.", max=URL_MAX), "evidence_url"
        )
    try:
        parts = urlsplit(url)
    except ValueError:  # brackets that hold no IPv6 address: "http://[::1", "http://a]b"
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ActionError(
            gettext("The link must be a web address starting with http:// or https://."),
            "evidence_url",
        )
    if any(ch.isspace() for ch in url):
        raise ActionError(gettext("The link cannot contain spaces."), "evidence_url")
    if has_control_characters(url):  # a NUL was once stored and published
        raise ActionError(
            gettext("Remove the invisible control characters from this text."), "evidence_url"
        )
    if has_bidi_controls(url):
        raise ActionError(bidi_control_message(), "evidence_url")
    return url


def check_may_log(signature: Signature) -> None:
    if signature.status != SignatureStatus.CONFIRMED:
        raise ActionError(gettext("Confirm your signature first: then you can log what you do."))


def check_commitment(signature: Signature, commitment_id: int, kept: int | None = None) -> None:
    """One the signer holds now; or ``kept``, the commitment an edited action already has,
    which it keeps even once the signer no longer holds it."""
    if commitment_id != kept and commitment_id not in signature.active_commitment_ids():
        raise ActionError(gettext("Choose one of the commitments you made."), field="commitment_id")


def check_room_this_cycle(signature: Signature) -> None:
    """At most ACTIONS_PER_CYCLE actions logged per signer per check-in cycle: each is
    stored, tallied and printed, so one link cannot make the pledge's cost unbounded."""
    most = current_app.config["ACTIONS_PER_CYCLE"]
    cycle = cycles.cycle_at(signature)
    logged = db.session.scalar(
        select(func.count())
        .select_from(Action)
        .where(Action.signature_id == signature.id, Action.created_at >= cycle.start)
    )
    if logged >= most:
        raise ActionError(
            ngettext(
                "You have logged %(num)d action this cycle, the most one cycle holds. "
                "You can log more from %(date)s.",
                "You have logged %(num)d actions this cycle, the most one cycle holds. "
                "You can log more from %(date)s.",
                most,
                date=format_date(cycle.end),
            )
        )


def log_action(signature: Signature, data: ActionInput) -> Action:
    check_may_log(signature)
    check_room_this_cycle(signature)
    action = Action(pledge_id=signature.pledge_id, created_at=utcnow())
    _apply(signature, action, data)
    transitions.log_action(signature, action)
    return action


def log_attendance(signature: Signature, done_on: date, description: str) -> Action:
    """An organizer marked the signer present at a dialogue session: a private action of
    theirs against the first commitment they hold, counted like any other. The per-cycle
    room does not apply: organizers, not a link anyone may hold, decide how many sessions
    there are."""
    check_may_log(signature)
    held = signature.chosen_commitments
    if not held:
        raise ActionError(gettext("Confirm your signature first: then you can log what you do."))
    action = Action(
        pledge_id=signature.pledge_id,
        created_at=utcnow(),
        commitment_id=held[0].id,
        kind=ActionKind.TRAINING,
        done_on=done_on,
        description=description,
        people_reached=None,
        evidence_url=None,
        visibility=ActionVisibility.PRIVATE,
    )
    transitions.log_action(signature, action)
    return action


def update_action(signature: Signature, action: Action, data: ActionInput) -> None:
    check_may_log(signature)
    people_before = action.people_reached or 0
    _apply(signature, action, data)
    transitions.action_edited(signature, action, people_before)


def delete_action(signature: Signature, action: Action) -> None:
    transitions.delete_action(signature, action)


def forget_actions(signature: Signature) -> None:
    """Delete all of a withdrawn signer's actions: ``transitions.withdraw`` has already
    taken them out of the figures."""
    signature.actions.clear()


def commitments_for(signature: Signature, action: Action | None = None) -> list[SignedCommitment]:
    """What the action form offers: the commitments the signer holds now and, for an edited
    action, its own, in the words the signer agreed to, even if they have since dropped it.
    Without it, saving a typo fix would move the action to another commitment."""
    offered = signature.chosen_commitments
    if action is None or any(c.id == action.commitment_id for c in offered):
        return offered
    [own] = [row for row in signature.chosen if row.commitment_id == action.commitment_id]
    kept = SignedCommitment(id=own.commitment_id, text=own.text, required=own.commitment.required)
    position = {c.id: c.position for c in signature.pledge.commitments}
    return sorted([*offered, kept], key=lambda c: position[c.id])


def action_of(signature: Signature, action_id: int) -> Action | None:
    """The signer's own action with this id; someone else's is as good as missing."""
    return db.session.scalar(
        select(Action).where(Action.id == action_id, Action.signature_id == signature.id)
    )


def _apply(signature: Signature, action: Action, data: ActionInput) -> None:
    check_commitment(signature, data.commitment_id, kept=action.commitment_id)
    check_done_on(data.done_on)
    action.commitment_id = data.commitment_id
    action.kind = data.kind
    action.done_on = data.done_on
    action.description = data.description
    action.people_reached = data.people_reached
    action.evidence_url = clean_evidence_url(data.evidence_url)
    action.visibility = data.visibility
