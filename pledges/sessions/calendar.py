"""Dialogue sessions as iCalendar (RFC 5545): a ``.ics`` per session and a feed per pledge.

Public, like the session pages: the title, time (DTSTART with its TZID and the zone's
VTIMEZONE), length, place or "online", language and the facilitators' pairing. Never a
facilitator's or attendee's name, and never the online link (only signers see it).
The UID is the session's own random one, so a calendar updates the event it already has.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from flask_babel import gettext
from icalendar import Calendar, Event

from pledges.infrastructure.database import utcnow
from pledges.infrastructure.i18n import language_name
from pledges.infrastructure.urls import base_url, external_url
from pledges.models import DialogueSession, Pledge
from pledges.sessions import service

PRODID = "-//Joining Forces//Dialogue sessions//EN"


def uid_of(session: DialogueSession) -> str:
    return f"{session.uid}@{urlsplit(base_url()).hostname or 'joining-forces'}"


def calendar_of(pledge: Pledge, sessions: Iterable[DialogueSession]) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", gettext("Dialogue sessions: %(title)s", title=pledge.title))
    stamp = utcnow()
    for session in sessions:
        cal.add_component(_event(pledge, session, stamp))
    cal.add_missing_timezones()
    return cal.to_ical()


def _event(pledge: Pledge, session: DialogueSession, stamp) -> Event:
    event = Event()
    event.add("uid", uid_of(session))
    event.add("dtstamp", stamp)
    event.add("dtstart", service.local_start(session))
    event.add("duration", timedelta(minutes=session.duration_minutes))
    event.add("summary", session.title)
    event.add("location", _location(session))
    event.add("url", external_url("sessions.public_show", slug=pledge.slug, session_id=session.id))
    event.add("description", _description(session))
    return event


def _location(session: DialogueSession) -> str:
    if session.place and session.online_url:
        return gettext("%(place)s, and online", place=session.place)
    return session.place or gettext("Online")


def _description(session: DialogueSession) -> str:
    lines = [gettext("Language: %(language)s", language=language_name(session.language))]
    if service.has_pairing(session.facilitators):
        lines.append(gettext("Facilitated by a woman and a man ally together."))
    if session.online_url:
        lines.append(gettext("Signers find the online link on their private page."))
    return "\n".join(lines)
