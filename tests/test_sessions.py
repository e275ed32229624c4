"""Dialogue sessions: scheduling in a time zone and in series across check-in cycles, RSVPs
from the signer's private page, attendance logged as actions, public pages and calendars
that name nobody."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import select

from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.models import (
    Action,
    ActionKind,
    ActionVisibility,
    AuditEntry,
    DialogueSession,
    Pledge,
    RsvpAnswer,
    SessionAttendance,
    SessionRsvp,
    Signature,
)
from tests.factories import confirmed_signature, make_pledge, make_user, run_by
from tests.helpers import count, csrf_token, logged_in, signer_page, table_counts

# A Monday in January: the series below crosses the start of European summer time.
NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
ORGANIZER = "facilitation@example.org"


def session_form(**overrides) -> dict:
    data = {
        "title": "Men and women in the same room",
        "start_date": "2027-03-01",
        "start_time": "18:00",
        "timezone": "Europe/Amsterdam",
        "duration_minutes": "90",
        "place": "Community hall, Utrecht",
        "online_url": "https://meet.example.org/dialogue",
        "language": "en",
        "facilitators-0-name": "Grace Wanjiru",
        "facilitators-0-role": "woman",
        "facilitators-1-name": "Tariq Hassan",
        "facilitators-1-role": "man",
        "facilitators-2-name": "",
        "facilitators-2-role": "woman",
        "facilitators-3-name": "",
        "facilitators-3-role": "woman",
        "occurrences": "1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def clock(app):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def organizer(app, clock):
    with app.app_context():
        pledge = make_pledge()
        run_by(pledge, make_user(ORGANIZER))
        slug = pledge.slug
    return logged_in(app, ORGANIZER), slug


def pledge_of(slug: str) -> Pledge:
    return db.session.scalar(select(Pledge).where(Pledge.slug == slug))


def schedule(client, slug: str, **overrides):
    page = client.get(f"/organize/{slug}/sessions")
    assert page.status_code == 200
    return client.post(
        f"/organize/{slug}/sessions",
        data={**session_form(**overrides), "csrf_token": csrf_token(page.text)},
    )


def sessions_of(slug: str) -> list[DialogueSession]:
    """The pledge's sessions, soonest first, still readable once the app context is gone."""
    sessions = db.session.scalars(
        select(DialogueSession)
        .where(DialogueSession.pledge.has(slug=slug))
        .order_by(DialogueSession.starts_at)
    ).all()
    for session in sessions:
        db.session.refresh(session)
        _ = session.pledge.slug, [f.name for f in session.facilitators]
    db.session.expunge_all()
    return sessions


# Scheduling.


def test_a_series_repeats_every_cycle_at_the_same_local_time_across_summer_time(app, organizer):
    client, slug = organizer
    response = schedule(client, slug, occurrences="3")
    assert response.status_code == 302
    with app.app_context():
        sessions = sessions_of(slug)
        assert len(sessions) == 3
        # 30-day cadence; 18:00 in Amsterdam is 17:00 UTC in winter, 16:00 UTC in summer.
        assert [s.starts_at for s in sessions] == [
            datetime(2027, 3, 1, 17, 0, tzinfo=UTC),
            datetime(2027, 3, 31, 16, 0, tzinfo=UTC),
            datetime(2027, 4, 30, 16, 0, tzinfo=UTC),
        ]
        for session in sessions:
            local = session.starts_at.astimezone(ZoneInfo(session.timezone))
            assert (local.hour, local.minute) == (18, 0)
        assert len({s.series_id for s in sessions}) == 1 and sessions[0].series_id
        assert [s.series_position for s in sessions] == [1, 2, 3]
        assert len({s.uid for s in sessions}) == 3
        assert [f.name for f in sessions[0].facilitators] == ["Grace Wanjiru", "Tariq Hassan"]
        assert db.session.scalars(select(AuditEntry.action)).all().count("session.schedule") == 1

    page = client.get(f"/organize/{slug}/sessions")
    assert "3 sessions scheduled." in page.text
    assert "Sunday, March 1, 2027" not in page.text  # it is a Monday
    assert "Monday, March 1, 2027, 6:00\u202fPM – 7:30\u202fPM (Europe/Amsterdam)" in page.text


def test_a_session_without_the_woman_and_man_pairing_says_so(app, organizer):
    client, slug = organizer
    schedule(client, slug, **{"facilitators-1-role": "woman"})
    with app.app_context():
        [session] = sessions_of(slug)
    page = client.get(f"/organize/{slug}/sessions/{session.id}")
    assert "lacks the dialogue" in page.text
    public = client.get(f"/p/{slug}/sessions/{session.id}")
    assert "lacks the dialogue" in public.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"online_url": "javascript:alert(1)"}, "must be a web address"),
        ({"start_date": "2027-03-28", "start_time": "02:30"}, "The clocks skip this time"),
        ({"start_date": "2026-12-01"}, "Choose a start in the future."),
        ({"timezone": "Mars/Olympus_Mons"}, "Not a valid choice"),
        ({"occurrences": "25"}, "from 1 to 24"),
        ({"duration_minutes": "0"}, "from 1 to 1440"),
        ({"place": "", "online_url": ""}, "Give a place, an online link, or both."),
        ({"title": ""}, "Give the session a title."),
        ({"start_time": "25:99"}, "Not a valid time value"),
        ({"facilitators-0-role": "boss"}, "Choose how this facilitator takes part."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_stored(app, organizer, overrides, message):
    client, slug = organizer
    with app.app_context():
        before = table_counts()
    response = schedule(client, slug, **{"occurrences": "3", **overrides})
    assert response.status_code == 400
    assert message in response.text
    with app.app_context():
        assert table_counts() == before


def test_another_organizer_cannot_reach_the_sessions(app, organizer):
    client, slug = organizer
    schedule(client, slug)
    with app.app_context():
        [session] = sessions_of(slug)
        make_user("stranger@example.org")
    stranger = logged_in(app, "stranger@example.org")
    assert stranger.get(f"/organize/{slug}/sessions").status_code == 404
    assert stranger.get(f"/organize/{slug}/sessions/{session.id}").status_code == 404
    assert stranger.get(f"/organize/{slug}/sessions/{session.id}/sheet.pdf").status_code == 404


# RSVPs from the signer's private page.


def test_a_signer_answers_from_their_private_page(app, organizer, outbox_dir):
    client, slug = organizer
    schedule(client, slug, occurrences="2")
    signer = app.test_client()
    with app.app_context():
        me = signer_page(signer, outbox_dir, pledge_of(slug))
        first, second = sessions_of(slug)
    page = signer.get(me)
    assert "Men and women in the same room" in page.text
    assert "https://meet.example.org/dialogue" in page.text  # signers see the link
    assert "Grace Wanjiru" in page.text and "Woman ally" in page.text
    assert "You have not answered yet." in page.text

    token = csrf_token(page.text)
    response = signer.post(
        f"{me}/sessions/{first.id}/rsvp", data={"answer": "yes", "csrf_token": token}
    )
    assert response.status_code == 302 and response.location.endswith(f"{me}#sessions")
    signer.post(f"{me}/sessions/{second.id}/rsvp", data={"answer": "no", "csrf_token": token})
    assert "You said you come." in signer.get(me).text
    # Changing one's mind replaces the answer.
    signer.post(f"{me}/sessions/{second.id}/rsvp", data={"answer": "yes", "csrf_token": token})
    with app.app_context():
        answers = db.session.scalars(select(SessionRsvp.answer)).all()
        assert answers == [RsvpAnswer.YES, RsvpAnswer.YES]

    # Without the form's token, or with a made-up answer, nothing changes.
    assert signer.post(f"{me}/sessions/{first.id}/rsvp", data={"answer": "no"}).status_code == 400
    bad = signer.post(
        f"{me}/sessions/{first.id}/rsvp", data={"answer": "maybe", "csrf_token": token}
    )
    assert bad.status_code == 400
    assert (
        signer.post(
            f"/me/not-a-token/sessions/{first.id}/rsvp", data={"answer": "no", "csrf_token": token}
        ).status_code
        == 404
    )
    with app.app_context():
        assert (
            db.session.scalar(select(SessionRsvp.answer).where(SessionRsvp.session_id == first.id))
            == RsvpAnswer.YES
        )


def test_a_signer_cannot_answer_for_another_pledges_session_or_a_started_one(
    app, organizer, outbox_dir, clock
):
    client, slug = organizer
    schedule(client, slug)
    signer = app.test_client()
    with app.app_context():
        other = make_pledge()
        me = signer_page(signer, outbox_dir, other)
        [session] = sessions_of(slug)
    token = csrf_token(signer.get(me).text)
    assert "Men and women" not in signer.get(me).text
    response = signer.post(
        f"{me}/sessions/{session.id}/rsvp", data={"answer": "yes", "csrf_token": token}
    )
    assert response.status_code == 404

    with app.app_context():
        mine = signer_page(signer, outbox_dir, pledge_of(slug))
    clock.move_to(datetime(2027, 3, 1, 17, 30, tzinfo=UTC))
    token = csrf_token(signer.get(mine).text)
    late = signer.post(
        f"{mine}/sessions/{session.id}/rsvp",
        data={"answer": "yes", "csrf_token": token},
        follow_redirects=True,
    )
    assert "This session has already started." in late.text
    with app.app_context():
        assert count(SessionRsvp) == 0


# Attendance.


def coming_signers(app, slug: str, how_many: int) -> list[int]:
    """``how_many`` confirmed signers who said they come to the pledge's first session."""
    from pledges.sessions import service

    with app.app_context():
        session = db.session.get(DialogueSession, sessions_of(slug)[0].id)
        ids = []
        for _ in range(how_many):
            signature = confirmed_signature(pledge_of(slug))
            service.rsvp(signature, session, "yes")
            ids.append(signature.id)
        db.session.commit()
    return ids


def test_attendance_logs_one_action_per_attendee_counted_in_follow_through(app, organizer, clock):
    client, slug = organizer
    schedule(client, slug, occurrences="2")
    present, absent = coming_signers(app, slug, 2)
    with app.app_context():
        first = sessions_of(slug)[0]
        url = f"/organize/{slug}/sessions/{first.id}"
        pledge_id = first.pledge_id

    # Not before the session starts.
    page = client.get(url)
    early = client.post(
        f"{url}/attendance", data={"present": [present], "csrf_token": csrf_token(page.text)}
    )
    assert early.status_code == 400
    assert "once the session has started" in early.text

    clock.move_to(datetime(2027, 3, 1, 19, 0, tzinfo=UTC))
    client = logged_in(app, ORGANIZER)  # the login of seven weeks ago has expired
    for _ in range(2):  # marking twice logs one action
        page = client.get(url)
        response = client.post(
            f"{url}/attendance", data={"present": [present], "csrf_token": csrf_token(page.text)}
        )
        assert response.status_code == 302
    with app.app_context():
        [action] = db.session.scalars(select(Action)).all()
        assert action.signature_id == present
        assert action.description == (
            "Attended a dialogue session: Men and women in the same room (1 March 2027)"
        )
        assert action.kind == ActionKind.TRAINING
        assert action.visibility == ActionVisibility.PRIVATE
        assert action.done_on.isoformat() == "2027-03-01"
        [row] = db.session.scalars(select(SessionAttendance)).all()
        assert row.action_id == action.id
        tally = tally_for(pledge_id)
        assert tally.actions == 1
        assert tally.active_signers == 1
        assert db.session.get(Signature, present).active_until is not None

    # Unticking takes the action back out of the figures.
    page = client.get(url)
    assert "checked" in page.text
    client.post(f"{url}/attendance", data={"csrf_token": csrf_token(page.text)})
    with app.app_context():
        assert count(Action) == 0 and count(SessionAttendance) == 0
        assert tally_for(pledge_id).actions == 0
        assert tally_for(pledge_id).active_signers == 0
        assert db.session.get(Signature, absent).actions == []


def test_attendance_refuses_someone_not_on_the_list(app, organizer, clock):
    client, slug = organizer
    schedule(client, slug)
    [coming] = coming_signers(app, slug, 1)
    with app.app_context():
        [session] = sessions_of(slug)
        stranger = confirmed_signature(make_pledge()).id
    clock.move_to(datetime(2027, 3, 1, 19, 0, tzinfo=UTC))
    client = logged_in(app, ORGANIZER)
    url = f"/organize/{slug}/sessions/{session.id}"
    page = client.get(url)
    response = client.post(
        f"{url}/attendance",
        data={"present": [coming, stranger], "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 400
    assert "no longer a confirmed signer" in response.text
    with app.app_context():
        assert count(Action) == 0 and count(SessionAttendance) == 0


def test_the_printed_attendance_sheet_lists_who_said_they_come(app, organizer):
    from tests.helpers import pdf_text

    client, slug = organizer
    schedule(client, slug)
    coming_signers(app, slug, 2)
    with app.app_context():
        [session] = sessions_of(slug)
        names = [s.full_name for s in db.session.scalars(select(Signature))]
    pdf = client.get(f"/organize/{slug}/sessions/{session.id}/sheet.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for name in names:
        assert name in text
    assert "Grace Wanjiru (Woman ally), Tariq Hassan (Man ally)" in text, text
    html = client.get(f"/organize/{slug}/sessions/{session.id}/sheet.html")
    assert all(name in html.text for name in names)


# The public: counts only.


def test_public_pages_show_counts_never_names_nor_the_online_link(app, organizer, clock):
    client, slug = organizer
    schedule(client, slug)
    coming_signers(app, slug, 2)
    with app.app_context():
        [session] = sessions_of(slug)
        names = [s.full_name for s in db.session.scalars(select(Signature))]
    anonymous = app.test_client()
    for url in (f"/p/{slug}/sessions", f"/p/{slug}/sessions/{session.id}"):
        page = anonymous.get(url)
        assert page.status_code == 200
        assert "Signers coming: fewer than 5" in page.text
        for secret in (*names, "Grace Wanjiru", "Tariq Hassan", "meet.example.org"):
            assert secret not in page.text
        assert "A woman and a man ally facilitate together." in page.text

    coming_signers(app, slug, 4)
    assert "Signers coming: 6" in anonymous.get(f"/p/{slug}/sessions/{session.id}").text
    assert anonymous.get(f"/p/{slug}/sessions/999999").status_code == 404


def test_a_draft_pledges_sessions_are_not_public(app, organizer):
    client, slug = organizer
    schedule(client, slug)
    with app.app_context():
        [session] = sessions_of(slug)
        pledge_of(slug).status = "draft"
        db.session.commit()
    anonymous = app.test_client()
    for url in (
        f"/p/{slug}/sessions",
        f"/p/{slug}/sessions/{session.id}",
        f"/p/{slug}/sessions/{session.id}.ics",
        f"/p/{slug}/sessions.ics",
    ):
        assert anonymous.get(url).status_code == 404


# Calendars.


def test_ics_parses_with_the_time_zone_and_a_stable_uid(app, organizer):
    client, slug = organizer
    schedule(client, slug, occurrences="2")
    with app.app_context():
        first, second = sessions_of(slug)
    anonymous = app.test_client()
    response = anonymous.get(f"/p/{slug}/sessions/{first.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert start == datetime(2027, 3, 1, 18, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert str(start.tzinfo) == "Europe/Amsterdam"
    assert event["dtstart"].params["TZID"] == "Europe/Amsterdam"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert event.decoded("duration") == timedelta(minutes=90)
    assert str(event["url"]) == f"http://pledges.test/p/{slug}/sessions/{first.id}"
    assert str(event["uid"]) == f"{first.uid}@pledges.test"
    assert str(event["summary"]) == "Men and women in the same room"
    for secret in (b"Grace", b"Tariq", b"meet.example.org"):
        assert secret not in response.data

    # The same UID on every fetch, and in the pledge's feed.
    again = Calendar.from_ical(anonymous.get(f"/p/{slug}/sessions/{first.id}.ics").data)
    assert str(again.walk("VEVENT")[0]["uid"]) == str(event["uid"])
    feed = anonymous.get(f"/p/{slug}/sessions.ics")
    assert feed.mimetype == "text/calendar"
    events = Calendar.from_ical(feed.data).walk("VEVENT")
    assert sorted(str(e["uid"]) for e in events) == sorted(
        f"{s.uid}@pledges.test" for s in (first, second)
    )
    starts = sorted(e.decoded("dtstart") for e in events)
    assert starts[1].astimezone(UTC) == datetime(2027, 3, 31, 16, 0, tzinfo=UTC)


def test_the_signers_answers_are_in_their_data_and_go_when_they_withdraw(
    app, organizer, outbox_dir, clock
):
    client, slug = organizer
    schedule(client, slug)
    signer = app.test_client()
    with app.app_context():
        me = signer_page(signer, outbox_dir, pledge_of(slug))
        [session] = sessions_of(slug)
    token = csrf_token(signer.get(me).text)
    signer.post(f"{me}/sessions/{session.id}/rsvp", data={"answer": "yes", "csrf_token": token})
    clock.move_to(datetime(2027, 3, 1, 19, 0, tzinfo=UTC))
    client = logged_in(app, ORGANIZER)
    url = f"/organize/{slug}/sessions/{session.id}"
    with app.app_context():
        signature_id = db.session.scalar(select(SessionRsvp.signature_id))
    client.post(
        f"{url}/attendance",
        data={"present": [signature_id], "csrf_token": csrf_token(client.get(url).text)},
    )

    data = signer.get(f"{me}/data.json").json["dialogue_sessions"]
    assert data["answers"][0]["session"] == "Men and women in the same room"
    assert data["answers"][0]["answer"] == "yes"
    assert data["attended"] == [
        {"session": "Men and women in the same room", "starts_at": "2027-03-01T17:00:00+00:00"}
    ]

    page = signer.get(me)
    response = signer.post(
        f"{me}/withdraw", data={"wd-csrf_token": csrf_token(page.text), "wd-understood": "y"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert count(SessionRsvp) == 0 and count(SessionAttendance) == 0 and count(Action) == 0
        assert tally_for(pledge_of(slug).id).actions == 0


# Races, with real threads lined up where they would collide (see tests/test_races.py).


def test_two_organizers_saving_attendance_at_once_log_one_action(
    app, organizer, clock, monkeypatch
):
    """Guard: the attendance row's primary key (session, signature); the route answers the
    one that lost with a message, never a 500, and its action goes with its transaction."""
    from pledges.sessions import service
    from tests.test_races import WAIT, run_together, wait_once_after

    client, slug = organizer
    schedule(client, slug)
    [present] = coming_signers(app, slug, 1)
    with app.app_context():
        url = f"/organize/{slug}/sessions/{sessions_of(slug)[0].id}"
    clock.move_to(datetime(2027, 3, 1, 19, 0, tzinfo=UTC))
    contenders = [logged_in(app, ORGANIZER) for _ in range(2)]
    tokens = [csrf_token(c.get(url).text) for c in contenders]
    ready = threading.Barrier(len(contenders), timeout=WAIT)
    # Each has found nobody marked present, and only then do both write.
    wait_once_after(monkeypatch, service, "local_start", ready)

    def save(n: int):
        def job():
            response = contenders[n].post(
                f"{url}/attendance", data={"present": [present], "csrf_token": tokens[n]}
            )
            return response.status_code, response.headers.get("Location", "")

        return job

    outcomes = run_together(app, save(0), save(1))
    assert [status for status, _ in outcomes] == [302, 302]
    with app.app_context():
        assert count(SessionAttendance) == 1
        [action] = db.session.scalars(select(Action)).all()
        assert action.signature_id == present
        assert tally_for(pledge_of(slug).id).actions == 1
    # The one that lost is told to look again.
    page = contenders[0].get(url).text + contenders[1].get(url).text
    assert "Attendance was being saved by someone else" in page


def test_a_double_tapped_answer_stores_one(app, organizer, outbox_dir, monkeypatch):
    """Guard: the answer's primary key (session, signature): the first answer stands and
    the second tap is thanked like the first."""
    from pledges.sessions import service
    from tests.test_races import WAIT, run_together, wait_once_after

    client, slug = organizer
    schedule(client, slug)
    with app.app_context():
        session_id = sessions_of(slug)[0].id
        me = signer_page(app.test_client(), outbox_dir, pledge_of(slug))
    phones = [app.test_client() for _ in range(2)]
    tokens = [csrf_token(phone.get(me).text) for phone in phones]
    ready = threading.Barrier(len(phones), timeout=WAIT)
    wait_once_after(monkeypatch, service, "has_started", ready)

    def tap(n: int):
        def job():
            response = phones[n].post(
                f"{me}/sessions/{session_id}/rsvp",
                data={"answer": "yes", "csrf_token": tokens[n]},
            )
            return response.status_code

        return job

    assert run_together(app, tap(0), tap(1)) == [302, 302]
    with app.app_context():
        [answer] = db.session.scalars(select(SessionRsvp)).all()
        assert answer.session_id == session_id and answer.answer == "yes"


def test_the_pledge_page_and_the_wall_lead_to_the_sessions(app, organizer):
    client, slug = organizer
    schedule(client, slug)
    visitor = app.test_client()
    for page in (f"/p/{slug}", f"/p/{slug}/wall"):
        assert f'href="/p/{slug}/sessions"' in visitor.get(page).text
    assert "Men and women in the same room" in visitor.get(f"/p/{slug}/sessions").text
