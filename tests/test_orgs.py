"""Ally organizations: organizers keep their records; the public page shows only what
members chose to show."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from pledges.extensions import db
from pledges.models import AuditEntry, Organization, PledgeCosigner, PledgeStatus
from pledges.signing import service
from tests.factories import confirmed_signature, make_pledge, make_user, signature_input
from tests.helpers import csrf_token, log_in


def org_form(**overrides) -> dict:
    return {
        "name": "Femmes & Paix, Goma",
        "country": "CD",
        "website": "https://femmes-paix.example.org",
        "description": "Women mediators in North Kivu.",
        **overrides,
    }


def add_organization(client, **fields):
    token = csrf_token(client.get("/organize/orgs/new").text)
    return client.post("/organize/orgs/new", data={"csrf_token": token, **org_form(**fields)})


def organizations() -> list[Organization]:
    return list(db.session.scalars(select(Organization).order_by(Organization.id)))


@pytest.fixture
def organizer(app, client):
    with app.app_context():
        make_user("runner@example.org")
    log_in(client, "runner@example.org")
    return client


def test_organizer_pages_need_a_login(app, client):
    with app.app_context():
        db.session.add(Organization(slug="wpp", name="Women Peacemakers"))
        db.session.commit()
    for path in ["/organize/orgs/", "/organize/orgs/new", "/organize/orgs/wpp/edit"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_adding_an_organization_makes_a_unique_slug_and_records_it(app, client, organizer):
    response = add_organization(client)
    assert response.status_code == 302
    assert add_organization(client, name="Femmes Paix Goma").status_code == 302
    with app.app_context():
        first, second = organizations()
        assert (first.slug, first.name, first.country) == (
            "femmes-paix-goma",
            "Femmes & Paix, Goma",
            "CD",
        )
        assert first.website == "https://femmes-paix.example.org"
        assert second.slug == "femmes-paix-goma-2"
        assert first.created_by_id is not None
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "organization.create")
        )
        assert entry.actor == "runner@example.org" and entry.details["slug"] == "femmes-paix-goma"
    listing = client.get("/organize/orgs/").text
    assert "Femmes &amp; Paix, Goma" in listing and "/orgs/femmes-paix-goma-2" in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Give the organization's name."),
        ({"website": "javascript:alert(1)"}, "Enter a full web address"),
        ({"website": "ftp://files.example.org/"}, "Only http:// and https:// addresses"),
        ({"website": "http://[::1"}, "Enter a full web address"),  # unbalanced brackets
        ({"website": "https://a]b.example.org"}, "Enter a full web address"),
        ({"country": "XX"}, "Not a valid choice"),
        ({"description": "x" * 1001}, "Field cannot be longer than 1000 characters."),
    ],
)
def test_invalid_organizations_are_refused_with_no_500(app, client, organizer, fields, message):
    response = add_organization(client, **fields)
    # Lazily translated messages render apostrophes as they are: compare the text.
    assert response.status_code == 400 and message in html.unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    with app.app_context():
        assert organizations() == []


def test_two_organizations_cannot_share_a_name(app, client, organizer):
    add_organization(client)
    again = add_organization(client, name="femmes & paix, goma")
    assert again.status_code == 400 and "already an organization of that name" in again.text
    with app.app_context():
        assert len(organizations()) == 1


def test_the_form_needs_its_csrf_token(app, client, organizer):
    assert client.post("/organize/orgs/new", data=org_form()).status_code == 400
    add_organization(client)
    response = client.post("/organize/orgs/femmes-paix-goma/edit", data=org_form(name="Renamed"))
    assert response.status_code == 400
    with app.app_context():
        assert [o.name for o in organizations()] == ["Femmes & Paix, Goma"]


def test_only_its_creator_or_an_admin_edits_an_organization(app, client, organizer):
    add_organization(client)
    with app.app_context():
        make_user("other@example.org")
        make_user("admin@example.org", role="admin")
    other = app.test_client()
    log_in(other, "other@example.org")
    assert other.get("/organize/orgs/femmes-paix-goma/edit").status_code == 404
    token = csrf_token(other.get("/organize/orgs/new").text)
    response = other.post(
        "/organize/orgs/femmes-paix-goma/edit",
        data={"csrf_token": token, **org_form(name="Taken over")},
    )
    assert response.status_code == 404
    assert "/organize/orgs/femmes-paix-goma/edit" not in other.get("/organize/orgs/").text

    admin = app.test_client()
    log_in(admin, "admin@example.org")
    page = admin.get("/organize/orgs/femmes-paix-goma/edit")
    assert page.status_code == 200
    response = admin.post(
        "/organize/orgs/femmes-paix-goma/edit",
        data={"csrf_token": csrf_token(page.text), **org_form(name="Femmes et Paix")},
    )
    assert response.status_code == 302
    with app.app_context():
        (organization,) = organizations()
        # The name changes; the public address stays.
        assert (organization.name, organization.slug) == ("Femmes et Paix", "femmes-paix-goma")
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "organization.update")
        )
        assert entry.actor == "admin@example.org"
        assert entry.details["changed"]["name"] == ["Femmes & Paix, Goma", "Femmes et Paix"]


def test_renaming_a_cosigner_shows_on_the_cached_wall(app, client, organizer):
    add_organization(client)
    with app.app_context():
        pledge = make_pledge("peace")
        (organization,) = organizations()
        db.session.add(PledgeCosigner(pledge_id=pledge.id, organization_id=organization.id))
        db.session.commit()
    public = app.test_client()
    assert "Femmes &amp; Paix, Goma" in public.get("/p/peace/wall").text
    page = client.get("/organize/orgs/femmes-paix-goma/edit")
    client.post(
        "/organize/orgs/femmes-paix-goma/edit",
        data={"csrf_token": csrf_token(page.text), **org_form(name="Femmes et Paix")},
    )
    wall = public.get("/p/peace/wall").text
    assert "Femmes et Paix" in wall and "Femmes &amp; Paix" not in wall


def test_the_public_page_shows_members_only_as_they_chose(app, client):
    with app.app_context():
        organization = Organization(
            slug="wpp",
            name="Women Peacemakers",
            country="KE",
            website="https://wpp.example.org",
            description="Mediators together.",
        )
        db.session.add(organization)
        db.session.commit()
        open_pledge = make_pledge("open-one", title="The open pledge")
        draft = make_pledge("draft-one", title="The draft pledge", status=PledgeStatus.DRAFT)
        for pledge in (open_pledge, draft):
            db.session.add(PledgeCosigner(pledge_id=pledge.id, organization_id=organization.id))
        db.session.commit()
        member = {"organization": "Women Peacemakers"}
        confirmed_signature(
            open_pledge, name="Grace Named", email="named@example.org", visibility="full", **member
        )
        confirmed_signature(
            open_pledge,
            name="Olive Orgonly",
            email="orgonly@example.org",
            visibility="organization",
            **member,
        )
        confirmed_signature(
            open_pledge,
            name="Ida Initial",
            email="initial@example.org",
            visibility="initial",
            **member,
        )
        confirmed_signature(
            open_pledge,
            name="Ann Anonymous",
            email="anon@example.org",
            visibility="anonymous",
            **member,
        )
        confirmed_signature(
            open_pledge, name="Nora Other", email="other@example.org", visibility="full"
        )
        service.sign(
            open_pledge,
            signature_input(open_pledge, name="Pat Pending", email="pending@example.org", **member),
        )
        db.session.commit()

    page = client.get("/orgs/wpp")
    assert page.status_code == 200
    text = page.text
    assert "Women Peacemakers" in text and "Kenya" in text and "Mediators together." in text
    assert '<a href="https://wpp.example.org" rel="noopener noreferrer">' in text
    assert "The open pledge" in text and "The draft pledge" not in text
    assert "Grace Named" in text
    assert re.search(r"And 1 member\s+who chose to be shown only as", text)
    for hidden in ("Olive", "Ida", "Ann Anonymous", "Nora Other", "Pat Pending"):
        assert hidden not in text, hidden
    assert "@example.org" not in text


def test_an_unknown_organization_is_not_found(app, client):
    assert client.get("/orgs/nobody").status_code == 404


def test_the_organizer_bar_links_to_organizations(app, client, organizer):
    assert 'href="/organize/orgs/"' in client.get("/organize/").text


def test_an_accented_name_in_other_capitals_is_the_same_organization(app, client):
    with app.app_context():
        make_user("runner@example.org")
    log_in(client, "runner@example.org")
    assert add_organization(client, name="École de la Paix").status_code == 302
    response = add_organization(client, name="ÉCOLE DE LA PAIX")
    assert response.status_code == 400
    assert "There is already an organization of that name." in response.text
    with app.app_context():
        [school] = db.session.scalars(select(Organization)).all()
        pledge = make_pledge()
        signature = confirmed_signature(pledge, organization="école de la paix ")
        assert signature.organization_id == school.id
        assert signature.organization_name == "école de la paix"
