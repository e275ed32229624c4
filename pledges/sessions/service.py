"""The rules of dialogue sessions: scheduling in a time zone, series across check-in cycles,
RSVPs, attendance (an action for each attendee, through the actions' one door) and the
public counts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date as babel_format_date
from babel.dates import format_time
from flask_babel import get_locale, gettext
from sqlalchemy import func, select

from pledges.actions import service as actions
from pledges.actions.service import ActionError
from pledges.domain.cycles import pledge_cadence
from pledges.domain.rules import RuleError
from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.i18n import signer_language
from pledges.models import (
    SESSION_SERIES_MAX,
    DialogueSession,
    FacilitatorRole,
    Pledge,
    RsvpAnswer,
    SessionAttendance,
    SessionFacilitator,
    SessionRsvp,
    Signature,
    SignatureStatus,
    User,
)
from pledges.presentation.display import PublicCount, format_date, min_public_count

# How far ahead a session may be scheduled.
FURTHEST_AHEAD = timedelta(days=5 * 366)
# What the signer's private page and the public list show of what is coming.
UPCOMING_SHOWN = 10


class SessionError(RuleError):
    """A rule on a dialogue session was broken."""


@dataclass(frozen=True)
class FacilitatorInput:
    name: str
    role: str


@dataclass(frozen=True)
class SessionInput:
    title: str
    local_start: datetime  # naive: the wall-clock time where the session is held
    timezone: str
    duration_minutes: int
    place: str
    online_url: str | None
    language: str
    facilitators: tuple[FacilitatorInput, ...]
    occurrences: int = 1  # 1: a single session; more: one per check-in cycle


# Time zones.


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone the system knows, sorted, without the legacy aliases."""
    return tuple(
        sorted(
            name
            for name in available_timezones()
            if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
        )
        + ["UTC"]
    )


def zone(name: str) -> ZoneInfo:
    if name not in timezone_names():
        raise SessionError(gettext("Choose a time zone from the list."), field="timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SessionError(gettext("Choose a time zone from the list."), "timezone") from exc


def to_utc(local: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of wall-clock time ``local`` in ``tz``; None for a time the clocks
    skip (a daylight-saving gap). A repeated time (clocks going back) is its first one."""
    aware = local.replace(tzinfo=tz, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local:
        return None
    return instant


def occurrence_starts(
    local_start: datetime, tz: ZoneInfo, cadence: timedelta, count: int
) -> list[datetime]:
    """The UTC starts of a series: the same wall-clock time, one cadence apart, so a session
    at 18:00 stays at 18:00 across a change to or from daylight-saving time. An occurrence
    falling in a skipped hour moves on by that hour, as the clocks do."""
    starts = []
    for number in range(count):
        local = local_start + number * cadence
        instant = to_utc(local, tz)
        if instant is None:
            instant = local.replace(tzinfo=tz).astimezone(UTC)
        starts.append(instant)
    return starts


def local_start(session: DialogueSession) -> datetime:
    return session.starts_at.astimezone(ZoneInfo(session.timezone))


def local_end(session: DialogueSession) -> datetime:
    return local_start(session) + timedelta(minutes=session.duration_minutes)


def when_text(session: DialogueSession) -> str:
    """When it is held, in the reader's language and the local time where it is held (what
    a participant travels or logs in by): "Saturday, 5 December 2026, 18:00 – 19:30
    (Africa/Nairobi)"."""
    locale = get_locale() or "en"
    start, end = local_start(session), local_end(session)

    def moment(value: datetime, with_date: bool) -> str:
        time = format_time(value, "short", tzinfo=value.tzinfo, locale=locale)
        if not with_date:
            return time
        return f"{babel_format_date(value.date(), 'full', locale=locale)}, {time}"

    start_text = moment(start, True)
    end_text = moment(end, end.date() != start.date())
    return f"{start_text} – {end_text} ({session.timezone})"


# Facilitators.


def has_pairing(facilitators) -> bool:
    """The dialogue's pairing: at least one woman and one man ally lead the session."""
    roles = {f.role for f in facilitators}
    return FacilitatorRole.WOMAN in roles and FacilitatorRole.MAN in roles


# Scheduling.


def schedule(pledge: Pledge, data: SessionInput, user: User | None) -> list[DialogueSession]:
    """Schedule a session, or a series of ``data.occurrences`` sessions one check-in cycle
    apart (the pledge's cadence). Nothing is stored if any rule is broken."""
    tz = zone(data.timezone)
    if not 1 <= data.occurrences <= SESSION_SERIES_MAX:
        raise SessionError(
            gettext("A series has from 1 to %(max)s sessions.", max=SESSION_SERIES_MAX),
            "occurrences",
        )
    first = to_utc(data.local_start, tz)
    if first is None:
        raise SessionError(
            gettext("The clocks skip this time in this time zone: choose another time."),
            "start_time",
        )
    now = utcnow()
    if first <= now:
        raise SessionError(gettext("Choose a start in the future."), "start_date")
    if first > now + FURTHEST_AHEAD:
        raise SessionError(gettext("Choose a start within the next five years."), "start_date")
    online_url = clean_online_url(data.online_url)
    if not data.place and not online_url:
        raise SessionError(gettext("Give a place, an online link, or both."), "place")
    series_id = secrets.token_urlsafe(12) if data.occurrences > 1 else None
    sessions = []
    starts = occurrence_starts(data.local_start, tz, pledge_cadence(pledge), data.occurrences)
    for position, start in enumerate(starts, start=1):
        session = DialogueSession(
            pledge_id=pledge.id,
            series_id=series_id,
            series_position=position if series_id else None,
            title=data.title,
            starts_at=start,
            timezone=data.timezone,
            duration_minutes=data.duration_minutes,
            place=data.place,
            online_url=online_url,
            language=data.language,
            created_by_id=user.id if user else None,
            facilitators=[
                SessionFacilitator(position=i, name=f.name, role=FacilitatorRole(f.role))
                for i, f in enumerate(data.facilitators, start=1)
            ],
        )
        db.session.add(session)
        sessions.append(session)
    db.session.flush()
    audit.record(
        "session.schedule",
        pledge=pledge,
        target=sessions[0],
        details={"title": data.title, "sessions": len(sessions), "series": series_id},
    )
    return sessions


def clean_online_url(raw: str | None) -> str | None:
    """An http(s) link or nothing: the same rule as an action's evidence link."""
    try:
        return actions.clean_evidence_url(raw)
    except ActionError as error:
        raise SessionError(error.message, "online_url") from error


def delete_session(session: DialogueSession) -> None:
    """Take a session off the calendar. Actions already logged for its attendees stay:
    they did attend."""
    audit.record(
        "session.delete",
        pledge=session.pledge,
        target=session,
        details={"title": session.title, "starts_at": session.starts_at.isoformat()},
    )
    db.session.delete(session)


# Reading.


def session_of(pledge: Pledge, session_id: int) -> DialogueSession | None:
    return db.session.scalar(
        select(DialogueSession).where(
            DialogueSession.id == session_id, DialogueSession.pledge_id == pledge.id
        )
    )


def sessions_of(pledge_id: int, *, upcoming: bool, limit: int | None = None):
    """A pledge's sessions: those not yet over, soonest first; or past ones, latest first."""
    now = utcnow()
    query = select(DialogueSession).where(DialogueSession.pledge_id == pledge_id)
    # A session counts as upcoming until it ends; ends are computed in Python, so the
    # query takes everything that started up to a day ago and filters.
    if upcoming:
        query = query.where(DialogueSession.starts_at > now - timedelta(days=1)).order_by(
            DialogueSession.starts_at, DialogueSession.id
        )
        rows = [s for s in db.session.scalars(query) if ends_at(s) > now]
    else:
        query = query.where(DialogueSession.starts_at <= now).order_by(
            DialogueSession.starts_at.desc(), DialogueSession.id.desc()
        )
        rows = [s for s in db.session.scalars(query) if ends_at(s) <= now]
    return rows[:limit] if limit is not None else rows


def ends_at(session: DialogueSession) -> datetime:
    return session.starts_at + timedelta(minutes=session.duration_minutes)


def has_started(session: DialogueSession) -> bool:
    return session.starts_at <= utcnow()


# RSVPs.


@dataclass(frozen=True)
class SignerSession:
    """One upcoming session as a signer sees it on their private page."""

    session: DialogueSession
    answer: RsvpAnswer | None


def upcoming_for_signer(signature: Signature) -> list[SignerSession]:
    if signature.status != SignatureStatus.CONFIRMED:
        return []
    sessions = [
        s
        for s in sessions_of(signature.pledge_id, upcoming=True, limit=UPCOMING_SHOWN)
        if not has_started(s)
    ]
    answers = dict(
        db.session.execute(
            select(SessionRsvp.session_id, SessionRsvp.answer).where(
                SessionRsvp.signature_id == signature.id,
                SessionRsvp.session_id.in_([s.id for s in sessions]),
            )
        ).all()
    )
    return [SignerSession(s, answers.get(s.id)) for s in sessions]


def rsvp(signature: Signature, session: DialogueSession, answer: str) -> SessionRsvp:
    """The signer says whether they come; a later answer replaces the earlier one."""
    if signature.status != SignatureStatus.CONFIRMED:
        raise SessionError(gettext("Confirm your signature first: then you can join sessions."))
    if session.pledge_id != signature.pledge_id:
        raise SessionError(gettext("This session is not one of your pledge's."))
    if has_started(session):
        raise SessionError(gettext("This session has already started."))
    row = db.session.get(SessionRsvp, (session.id, signature.id))
    if row is None:
        row = SessionRsvp(session_id=session.id, signature_id=signature.id)
        db.session.add(row)
    row.answer = RsvpAnswer(answer)
    row.answered_at = utcnow()
    return row


# Attendance.


@dataclass(frozen=True)
class Candidate:
    """Someone the attendance list offers: they answered, or were marked present."""

    signature: Signature
    answer: RsvpAnswer | None
    attended: bool


def attendance_list(session: DialogueSession) -> list[Candidate]:
    """Confirmed signers who answered (those coming first) and anyone marked present."""
    answers = {r.signature_id: r.answer for r in session.rsvps}
    present = {a.signature_id for a in session.attendance}
    ids = set(answers) | present
    if not ids:
        return []
    signatures = db.session.scalars(
        select(Signature).where(
            Signature.id.in_(ids),
            Signature.pledge_id == session.pledge_id,
            Signature.status == SignatureStatus.CONFIRMED,
        )
    ).all()
    candidates = [Candidate(s, answers.get(s.id), s.id in present) for s in signatures]
    return sorted(
        candidates,
        key=lambda c: (
            c.answer != RsvpAnswer.YES,
            c.signature.full_name.casefold(),
            c.signature.id,
        ),
    )


def coming(session: DialogueSession) -> list[Signature]:
    """The confirmed signers who said they come: the printed attendance sheet's rows."""
    return [c.signature for c in attendance_list(session) if c.answer == RsvpAnswer.YES]


def take_attendance(
    session: DialogueSession, present_ids: set[int], user: User | None
) -> tuple[int, int]:
    """Make the signers marked present exactly ``present_ids`` (among those the list
    offers). Each newly present signer gets one action, "Attended a dialogue session",
    counted in the follow-through figures; unmarking deletes it. Marking someone already
    present changes nothing. Returns (marked, unmarked)."""
    if not has_started(session):
        raise SessionError(gettext("Attendance can be taken once the session has started."))
    offered = {c.signature.id: c for c in attendance_list(session)}
    unknown = present_ids - set(offered)
    if unknown:
        raise SessionError(gettext("Someone on this list is no longer a confirmed signer."))
    rows = {a.signature_id: a for a in session.attendance}
    marked = unmarked = 0
    for signature_id, candidate in offered.items():
        row = rows.get(signature_id)
        if signature_id in present_ids and row is None:
            mark_present(session, candidate.signature, user)
            marked += 1
        elif signature_id not in present_ids and row is not None:
            _unmark(session, candidate.signature, row)
            unmarked += 1
    if marked or unmarked:
        audit.record(
            "session.attendance",
            pledge=session.pledge,
            target=session,
            details={"marked": marked, "unmarked": unmarked},
        )
    return marked, unmarked


def mark_present(
    session: DialogueSession, signature: Signature, user: User | None
) -> SessionAttendance:
    """One attendee present: their action is logged once, however often they are marked."""
    existing = db.session.get(SessionAttendance, (session.id, signature.id))
    if existing is not None:
        return existing
    done_on = local_start(session).date()
    with signer_language(signature.locale):
        description = attended_description(session.title, done_on)
    action = actions.log_attendance(signature, done_on, description)
    db.session.flush()
    row = SessionAttendance(
        session_id=session.id,
        signature_id=signature.id,
        action_id=action.id,
        marked_by_id=user.id if user else None,
    )
    session.attendance.append(row)
    return row


def attended_description(title: str, done_on: date) -> str:
    return gettext(
        "Attended a dialogue session: %(title)s (%(date)s)", title=title, date=format_date(done_on)
    )


def _unmark(session: DialogueSession, signature: Signature, row: SessionAttendance) -> None:
    action = actions.action_of(signature, row.action_id) if row.action_id else None
    if action is not None:
        actions.delete_action(signature, action)
    session.attendance.remove(row)


# What the public sees: counts only, with the small-count protection.


def public_count(count: int) -> PublicCount:
    """One figure as the public may read it: 1 to MIN_PUBLIC_COUNT - 1 reads "fewer than N"."""
    minimum = min_public_count()
    return PublicCount("", None if 0 < count < minimum else count, minimum)


@dataclass(frozen=True)
class SessionFigures:
    coming: PublicCount
    attended: PublicCount


def figures(session: DialogueSession) -> SessionFigures:
    confirmed = Signature.status == SignatureStatus.CONFIRMED
    coming_count = db.session.scalar(
        select(func.count())
        .select_from(SessionRsvp)
        .join(Signature, Signature.id == SessionRsvp.signature_id)
        .where(
            SessionRsvp.session_id == session.id, SessionRsvp.answer == RsvpAnswer.YES, confirmed
        )
    )
    attended_count = db.session.scalar(
        select(func.count())
        .select_from(SessionAttendance)
        .join(Signature, Signature.id == SessionAttendance.signature_id)
        .where(SessionAttendance.session_id == session.id, confirmed)
    )
    return SessionFigures(public_count(coming_count or 0), public_count(attended_count or 0))
