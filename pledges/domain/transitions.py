"""The one door for changes the public sees.

Every change of a signature's status or public visibility is made here: confirm, approve,
hide (one or many), unhide, withdraw, a change of visibility. So is every change to an
action that moves the follow-through figures (logged, edited, deleted, reviewed), and any
other edit the wall shows (``wall_content_changed``). A feature service decides whether a
change is allowed and records its audit entry or mail; it then calls the function here,
which makes the change and, in the same transaction, keeps in step:

- the wall's signer counters and the follow-through counters (``pledges.domain.tallies``);
- check-in cadence and the active-signer buckets (``pledges.domain.cycles``);
- the step-up goals a rising count reaches, with their drafts (``pledges.domain.milestones``);
- the pledge's wall version, which the cached wall pages are keyed on (``pledges.wall.cache``).

No other module writes the counters or bumps the wall's version. A new kind of change
(a publication delay, a signer hiding themselves, a public id per visibility) is a new
function here, so what follows from it cannot be forgotten at one of its call sites.

Status changes are conditional UPDATEs on the status expected, so two requests acting on
one signature at once change (and count) it once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from pledges.domain import cycles, erasure, milestones, tallies
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import (
    Action,
    ActionVisibility,
    Partner,
    Pledge,
    PledgeStatus,
    Publication,
    ReviewState,
    Signature,
    SignatureStatus,
    Visibility,
    new_public_id,
)

# What a moderator may hide: shown on the wall, or waiting for approval.
HIDEABLE = (SignatureStatus.CONFIRMED, SignatureStatus.HELD)
# Rows changed per statement in a bulk change: well under SQLite's bound-parameter limit.
BATCH = 500

_table = Signature.__table__


def chunks(ids: Sequence[int], size: int = BATCH) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# A signature's status.


def confirm(signature: Signature) -> bool:
    """Pending -> confirmed, or held on a pre-moderated pledge. True if this call moved it.

    Cycles (and the first check-in) start at confirmation.
    """
    now = utcnow()
    new_status = (
        SignatureStatus.HELD if signature.pledge.premoderation else SignatureStatus.CONFIRMED
    )
    result = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.status == SignatureStatus.PENDING)
        .values(
            status=new_status,
            confirmed_at=now,
            next_checkin_at=cycles.first_checkin_at(signature, now),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _status_changed(signature, SignatureStatus.PENDING, new_status)
    db.session.refresh(signature)
    _republish(signature)
    return True


def approve(signature: Signature, reviewed_by_id: int | None, now: datetime) -> bool:
    """Held -> confirmed: shown and counted from ``now``, its cycles starting ``now``.

    False if it was not held (already approved, perhaps by another moderator).
    """
    return _confirm_reviewed(signature, SignatureStatus.HELD, reviewed_by_id, now)


def confirm_by_organizer(signature: Signature, reviewed_by_id: int | None) -> bool:
    """Pending -> confirmed by an organizer's act, without an email confirmation: a
    signature written on a paper sheet and entered by them (pledges.paper). Their act is
    also the review, so it is confirmed (not held) on a pre-moderated pledge too. True if
    this call moved it."""
    return _confirm_reviewed(signature, SignatureStatus.PENDING, reviewed_by_id, utcnow())


def _confirm_reviewed(
    signature: Signature, old: SignatureStatus, reviewed_by_id: int | None, now: datetime
) -> bool:
    """``old`` -> confirmed and reviewed by ``reviewed_by_id`` at ``now``, if it is still
    ``old`` (a conditional UPDATE: of two simultaneous calls one moves it)."""
    moved = db.session.execute(
        update(_table)
        .where(_table.c.id == signature.id, _table.c.status == old)
        .values(
            status=SignatureStatus.CONFIRMED.value,
            confirmed_at=now,
            next_checkin_at=cycles.first_checkin_at(signature, now),
            reviewed_at=now,
            reviewed_by_id=reviewed_by_id,
        )
    )
    if moved.rowcount != 1:
        return False
    db.session.refresh(signature)
    _republish(signature)
    _status_changed(signature, old, SignatureStatus.CONFIRMED)
    return True


def hide(pledge_id: int, criteria: Sequence, *, reason: str, reviewed_by_id: int | None) -> Counter:
    """Hide every confirmed or held signature of the pledge meeting ``criteria``.

    A confirmed one leaves every figure (its signer, its actions, its activity); its
    actions are kept. Returns how many moved, by the status they had. Only rows this call
    moved are uncounted: RETURNING names them, so a concurrent hide cannot count one twice.
    """
    ids = db.session.scalars(
        select(Signature.id)
        .where(Signature.pledge_id == pledge_id, Signature.status.in_(HIDEABLE), *criteria)
        .order_by(Signature.id)
    ).all()
    moved: Counter = Counter()
    values = {
        "status": SignatureStatus.HIDDEN.value,
        "public_since": None,
        "hidden_reason": reason,
        "reviewed_at": utcnow(),
        "reviewed_by_id": reviewed_by_id,
    }
    for chunk in chunks(ids):
        counted = db.session.execute(
            update(_table)
            .where(_table.c.id.in_(chunk), _table.c.status == SignatureStatus.CONFIRMED)
            .values(values)
            .returning(_table.c.id, _table.c.role, _table.c.country, _table.c.active_until)
        ).all()
        if counted:
            _uncount_signers(pledge_id, counted)
        held = db.session.execute(
            update(_table)
            .where(_table.c.id.in_(chunk), _table.c.status == SignatureStatus.HELD)
            .values(values)
            .returning(_table.c.id)
        ).all()
        moved[SignatureStatus.CONFIRMED] += len(counted)
        moved[SignatureStatus.HELD] += len(held)
        _new_public_ids([r.id for r in counted] + [r.id for r in held])
    if moved:
        _wall_changed(pledge_id)
    return +moved


def _uncount_signers(pledge_id: int, rows: Iterable) -> None:
    """Take hidden signers (id, role, country, active_until) out of every figure."""
    rows = list(rows)
    for (role, country), count in Counter((r.role, r.country) for r in rows).items():
        tallies.adjust_signers(pledge_id, role, country, -count)
    cycles.forget_activity_of(pledge_id, (r.active_until for r in rows))
    ids = [r.id for r in rows]
    db.session.execute(update(_table).where(_table.c.id.in_(ids)).values(active_until=None))
    actions, confirmed, people = tallies.follow_through_of(ids)
    tallies.adjust_follow_through(
        pledge_id, actions=-actions, confirmed_actions=-confirmed, people_reached=-people
    )


def unhide(signature: Signature, reviewed_by_id: int | None) -> bool:
    """Hidden -> confirmed, counting it and its actions back. False if it was not hidden."""
    result = db.session.execute(
        update(_table)
        .where(_table.c.id == signature.id, _table.c.status == SignatureStatus.HIDDEN)
        .values(
            status=SignatureStatus.CONFIRMED.value,
            hidden_reason="",
            reviewed_at=utcnow(),
            reviewed_by_id=reviewed_by_id,
        )
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(signature)
    # Back on the wall from today at the earliest, under a new public id: not in the place
    # it had before, which a snapshot may tie to how it appeared then.
    _republish(signature, not_before=_today())
    signature.public_id = new_public_id()
    tallies.record_status_change(signature, SignatureStatus.HIDDEN, SignatureStatus.CONFIRMED)
    milestones.count_rose(signature.pledge_id)
    actions, confirmed, people = tallies.follow_through_of([signature.id])
    tallies.adjust_follow_through(
        signature.pledge_id, actions=actions, confirmed_actions=confirmed, people_reached=people
    )
    cycles.recompute_activity(signature)
    _wall_changed(signature.pledge_id)
    return True


def withdraw(signature: Signature) -> None:
    """Any status -> withdrawn: out of every figure, with its actions and activity, and no
    more check-ins; and everything naming the signer erased (``pledges.domain.erasure``:
    their details, IP hash, reports' and audit entries' text about them, mail about them
    or their partners, dossiers listing them), SQLite's WAL checkpointed after the commit.
    The caller (pledges.me.service) then deletes their actions and tells their partners."""
    while True:
        old_status = signature.status
        if old_status == SignatureStatus.WITHDRAWN:
            return
        if _claim_status(signature.id, old_status, SignatureStatus.WITHDRAWN):
            break
        # Another transaction changed it first (a moderator's hide, say), and counted that
        # change: take the signer out of the figures from where it left them, not twice.
        db.session.refresh(signature)
    if tallies.counts_on_wall(old_status):
        for action in signature.actions:
            _uncount_action(action)
    cycles.forget_activity(signature)
    signature.status = SignatureStatus.WITHDRAWN
    signature.public_since = None
    signature.withdrawn_at = utcnow()
    signature.next_checkin_at = None
    _status_changed(signature, old_status, SignatureStatus.WITHDRAWN)
    erasure.erase_signer(signature)


def _claim_status(signature_id: int, old_status: str, new_status: str) -> bool:
    """Move the row from ``old_status`` (as this session read it) to ``new_status``, unless
    another transaction changed it since: False then, and nothing is written."""
    claimed = db.session.execute(
        update(_table)
        .where(_table.c.id == signature_id, _table.c.status == old_status)
        .values(status=new_status)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def _status_changed(signature: Signature, old_status: str, new_status: str) -> None:
    tallies.record_status_change(signature, old_status, new_status)
    if tallies.counts_on_wall(new_status) and not tallies.counts_on_wall(old_status):
        milestones.count_rose(signature.pledge_id)
    _wall_changed(signature.pledge_id)


# How a signature appears in public, and from when.
#
# ``public_since`` is the UTC day (00:00) from which the public pages show the entry, NULL
# for never: the day of confirmation for NOW, 7 or 30 days later for WEEK and MONTH, the
# day the pledge closed for ON_CLOSE (NULL while it is open), NULL for NEVER, for a
# self-hidden signer and for any status but confirmed. Counts take no notice of it.
#
# Every change to how the entry appears gives it a new random ``public_id``, so the report
# link, feed id and API id of the old appearance answer 404 and cannot be tied to the new
# one. A change towards a less identifying appearance also moves ``public_since`` to the
# day of the change, so the entry does not keep its old place on the wall either, and sets
# ``appearance_reset_at``: the note and the actions the public saw before are not shown
# beside the new appearance (``signers.action_shown_publicly``, ``public_signer``).

DELAYS = {Publication.NOW: 0, Publication.WEEK: 7, Publication.MONTH: 30}
# How much each visibility tells about the signer, for "less identifying".
_IDENTIFYING = {
    Visibility.FULL: 3,
    Visibility.INITIAL: 2,
    Visibility.ORGANIZATION: 1,
    Visibility.ANONYMOUS: 0,
}


def day_of(moment: datetime) -> datetime:
    """The UTC day of ``moment``, as its 00:00 UTC."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _today() -> datetime:
    return day_of(utcnow())


def public_since_for(signature: Signature, not_before: datetime | None = None) -> datetime | None:
    """The day the rules above give ``signature``, no earlier than ``not_before``."""
    if (
        signature.status != SignatureStatus.CONFIRMED
        or signature.self_hidden
        or signature.confirmed_at is None
    ):
        return None
    publication = Publication(signature.publication)
    if publication in DELAYS:
        since = day_of(signature.confirmed_at) + timedelta(days=DELAYS[publication])
    elif publication == Publication.ON_CLOSE:
        pledge = signature.pledge
        if pledge.status != PledgeStatus.CLOSED or pledge.closed_at is None:
            return None
        since = day_of(pledge.closed_at)
    else:
        return None
    if not_before is not None:
        since = max(since, not_before)
    return since


def _republish(signature: Signature, not_before: datetime | None = None) -> None:
    signature.public_since = public_since_for(signature, not_before)


def _new_public_ids(ids: Sequence[int]) -> None:
    for signature_id in ids:
        db.session.execute(
            update(_table).where(_table.c.id == signature_id).values(public_id=new_public_id())
        )


def _appearance_changed(signature: Signature, less_identifying: bool) -> None:
    signature.public_id = new_public_id()
    if less_identifying:
        # Nothing the public saw beside the old appearance (note, actions logged so far)
        # is shown beside the new one: it would tie the two together.
        signature.appearance_reset_at = utcnow()
        if signature.public_since is not None:
            signature.public_since = max(signature.public_since, _today())
    _wall_changed(signature.pledge_id)


def change_visibility(
    signature: Signature,
    visibility: str,
    organization_name: str,
    organization_id: int | None,
    show_role: bool | None = None,
) -> None:
    """How the wall shows the signer: by name, by organization, or anonymously, with or
    without their ally role (``show_role`` None: as it was)."""
    visibility = Visibility(visibility)
    show_role = signature.show_role if show_role is None else show_role
    before = (Visibility(signature.visibility), signature.organization_name, signature.show_role)
    if before == (visibility, organization_name, show_role):
        signature.organization_id = organization_id
        return
    less_identifying = (
        _IDENTIFYING[visibility] < _IDENTIFYING[before[0]]
        or (before[2] and not show_role)
        or (visibility == Visibility.ORGANIZATION and organization_name != before[1])
    )
    signature.visibility = visibility
    signature.organization_name = organization_name
    signature.organization_id = organization_id
    signature.show_role = show_role
    _appearance_changed(signature, less_identifying)


def set_publication(signature: Signature, publication: str) -> None:
    """When the public pages may show the signer. Applies from today at the earliest: an
    entry never jumps back to a place on the wall it had (or would have had) before."""
    publication = Publication(publication)
    if publication == signature.publication:
        return
    signature.publication = publication
    _republish(signature, not_before=_today())
    _appearance_changed(signature, less_identifying=False)


def self_hide(signature: Signature) -> bool:
    """The signer takes themselves off every public surface at once; they stay counted.
    False if they were hidden already."""
    if signature.self_hidden:
        return False
    signature.self_hidden = True
    signature.public_since = None
    _appearance_changed(signature, less_identifying=True)
    return True


def self_unhide(signature: Signature) -> bool:
    """The signer shows themselves again, from today at the earliest. False if not hidden."""
    if not signature.self_hidden:
        return False
    signature.self_hidden = False
    _republish(signature, not_before=_today())
    _appearance_changed(signature, less_identifying=False)
    return True


def pledge_closed(pledge: Pledge) -> None:
    """The pledge closed (``pledge.closed_at`` set): its ON_CLOSE signers are shown from
    that day. Called by the organize service in the transaction of the change."""
    _republish_on_close(pledge)


def pledge_reopened(pledge: Pledge) -> None:
    """The pledge reopened: its ON_CLOSE signers wait for the next close again."""
    _republish_on_close(pledge)


def _republish_on_close(pledge: Pledge) -> None:
    signatures = db.session.scalars(
        select(Signature).where(
            Signature.pledge_id == pledge.id,
            Signature.publication == Publication.ON_CLOSE,
            Signature.status == SignatureStatus.CONFIRMED,
        )
    ).all()
    for signature in signatures:
        signature.public_since = public_since_for(signature)
        # A new public id each time they come on or go off the wall.
        signature.public_id = new_public_id()
    _wall_changed(pledge.id)


# Actions: the follow-through figures and the signer's activity this cycle.


def log_action(signature: Signature, action: Action) -> None:
    """Add a new action to a (confirmed) signer's log: counted, and the signer active."""
    signature.actions.append(action)
    tallies.adjust_follow_through(
        signature.pledge_id, actions=1, people_reached=action.people_reached or 0
    )
    cycles.record_activity(signature, action.created_at)
    _wall_changed(signature.pledge_id)


def action_edited(signature: Signature, action: Action, people_before: int) -> None:
    """An action's details were changed: ``people_before`` is what it reached before."""
    tallies.adjust_follow_through(
        signature.pledge_id, people_reached=(action.people_reached or 0) - people_before
    )
    _wall_changed(signature.pledge_id)


def delete_action(signature: Signature, action: Action) -> None:
    """Delete one action, taking it out of the figures and the signer's activity."""
    # A hidden signature's actions are already out of the figures (see ``hide``).
    counted = tallies.counts_on_wall(signature.status)
    if counted:
        _uncount_action(action)
    signature.actions.remove(action)
    db.session.flush()
    if counted:
        cycles.recompute_activity(signature)
    _wall_changed(signature.pledge_id)


def _uncount_action(action: Action) -> None:
    tallies.adjust_follow_through(
        action.pledge_id,
        actions=-1,
        confirmed_actions=-int(action.review_state == ReviewState.CONFIRMED),
        people_reached=-(action.people_reached or 0),
    )


def review_action(action: Action, partner: Partner, state: ReviewState) -> None:
    """A partner confirms or queries an action: the confirmed-actions figure follows."""
    was_confirmed = action.review_state == ReviewState.CONFIRMED
    action.review_state = state
    action.reviewed_by = partner
    action.reviewed_at = utcnow()
    now_confirmed = state == ReviewState.CONFIRMED
    # A hidden signature's actions are out of the figures until it is shown again.
    if was_confirmed != now_confirmed and tallies.counts_on_wall(action.signature.status):
        tallies.adjust_follow_through(
            action.pledge_id, confirmed_actions=1 if now_confirmed else -1
        )
        if action.visibility == ActionVisibility.PUBLIC:
            _wall_changed(action.pledge_id)


# Anything else the wall shows.


def wall_content_changed(pledge_id: int) -> None:
    """Something the pledge's public pages show changed that is not a signature's status
    or visibility: its words, settings, commitments, team, co-signers, an organization's
    name, a partner's name on a confirmed action. Call in the transaction of the change."""
    _wall_changed(pledge_id)


def signatures_loaded(pledge_id: int) -> None:
    """Signatures were written in bulk, beside this door (the demo data): count them all."""
    tallies.recount(pledge_id)
    milestones.count_rose(pledge_id)


#: Set on the session by a change to a wall: when it commits, this process forgets the ETags
#: it remembered as current (pledges/wall/cache.py, the revalidation memo).
WALL_CHANGED = "pledges.wall_changed"


def _wall_changed(pledge_id: int) -> None:
    """Bump the pledge's wall version in this transaction: every cached wall, actions page and
    feed of the pledge is keyed on it, so none is served again after the change commits."""
    db.session.info[WALL_CHANGED] = True
    db.session.execute(
        update(Pledge)
        .where(Pledge.id == pledge_id)
        .values(wall_version=Pledge.wall_version + 1)
        .execution_options(synchronize_session=False)
    )
