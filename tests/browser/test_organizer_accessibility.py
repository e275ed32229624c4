"""axe-core on every page an organizer or admin meets, and the public pages their work makes
(an organization's page, the report form, a dossier's verification), in French and in a
right-to-left pledge too. Same rules and assertions as test_accessibility.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from pledges.actions.service import ActionInput, log_action
from pledges.dossier import service as dossiers
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import OutboxEmail
from pledges.moderation import service as moderation
from pledges.organize import service as organize
from pledges.orgs.service import OrganizationInput, create_organization
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
    organization_slug: str
    dossier_code: str
    sessions: dict[str, dict]  # who -> Playwright storage state, logged in


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

        urdu = make_pledge(title=URDU_TITLE)
        urdu.language = "ur"
        urdu.preamble = URDU_PREAMBLE
        for commitment, text in zip(urdu.commitments, URDU_COMMITMENTS, strict=True):
            commitment.text = text
        db.session.commit()
        confirmed_signature(urdu, name="عائشہ خان", country="PK", personal_note="امن کے لیے۔")
        return {
            "slug": pledge.slug,
            "urdu_slug": urdu.slug,
            "reported_id": signatures[1].id,
            "reported_public_id": signatures[1].public_id,
            "organization_slug": organization.slug,
            "dossier_code": dossier.verification_code,
        }


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


#: Each page: who is logged in (None: a visitor), and how to reach it.
PAGES: dict[str, tuple[str | None, Callable[..., None]]] = {
    "login with errors": (None, login_with_errors),
    "forgot password": (None, goto(lambda site: "/password/forgot")),
    "my pledges": ("organizer", goto(organizer("/organize/"))),
    "new pledge": ("organizer", goto(organizer("/organize/new"))),
    "new pledge with errors": (
        "organizer",
        submitted_empty(organizer("/organize/new"), "Create the draft"),
    ),
    "pledge overview": ("organizer", goto(organizer("/organize/{slug}/"))),
    "pledge settings": ("organizer", goto(organizer("/organize/{slug}/edit"))),
    "commitments": ("organizer", goto(organizer("/organize/{slug}/commitments"))),
    "commitments with errors": (
        "organizer",
        submitted_empty(organizer("/organize/{slug}/commitments"), "Add"),
    ),
    "organizers and co-signers": ("organizer", goto(organizer("/organize/{slug}/organizers"))),
    "translations": ("organizer", goto(organizer("/organize/{slug}/translations"))),
    "translation being edited": (
        "organizer",
        goto(organizer("/organize/{slug}/translations?locale=fr")),
    ),
    "moderation queue": ("organizer", goto(organizer("/organize/{slug}/moderation"))),
    "hidden signatures": ("organizer", goto(organizer("/organize/{slug}/moderation?view=hidden"))),
    "hide a signature": (
        "organizer",
        goto(lambda site: f"/organize/{site.slug}/moderation/{site.reported_id}/hide"),
    ),
    "reports": ("organizer", goto(organizer("/organize/{slug}/reports"))),
    "bulk hide": ("organizer", goto(organizer("/organize/{slug}/moderation/bulk"))),
    "pledge moderation history": ("organizer", goto(organizer("/organize/{slug}/audit"))),
    "dashboard": ("organizer", goto(organizer("/organize/{slug}/dashboard"))),
    "export": ("organizer", goto(organizer("/organize/{slug}/export"))),
    "dossier": ("organizer", goto(organizer("/organize/{slug}/dossier"))),
    "organizations": ("organizer", goto(organizer("/organize/orgs/"))),
    "new organization": ("organizer", goto(organizer("/organize/orgs/new"))),
    "new organization with errors": (
        "organizer",
        submitted_empty(organizer("/organize/orgs/new"), "Add the organization"),
    ),
    "account": ("organizer", goto(organizer("/account"))),
    "organizer page in French": ("organizer", goto(organizer("/organize/{slug}/?lang=fr"))),
    "admin users": ("admin", goto(lambda site: "/admin/users")),
    "admin new user": ("admin", goto(lambda site: "/admin/users/new")),
    "admin mail": ("admin", goto(lambda site: "/admin/mail")),
    "admin audit log": ("admin", goto(lambda site: "/admin/audit")),
    "organization (public)": (None, goto(lambda site: f"/orgs/{site.organization_slug}")),
    "report form": (None, goto(lambda site: f"/p/{site.slug}/report/{site.reported_public_id}")),
    "report form with errors": (
        None,
        submitted_empty(
            lambda site: f"/p/{site.slug}/report/{site.reported_public_id}", "Send the report"
        ),
    ),
    "dossier verification": (None, goto(lambda site: f"/verify/dossier/{site.dossier_code}")),
    "pledge in French": (None, goto(lambda site: f"/p/{site.slug}?lang=fr")),
    "wall in French": (None, goto(lambda site: f"/p/{site.slug}/wall?lang=fr")),
    "Urdu pledge (right to left)": (None, goto(lambda site: f"/p/{site.urdu_slug}?content=ur")),
    "Urdu wall (right to left)": (
        None,
        goto(lambda site: f"/p/{site.urdu_slug}/wall?content=ur"),
    ),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violations(name, open_axe_page, site):
    who, reach = PAGES[name]
    page = open_axe_page(site.sessions.get(who))
    reach(page, site)
    assert_accessible(page, name)


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
