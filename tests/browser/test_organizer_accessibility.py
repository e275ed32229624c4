"""axe-core on every page an organizer or admin meets, and the public pages their work makes
(an organization's page, the report form, a dossier's verification), in French and in a
right-to-left pledge too. Same rules and assertions as test_accessibility.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from pledges.actions.service import ActionInput, log_action
from pledges.dossier import service as dossiers
from pledges.extensions import db
from pledges.infrastructure import jobs
from pledges.infrastructure.database import utcnow
from pledges.models import OutboxEmail
from pledges.moderation import service as moderation
from pledges.organize import service as organize
from pledges.orgs.service import OrganizationInput, create_organization
from pledges.paper import service as paper
from pledges.updates import service as updates
from tests import queue_jobs
from tests.browser.conftest import LiveServer, assert_accessible, goto, log_in
from tests.factories import confirmed_signature, make_pledge, make_user, run_by

ORGANIZER = "farida.organizer@example.org"
ADMIN = "samuel.admin@example.org"

URDU_TITLE = "امن کے لیے مرد اور عورتیں ساتھ"
URDU_PREAMBLE = "امن صرف جنگ کی عدم موجودگی نہیں ہے۔\n\nہم مل کر کام کرتے ہیں۔"
URDU_COMMITMENTS = [
    "میں پہلے خواتین امن سازوں کی بات سنوں گا۔",
    "میں تشدد پر مبنی مردانگی کے تصورات کو چیلنج کروں گا۔",
    "میں مکالموں میں باقاعدگی سے شامل ہوں گا۔",
]


@dataclass(frozen=True)
class Site:
    slug: str
    urdu_slug: str
    reported_id: int
    reported_public_id: str  # what the public report link names
    hidden_id: int
    organization_slug: str
    dossier_code: str
    sessions: dict[str, dict]  # who -> Playwright storage state, logged in
    update_id: int  # a published update, emailed to its subscribers
    paper_code: str = ""
    session_id: int = 0  # a dialogue session of the pledge, with a signer coming


SIGNERS = [
    # name, country, role, visibility, organization
    ("Amina Odhiambo", "KE", "woman", "full", ""),
    ("Tariq Mahmood", "PK", "man", "initial", ""),
    ("Nimmi Perera", "LK", "woman", "organization", "Women for Peace Colombo"),
    ("Joseph Mwangi", "KE", "man", "anonymous", ""),
    ("Leila Haddad", "LB", "woman", "full", "Beirut Dialogue"),
]


def _seed(live_server: LiveServer) -> dict:
    """A pledge with all an organizer's pages have to show: signers in several countries and
    roles, actions, a hidden signature, an open report, a translation, a co-signing
    organization, a built dossier; an Urdu pledge; and a dead letter for the admin."""
    with live_server.app.app_context():
        organizer = make_user(ORGANIZER)
        make_user(ADMIN, role="admin")
        pledge = run_by(make_pledge(title="Allies for peace in the Horn of Africa"), organizer)
        signatures = [
            confirmed_signature(
                pledge,
                name=name,
                country=country,
                role=role,
                visibility=visibility,
                organization=organization,
                personal_note="For my sisters." if n % 2 else "",
            )
            for n, (name, country, role, visibility, organization) in enumerate(SIGNERS)
        ]
        for signature in signatures[:3]:
            log_action(
                signature,
                ActionInput(
                    commitment_id=pledge.commitments[0].id,
                    kind="conversation",
                    done_on=utcnow().date(),
                    description="Talked with my neighbours about shared care.",
                    people_reached=5,
                    evidence_url=None,
                    visibility="public",
                ),
            )
        moderation.hide(signatures[-1], "A duplicate of an earlier signature.")
        moderation.file_report(signatures[1], "fake", "Not a real person, I think.", "10.0.0.9")
        moderation.approve(signatures[0])
        organize.save_translation(
            pledge,
            organize.TranslationInput(
                locale="fr",
                title="Alliés pour la paix dans la Corne de l'Afrique",
                preamble="Hommes et femmes, ensemble.",
                guidelines="",
                commitments={pledge.commitments[0].id: "J'écouterai d'abord les femmes."},
            ),
        )
        organization = create_organization(
            OrganizationInput(
                name="Mothers' Peace Network",
                country="KE",
                website="https://mothers-peace.example.org",
                description="Women mediators in the Rift Valley.",
            ),
            organizer,
        )
        organize.add_cosigner(pledge, organization)
        db.session.add(
            OutboxEmail(
                to_address="unreachable@example.org",
                subject="Confirm your signature",
                body_text="…",
                status="dead",
                attempts=8,
                last_error="550 5.1.1 mailbox unavailable",
            )
        )
        db.session.commit()
        dossier = dossiers.request_dossier(pledge, "officials", organizer)
        db.session.commit()
        dossiers.issue(dossier)
        sheet = paper.create_sheet(pledge, "fr", organizer)
        db.session.commit()

        news = updates.save_update(
            pledge,
            {
                "en": updates.UpdateText(
                    "We reached the minister", "She listened.\n\nNext: the region."
                )
            },
        )
        updates.publish(news)
        updates.set_goals(pledge, [10, 50])
        db.session.commit()
        updates.start_send(news)
        db.session.commit()

        urdu = make_pledge(title=URDU_TITLE)
        urdu.language = "ur"
        urdu.preamble = URDU_PREAMBLE
        for commitment, text in zip(urdu.commitments, URDU_COMMITMENTS, strict=True):
            commitment.text = text
        db.session.commit()
        confirmed_signature(urdu, name="عائشہ خان", country="PK", personal_note="امن کے لیے۔")
        session_id = _dialogue_session(pledge, organizer, signatures[0])
        return {
            "session_id": session_id,
            "slug": pledge.slug,
            "urdu_slug": urdu.slug,
            "reported_id": signatures[1].id,
            "reported_public_id": signatures[1].public_id,
            "hidden_id": signatures[-1].id,
            "organization_slug": organization.slug,
            "dossier_code": dossier.verification_code,
            "update_id": news.id,
            "paper_code": sheet.code,
        }


def _dialogue_session(pledge, organizer, coming) -> int:
    """A dialogue session next month, led by a woman and a man, that one signer will attend."""
    from datetime import timedelta

    from pledges.sessions import service as sessions

    start = (utcnow() + timedelta(days=30)).replace(tzinfo=None, hour=17, minute=0, microsecond=0)
    [session] = sessions.schedule(
        pledge,
        sessions.SessionInput(
            title="Listening first: a dialogue",
            local_start=start,
            timezone="Africa/Nairobi",
            duration_minutes=90,
            place="Peace hall, Nakuru",
            online_url="https://meet.example.org/listening",
            language="en",
            facilitators=(
                sessions.FacilitatorInput("Wanjiru Kamau", "woman"),
                sessions.FacilitatorInput("Otieno Ochieng", "man"),
            ),
        ),
        organizer,
    )
    sessions.rsvp(coming, session, "yes")
    db.session.commit()
    return session.id


@pytest.fixture(scope="module")
def site(live_server: LiveServer, browser) -> Site:
    seeded = _seed(live_server)
    sessions = {}
    for who, email in (("organizer", ORGANIZER), ("admin", ADMIN)):
        context = browser.new_context(base_url=live_server.url)
        log_in(context.new_page(), email)
        sessions[who] = context.storage_state()
        context.close()
    return Site(sessions=sessions, **seeded)


def submitted_empty(path_of: Callable[[Site], str], button: str) -> Callable[..., None]:
    """The form at ``path_of`` sent as it came: the page again, with the server's errors
    (past the browser's own checks, where a form has them)."""

    def reach(page, site: Site) -> None:
        page.goto(path_of(site))
        page.locator("form").evaluate_all("forms => forms.forEach(f => { f.noValidate = true })")
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.get_by_role("alert").first).to_be_visible()

    return reach


def login_with_errors(page, site: Site) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(ORGANIZER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").first).to_be_visible()


def organizer(path: str) -> Callable[[Site], str]:
    return lambda site: path.format(slug=site.slug)


#: Each page: who is logged in (None: a visitor), the endpoint that serves it, how to reach
#: it, and the HTTP status it answers with.
PAGES: dict[str, tuple[str | None, str, Callable[..., None], int]] = {
    "login with errors": (
        None,
        "accounts.login",
        login_with_errors,
        422,
    ),
    "forgot password": (
        None,
        "accounts.forgot_password",
        goto(lambda site: "/password/forgot"),
        200,
    ),
    "my pledges": (
        "organizer",
        "organize.index",
        goto(organizer("/organize/")),
        200,
    ),
    "new pledge": (
        "organizer",
        "organize.new",
        goto(organizer("/organize/new")),
        200,
    ),
    "new pledge with errors": (
        "organizer",
        "organize.new",
        submitted_empty(organizer("/organize/new"), "Create the draft"),
        400,
    ),
    "pledge overview": (
        "organizer",
        "organize.pledge",
        goto(organizer("/organize/{slug}/")),
        200,
    ),
    "pledge settings": (
        "organizer",
        "organize.edit",
        goto(organizer("/organize/{slug}/edit")),
        200,
    ),
    "commitments": (
        "organizer",
        "organize.commitments",
        goto(organizer("/organize/{slug}/commitments")),
        200,
    ),
    "commitments with errors": (
        "organizer",
        "organize.commitments",
        submitted_empty(organizer("/organize/{slug}/commitments"), "Add"),
        400,
    ),
    "organizers and co-signers": (
        "organizer",
        "organize.team",
        goto(organizer("/organize/{slug}/organizers")),
        200,
    ),
    "translations": (
        "organizer",
        "organize.translations",
        goto(organizer("/organize/{slug}/translations")),
        200,
    ),
    "translation being edited": (
        "organizer",
        "organize.translations",
        goto(organizer("/organize/{slug}/translations?locale=fr")),
        200,
    ),
    "moderation queue": (
        "organizer",
        "moderation.queue",
        goto(organizer("/organize/{slug}/moderation")),
        200,
    ),
    "hidden signatures": (
        "organizer",
        "moderation.queue",
        goto(organizer("/organize/{slug}/moderation?view=hidden")),
        200,
    ),
    "hide a signature": (
        "organizer",
        "moderation.hide",
        goto(lambda site: f"/organize/{site.slug}/moderation/{site.reported_id}/hide"),
        200,
    ),
    "reports": (
        "organizer",
        "moderation.reports",
        goto(organizer("/organize/{slug}/reports")),
        200,
    ),
    "bulk hide": (
        "organizer",
        "moderation.bulk",
        goto(organizer("/organize/{slug}/moderation/bulk")),
        200,
    ),
    "pledge moderation history": (
        "organizer",
        "moderation.history",
        goto(organizer("/organize/{slug}/audit")),
        200,
    ),
    "dashboard": (
        "organizer",
        "dashboard.show",
        goto(organizer("/organize/{slug}/dashboard")),
        200,
    ),
    "export": (
        "organizer",
        "exports.signatures",
        goto(organizer("/organize/{slug}/export")),
        200,
    ),
    "dossier": (
        "organizer",
        "dossier.build",
        goto(organizer("/organize/{slug}/dossier")),
        200,
    ),
    "organizations": (
        "organizer",
        "orgs.index",
        goto(organizer("/organize/orgs/")),
        200,
    ),
    "new organization": (
        "organizer",
        "orgs.new",
        goto(organizer("/organize/orgs/new")),
        200,
    ),
    "new organization with errors": (
        "organizer",
        "orgs.new",
        submitted_empty(organizer("/organize/orgs/new"), "Add the organization"),
        400,
    ),
    "account": (
        "organizer",
        "accounts.account",
        goto(organizer("/account")),
        200,
    ),
    "organizer page in French": (
        "organizer",
        "organize.pledge",
        goto(organizer("/organize/{slug}/?lang=fr")),
        200,
    ),
    "admin users": (
        "admin",
        "admin.users",
        goto(lambda site: "/admin/users"),
        200,
    ),
    "admin new user": (
        "admin",
        "admin.new_user",
        goto(lambda site: "/admin/users/new"),
        200,
    ),
    "admin mail": (
        "admin",
        "admin.mail",
        goto(lambda site: "/admin/mail"),
        200,
    ),
    "admin jobs (in-process)": (
        "admin",
        "admin.jobs",
        goto(lambda site: "/admin/jobs"),
        200,
    ),
    "admin audit log": (
        "admin",
        "moderation.audit_log",
        goto(lambda site: "/admin/audit"),
        200,
    ),
    "organization (public)": (
        None,
        "orgs.show",
        goto(lambda site: f"/orgs/{site.organization_slug}"),
        200,
    ),
    "report form": (
        None,
        "moderation.report",
        goto(lambda site: f"/p/{site.slug}/report/{site.reported_public_id}"),
        200,
    ),
    "report form with errors": (
        None,
        "moderation.report",
        submitted_empty(
            lambda site: f"/p/{site.slug}/report/{site.reported_public_id}", "Send the report"
        ),
        400,
    ),
    "dossier verification": (
        None,
        "dossier.verify",
        goto(lambda site: f"/verify/dossier/{site.dossier_code}"),
        200,
    ),
    "pledge in French": (
        None,
        "signing.sign",
        goto(lambda site: f"/p/{site.slug}?lang=fr"),
        200,
    ),
    "wall in French": (
        None,
        "wall.wall",
        goto(lambda site: f"/p/{site.slug}/wall?lang=fr"),
        200,
    ),
    "Urdu pledge (right to left)": (
        None,
        "signing.sign",
        goto(lambda site: f"/p/{site.urdu_slug}?content=ur"),
        200,
    ),
    "Urdu wall (right to left)": (
        None,
        "wall.wall",
        goto(lambda site: f"/p/{site.urdu_slug}/wall?content=ur"),
        200,
    ),
    "unhide a signature": (
        "organizer",
        "moderation.unhide",
        goto(lambda site: f"/organize/{site.slug}/moderation/{site.hidden_id}/unhide"),
        200,
    ),
    "dossier front matter preview": (
        "organizer",
        "dossier.preview",
        goto(organizer("/organize/{slug}/dossier/preview")),
        200,
    ),
    "dialogue sessions": (
        "organizer",
        "sessions.organize",
        goto(organizer("/organize/{slug}/sessions")),
        200,
    ),
    "dialogue sessions with errors": (
        "organizer",
        "sessions.organize",
        submitted_empty(organizer("/organize/{slug}/sessions"), "Schedule"),
        400,
    ),
    "dialogue session": (
        "organizer",
        "sessions.manage",
        goto(lambda site: f"/organize/{site.slug}/sessions/{site.session_id}"),
        200,
    ),
    "attendance sheet preview": (
        "organizer",
        "sessions.sheet_html",
        goto(lambda site: f"/organize/{site.slug}/sessions/{site.session_id}/sheet.html"),
        200,
    ),
    "dialogue sessions (public)": (
        None,
        "sessions.public_list",
        goto(lambda site: f"/p/{site.slug}/sessions"),
        200,
    ),
    "dialogue session (public)": (
        None,
        "sessions.public_show",
        goto(lambda site: f"/p/{site.slug}/sessions/{site.session_id}"),
        200,
    ),
    "updates": (
        "organizer",
        "updates.index",
        goto(organizer("/organize/{slug}/updates")),
        200,
    ),
    "write an update": (
        "organizer",
        "updates.new",
        goto(organizer("/organize/{slug}/updates/new")),
        200,
    ),
    "write an update with errors": (
        "organizer",
        "updates.new",
        submitted_empty(organizer("/organize/{slug}/updates/new"), "Save the draft"),
        400,
    ),
    "an update and its sending": (
        "organizer",
        "updates.show",
        goto(lambda site: f"/organize/{site.slug}/updates/{site.update_id}"),
        200,
    ),
    "edit an update": (
        "organizer",
        "updates.edit",
        goto(lambda site: f"/organize/{site.slug}/updates/{site.update_id}/edit"),
        200,
    ),
    "edit an organization": (
        "organizer",
        "orgs.edit",
        goto(lambda site: f"/organize/orgs/{site.organization_slug}/edit"),
        200,
    ),
    "paper sheets": (
        "organizer",
        "paper.sheets",
        goto(organizer("/organize/{slug}/paper")),
        200,
    ),
    "a paper sheet": (
        "organizer",
        "paper.sheet",
        goto(lambda site: f"/organize/{site.slug}/paper/{site.paper_code}"),
        200,
    ),
    "a paper sheet's entry": (
        "organizer",
        "paper.entry",
        goto(lambda site: f"/organize/{site.slug}/paper/{site.paper_code}/entry"),
        200,
    ),
    "a paper sheet's entry with errors": (
        "organizer",
        "paper.entry",
        submitted_empty(
            lambda site: f"/organize/{site.slug}/paper/{site.paper_code}/entry",
            "Save the signed rows",
        ),
        422,
    ),
    "a paper sheet as a page": (
        "organizer",
        "paper.sheet_preview",
        goto(lambda site: f"/organize/{site.slug}/paper/{site.paper_code}/sheet.html"),
        200,
    ),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violations(name, open_axe_page, site, live_server):
    who, endpoint, reach, status = PAGES[name]
    page = open_axe_page(site.sessions.get(who))
    reach(page, site)
    assert live_server.endpoint(page.url) == endpoint, page.url
    assert_accessible(page, name, status)


def test_the_pages_are_checked_with_their_data_on_them(open_axe_page, site):
    """Not in their empty states: the dead letter, the dossier, the report, the Urdu text."""
    page = open_axe_page(site.sessions["admin"])
    page.goto("/admin/mail")
    expect(page.get_by_role("table")).to_contain_text("550 5.1.1 mailbox unavailable")
    page.goto(f"/organize/{site.slug}/dossier")
    expect(page.locator(".dossier-list")).to_contain_text(site.dossier_code)
    page.goto(f"/organize/{site.slug}/reports")
    expect(page.get_by_role("main")).to_contain_text("Not a real person, I think.")
    page.goto(f"/p/{site.urdu_slug}?content=ur")
    expect(page.get_by_role("heading", level=1)).to_have_attribute("dir", "rtl")


def test_the_jobs_page_with_a_failed_job_on_the_queue(
    open_axe_page, site, live_server, redis_url, tmp_path
):
    """/admin/jobs as it is with the queue on Redis: counts, a failed job, its Retry button.
    The live app is switched to the queue for this test only, on a queue of its own."""
    from tests.test_queue import burst, clean_queue

    app = live_server.app
    saved = {key: app.config[key] for key in ("JOBS_BACKEND", "JOBS_QUEUE_NAME", "REDIS_URL")}
    app.config.update(
        JOBS_BACKEND="rq",
        JOBS_QUEUE_NAME=f"pledges-test-{secrets.token_hex(6)}",
        REDIS_URL=redis_url,
        JOBS_RETRY_INTERVALS=(),
    )
    app.extensions.pop(jobs.CONNECTION_KEY, None)
    try:
        with app.test_request_context():
            jobs.enqueue(queue_jobs.always_fail, str(tmp_path / "attempts"))
        burst(app, tmp_path)
        page = open_axe_page(site.sessions["admin"])
        page.goto("/admin/jobs")
        expect(page.get_by_role("table")).to_contain_text("a…@example.org")
        expect(page.get_by_role("button", name="Retry")).to_be_visible()
        assert_accessible(page, "admin jobs (queue)")
    finally:
        clean_queue(app)
        app.config.update(saved, JOBS_RETRY_INTERVALS=(10, 60, 300))
        app.extensions.pop(jobs.CONNECTION_KEY, None)
