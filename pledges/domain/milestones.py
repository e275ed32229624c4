"""Step-up goals: when a pledge's count reaches its goal, the next of the organizer's goals
takes over, and an update "We reached N signers" is drafted for the organizers to publish.

``count_rose`` is called by the one door (``pledges.domain.transitions``) in the transaction
that counted a signer. It claims each goal reached with a conditional UPDATE, and the draft
carries the goal under UNIQUE(pledge_id, milestone): however many signings cross a goal at
once, on however many hosts, one draft is written.
"""

from __future__ import annotations

from flask_babel import format_decimal, gettext, ngettext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from pledges.domain import tallies
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.i18n import signer_language
from pledges.models import (
    Pledge,
    PledgeMilestone,
    PledgeTally,
    PledgeUpdate,
    PledgeUpdateTranslation,
    UpdateStatus,
)


def upcoming_goals(pledge_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(PledgeMilestone.goal)
            .where(PledgeMilestone.pledge_id == pledge_id, PledgeMilestone.reached_at.is_(None))
            .order_by(PledgeMilestone.goal)
        )
    )


def reached_goals(pledge_id: int) -> list[PledgeMilestone]:
    return list(
        db.session.scalars(
            select(PledgeMilestone)
            .where(PledgeMilestone.pledge_id == pledge_id, PledgeMilestone.reached_at.is_not(None))
            .order_by(PledgeMilestone.goal)
        )
    )


def set_goals(pledge: Pledge, goals: list[int]) -> None:
    """Replace the goals not reached yet with ``goals`` (each above the current count,
    checked by the caller); the lowest becomes the pledge's goal."""
    wanted = sorted(set(goals))
    for milestone in db.session.scalars(
        select(PledgeMilestone).where(
            PledgeMilestone.pledge_id == pledge.id, PledgeMilestone.reached_at.is_(None)
        )
    ):
        if milestone.goal not in wanted:
            db.session.delete(milestone)
    existing = {
        m.goal
        for m in db.session.scalars(
            select(PledgeMilestone).where(PledgeMilestone.pledge_id == pledge.id)
        )
    }
    for goal in wanted:
        if goal not in existing:
            db.session.add(PledgeMilestone(pledge_id=pledge.id, goal=goal))
    if wanted:
        pledge.goal = wanted[0]


def count_rose(pledge_id: int) -> None:
    """A signer was counted on ``pledge_id``: mark the goals now reached, draft an update
    for each, and hand the goal to the next one."""
    total = (
        select(PledgeTally.count)
        .where(
            PledgeTally.pledge_id == pledge_id,
            PledgeTally.dimension == tallies.TOTAL,
            PledgeTally.key == "",
        )
        .scalar_subquery()
    )
    reached = db.session.scalars(
        select(PledgeMilestone.goal)
        .where(
            PledgeMilestone.pledge_id == pledge_id,
            PledgeMilestone.reached_at.is_(None),
            PledgeMilestone.goal <= total,
        )
        .order_by(PledgeMilestone.goal)
    ).all()
    if not reached:
        return
    now = utcnow()
    for goal in reached:
        claimed = db.session.execute(
            update(PledgeMilestone)
            .where(
                PledgeMilestone.pledge_id == pledge_id,
                PledgeMilestone.goal == goal,
                PledgeMilestone.reached_at.is_(None),
            )
            .values(reached_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            _draft(pledge_id, goal)
    following = upcoming_goals(pledge_id)
    if following:
        db.session.execute(
            update(Pledge)
            .where(Pledge.id == pledge_id)
            .values(goal=following[0])
            .execution_options(synchronize_session=False)
        )


def _draft(pledge_id: int, goal: int) -> None:
    """The draft "We reached N signers", in the pledge's language and each of its
    translations' (interface words where the interface speaks it, else English)."""
    pledge = db.session.get(Pledge, pledge_id)
    following = upcoming_goals(pledge_id)
    texts = {
        pledge.language: _words(pledge.language, pledge.title, goal, following),
        **{
            t.locale: _words(t.locale, t.title, goal, following)
            for t in pledge.translations
            if t.locale != pledge.language
        },
    }
    title, body = texts.pop(pledge.language)
    draft = PledgeUpdate(
        pledge_id=pledge_id,
        title=title,
        body=body,
        status=UpdateStatus.DRAFT,
        milestone=goal,
        translations=[
            PledgeUpdateTranslation(locale=locale, title=t, body=b)
            for locale, (t, b) in texts.items()
        ],
    )
    try:
        with db.session.begin_nested():
            db.session.add(draft)
    except IntegrityError:
        # Another transaction drafted this milestone first (UNIQUE(pledge_id, milestone)).
        pass


def _words(locale: str, pledge_title: str, goal: int, following: list[int]) -> tuple[str, str]:
    with signer_language(locale):
        # ngettext formats ``num`` for the language (1,000 / 1 000).
        title = ngettext("We reached %(num)s signer", "We reached %(num)s signers", goal)
        body = ngettext(
            "“%(title)s” now has %(num)s signer. Thank you.",
            "“%(title)s” now has %(num)s signers. Thank you to each of you.",
            goal,
            title=pledge_title,
        )
        if following:
            body += "\n\n" + gettext(
                "Our next goal is %(goal)s. Please pass the pledge on to someone you trust.",
                goal=format_decimal(following[0]),
            )
    return title, body
