"""Dialogue sessions: the organizers' pages, the signer's RSVP, the public pages and
calendars (which name nobody who comes)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from pledges.accounts.access import managed_pledge_or_404, organizer_required
from pledges.domain.content import content_languages, pledge_content
from pledges.domain.signers import private_page_signature_or_404
from pledges.extensions import db
from pledges.forms import ButtonForm
from pledges.infrastructure.i18n import language_name
from pledges.infrastructure.urls import external_url
from pledges.models import DialogueSession, Pledge, RsvpAnswer
from pledges.presentation.display import ROLE_LABELS
from pledges.presentation.pdf import pdf_response, render_pdf
from pledges.sessions import calendar, service
from pledges.sessions.forms import FACILITATOR_ROLE_LABELS, AttendanceForm, RsvpForm, SessionForm
from pledges.sessions.service import FacilitatorInput, SessionInput
from pledges.views import commit_or_show_error
from pledges.wall.service import public_pledge_or_404

bp = Blueprint("sessions", __name__)
bp.add_app_template_global(RsvpAnswer, "RsvpAnswer")

SHEET_TEMPLATE = "pdf/attendance_sheet.html"
PAST_SHOWN = 10


# What every template may use: the signer's private page includes its own section.


@bp.app_template_global()
def signer_sessions(signature):
    """The upcoming sessions of a signer's pledge with their answers (private page)."""
    return service.upcoming_for_signer(signature)


@bp.app_template_global()
def session_rsvp_form():
    return RsvpForm()


@bp.app_template_filter("session_when")
def session_when(session: DialogueSession) -> str:
    return service.when_text(session)


@bp.app_template_global()
def session_has_pairing(session: DialogueSession) -> bool:
    return service.has_pairing(session.facilitators)


@bp.app_template_filter("facilitator_role_label")
def facilitator_role_label(role: str) -> str:
    return str(FACILITATOR_ROLE_LABELS.get(role, role))


@bp.app_template_filter("language_name")
def language_name_filter(code: str) -> str:
    return language_name(code)


# Organizers.


def _session_form(pledge: Pledge) -> SessionForm:
    form = SessionForm()
    form.timezone.choices = [SelectChoice(name, name) for name in service.timezone_names()]
    form.language.choices = [
        SelectChoice(code, language_name(code)) for code in content_languages()
    ]
    form.occurrences.description = gettext(
        "More than one: the session repeats every check-in cycle of this pledge (every "
        "%(days)s days), at the same local time.",
        days=pledge.checkin_cadence_days,
    )
    for number, row in enumerate(form.facilitators, start=1):
        row.form.name.label.text = gettext("Facilitator %(number)s: name", number=number)
        row.form.role.label.text = gettext("Facilitator %(number)s: facilitates as", number=number)
    if not form.is_submitted():
        form.language.data = pledge.language
        form.timezone.data = form.timezone.data or "UTC"
    return form


def _session_input(form: SessionForm) -> SessionInput:
    return SessionInput(
        title=form.title.data,
        local_start=datetime.combine(form.start_date.data, form.start_time.data),
        timezone=form.timezone.data,
        duration_minutes=form.duration_minutes.data,
        place=form.place.data or "",
        online_url=form.online_url.data or None,
        language=form.language.data,
        facilitators=tuple(
            FacilitatorInput(row.form.name.data, row.form.role.data)
            for row in form.facilitators
            if row.form.name.data
        ),
        occurrences=form.occurrences.data,
    )


@bp.route("/organize/<slug>/sessions", methods=["GET", "POST"])
@organizer_required
def organize(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = _session_form(pledge)
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            scheduled = service.schedule(pledge, _session_input(form), current_user)
        if outcome.committed:
            flash(
                ngettext("Session scheduled.", "%(num)d sessions scheduled.", len(scheduled)),
                "success",
            )
            return redirect(url_for("sessions.organize", slug=pledge.slug))
    return render_template(
        "sessions/organize.html",
        pledge=pledge,
        form=form,
        upcoming=service.sessions_of(pledge.id, upcoming=True),
        past=service.sessions_of(pledge.id, upcoming=False, limit=PAST_SHOWN),
        delete_form=ButtonForm(),
    ), 400 if form.errors else 200


def _managed_session(slug: str, session_id: int) -> tuple[Pledge, DialogueSession]:
    pledge = managed_pledge_or_404(slug)
    session = service.session_of(pledge, session_id)
    if session is None:
        abort(404)
    return pledge, session


@bp.get("/organize/<slug>/sessions/<int:session_id>")
@organizer_required
def manage(slug: str, session_id: int):
    pledge, session = _managed_session(slug, session_id)
    return render_manage(pledge, session)


def render_manage(pledge, session, form=None, status=200):
    candidates = service.attendance_list(session)
    if form is None:
        form = AttendanceForm(data={"present": [c.signature.id for c in candidates if c.attended]})
    return render_template(
        "sessions/manage.html",
        pledge=pledge,
        session=session,
        candidates=candidates,
        form=form,
        started=service.has_started(session),
        coming=sum(1 for c in candidates if c.answer == RsvpAnswer.YES),
        delete_form=ButtonForm(),
    ), status


@bp.post("/organize/<slug>/sessions/<int:session_id>/attendance")
@organizer_required
def attendance(slug: str, session_id: int):
    pledge, session = _managed_session(slug, session_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        return render_manage(pledge, session, form, status=400)
    try:
        with commit_or_show_error(form) as outcome:
            marked, unmarked = service.take_attendance(
                session, set(form.present.data or []), current_user
            )
    except IntegrityError:
        # Another organizer saved this session's attendance at the same moment.
        db.session.rollback()
        flash(
            gettext("Attendance was being saved by someone else: check it and save again."),
            "error",
        )
        return redirect(url_for("sessions.manage", slug=pledge.slug, session_id=session.id))
    if not outcome.committed:
        return render_manage(pledge, session, form, status=400)
    flash(
        gettext(
            "Attendance saved: %(marked)d marked present, %(unmarked)d unmarked.",
            marked=marked,
            unmarked=unmarked,
        ),
        "success",
    )
    return redirect(url_for("sessions.manage", slug=pledge.slug, session_id=session.id))


@bp.post("/organize/<slug>/sessions/<int:session_id>/delete")
@organizer_required
def delete(slug: str, session_id: int):
    pledge, session = _managed_session(slug, session_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with commit_or_show_error() as outcome:
        service.delete_session(session)
    if outcome.committed:
        flash(gettext("Session deleted."), "success")
    return redirect(url_for("sessions.organize", slug=pledge.slug))


def _sheet_context(pledge: Pledge, session: DialogueSession) -> dict:
    """The printed attendance sheet's plain data: who said they come, and the session."""
    return {
        "pledge_title": pledge.title,
        "title": session.title,
        "when": service.when_text(session),
        "place": session.place,
        "online_url": session.online_url,
        "language": language_name(session.language),
        "facilitators": [(f.name, facilitator_role_label(f.role)) for f in session.facilitators],
        "paired": service.has_pairing(session.facilitators),
        "attendees": [
            (s.full_name, s.country, str(ROLE_LABELS.lazy(s.role))) for s in service.coming(session)
        ],
        "blank_rows": 5,
    }


@bp.get("/organize/<slug>/sessions/<int:session_id>/sheet.pdf")
@organizer_required
def sheet_pdf(slug: str, session_id: int):
    pledge, session = _managed_session(slug, session_id)
    pdf = render_pdf(SHEET_TEMPLATE, **_sheet_context(pledge, session))
    return pdf_response(pdf, f"attendance-{pledge.slug}-{session.id}.pdf")


@bp.get("/organize/<slug>/sessions/<int:session_id>/sheet.html")
@organizer_required
def sheet_html(slug: str, session_id: int):
    pledge, session = _managed_session(slug, session_id)
    return render_template(SHEET_TEMPLATE, **_sheet_context(pledge, session))


# The signer.


@bp.post("/me/<token>/sessions/<int:session_id>/rsvp")
def rsvp(token: str, session_id: int):
    signature = private_page_signature_or_404(token)
    session = service.session_of(signature.pledge, session_id)
    if session is None:
        abort(404)
    form = RsvpForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with commit_or_show_error() as outcome:
            service.rsvp(signature, session, form.answer.data)
    except IntegrityError:
        # The same answer sent twice at once (a double tap): the first one stands.
        db.session.rollback()
        outcome.committed = True
    if outcome.committed:
        flash(
            gettext("Thank you: we count you in.")
            if form.answer.data == "yes"
            else gettext("Thank you: you are not expected."),
            "success",
        )
    return redirect(url_for("me.manage", token=token) + "#sessions")


# The public: sessions and counts, never names.


def _public_session(slug: str, session_id: int) -> tuple[Pledge, DialogueSession]:
    pledge = public_pledge_or_404(slug)
    session = service.session_of(pledge, session_id)
    if session is None:
        abort(404)
    return pledge, session


@bp.get("/p/<slug>/sessions")
def public_list(slug: str):
    pledge = public_pledge_or_404(slug)
    upcoming = service.sessions_of(pledge.id, upcoming=True)
    past = service.sessions_of(pledge.id, upcoming=False, limit=PAST_SHOWN)
    return render_template(
        "sessions/public_list.html",
        pledge=pledge,
        content=pledge_content(pledge),
        upcoming=[(s, service.figures(s)) for s in upcoming],
        past=[(s, service.figures(s)) for s in past],
        feed_url=external_url("sessions.feed", slug=pledge.slug),
    )


@bp.get("/p/<slug>/sessions/<int:session_id>")
def public_show(slug: str, session_id: int):
    pledge, session = _public_session(slug, session_id)
    return render_template(
        "sessions/public_show.html",
        pledge=pledge,
        content=pledge_content(pledge),
        session=session,
        figures=service.figures(session),
        started=service.has_started(session),
    )


def _calendar_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.get("/p/<slug>/sessions/<int:session_id>.ics")
def ics(slug: str, session_id: int):
    pledge, session = _public_session(slug, session_id)
    return _calendar_response(
        calendar.calendar_of(pledge, [session]), f"{pledge.slug}-session-{session.id}.ics"
    )


@bp.get("/p/<slug>/sessions.ics")
def feed(slug: str):
    pledge = public_pledge_or_404(slug)
    sessions = service.sessions_of(pledge.id, upcoming=True) + service.sessions_of(
        pledge.id, upcoming=False, limit=PAST_SHOWN
    )
    return _calendar_response(calendar.calendar_of(pledge, sessions), f"{pledge.slug}.ics")
