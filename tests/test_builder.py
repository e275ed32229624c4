"""Organizers build a pledge: settings, lifecycle, versioned commitments, team, co-signers."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import (
    GUIDELINES_MAX,
    PREAMBLE_MAX,
    AuditEntry,
    Commitment,
    CommitmentVersion,
    Organization,
    Pledge,
    PledgeOrganizer,
    PledgeStatus,
    Signature,
)
from tests.factories import confirmed_signature, make_pledge, make_user, run_by
from tests.helpers import csrf_token, log_in, sign_form_data, sign_via_form, signer_page

# Every page of one pledge's builder, as (method, path template).
PAGES = [
    "/organize/{slug}/",
    "/organize/{slug}/edit",
    "/organize/{slug}/commitments",
    "/organize/{slug}/organizers",
]


def audit_actions(pledge_id: int | None = None) -> list[str]:
    """The audit log's actions, oldest first, leaving out the accounts the test set up."""
    query = (
        select(AuditEntry.action)
        .where(AuditEntry.action.not_like("user.%"))
        .order_by(AuditEntry.id)
    )
    if pledge_id is not None:
        query = query.where(AuditEntry.pledge_id == pledge_id)
    return list(db.session.scalars(query))


def the_pledge() -> Pledge:
    """The one pledge, with its commitments loaded for use outside the app context."""
    pledge = db.session.scalar(select(Pledge).order_by(Pledge.id))
    assert pledge.commitments
    return pledge


def post_form(client, page: str, action: str, **data):
    """Open ``page`` as the organizer would, then send ``data`` to ``action`` with its token."""
    token = csrf_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data})


@pytest.fixture
def organizer(app, client):
    """A logged-in organizer running a draft pledge (slug "draft-pledge")."""
    with app.app_context():
        user = make_user("runner@example.org")
        run_by(make_pledge("draft-pledge", status=PledgeStatus.DRAFT), user)
    log_in(client, "runner@example.org")
    return client


def pledge_form(**overrides) -> dict:
    return {
        "title": "Men for peace at home",
        "slug": "",
        "preamble": "Peace starts at home.\n\nWe act together.",
        "guidelines": "Pick what you can keep.",
        "goal": "500",
        "checkin_cadence_days": "30",
        **overrides,
    }


# Who may reach what


def test_every_builder_page_sends_anonymous_visitors_to_log_in(app, client):
    with app.app_context():
        make_pledge("some-pledge")
    for path in [
        "/organize/new",
        *(p.format(slug="some-pledge") for p in PAGES),
    ]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path


def test_another_organizers_pledge_is_not_found_on_any_builder_page(app, client):
    with app.app_context():
        pledge = run_by(make_pledge("theirs"), make_user("owner@example.org"))
        commitment_id = pledge.commitments[0].id
        make_user("stranger@example.org")
    log_in(client, "stranger@example.org")
    for path in PAGES:
        assert client.get(path.format(slug="theirs")).status_code == 404, path
    token = csrf_token(client.get("/organize/new").text)
    for action in [
        "/organize/theirs/edit",
        "/organize/theirs/close",
        "/organize/theirs/commitments",
        f"/organize/theirs/commitments/{commitment_id}/reword",
        f"/organize/theirs/commitments/{commitment_id}/retire",
        "/organize/theirs/organizers/add",
        "/organize/theirs/cosigners/add",
    ]:
        response = client.post(
            action, data={"csrf_token": token, "title": "Taken over", "c1-text": "Mine now"}
        )
        assert response.status_code == 404, action
    with app.app_context():
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == "theirs"))
        assert pledge.status == PledgeStatus.OPEN and pledge.title != "Taken over"
        assert audit_actions(pledge.id) == []


def test_an_admin_may_manage_any_pledge(app, client):
    with app.app_context():
        run_by(make_pledge("theirs", title="Their pledge"), make_user("owner@example.org"))
        make_user("admin@example.org", role="admin")
    log_in(client, "admin@example.org")
    for path in PAGES:
        response = client.get(path.format(slug="theirs"))
        assert response.status_code == 200, path
    response = post_form(client, "/organize/theirs/", "/organize/theirs/close")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Pledge.status)) == PledgeStatus.CLOSED


def test_every_builder_form_needs_its_csrf_token(app, client, organizer):
    with app.app_context():
        pledge = db.session.scalar(select(Pledge))
        commitment_id = pledge.commitments[0].id
        organization = Organization(slug="wpp", name="Women Peacemakers")
        db.session.add(organization)
        db.session.commit()
        organization_id = organization.id
    actions = {
        "/organize/new": pledge_form(),
        "/organize/draft-pledge/edit": pledge_form(),
        "/organize/draft-pledge/open": {},
        "/organize/draft-pledge/close": {},
        "/organize/draft-pledge/commitments": {"new-text": "Something new"},
        f"/organize/draft-pledge/commitments/{commitment_id}/reword": {
            f"c{commitment_id}-text": "Reworded"
        },
        f"/organize/draft-pledge/commitments/{commitment_id}/move": {"direction": "down"},
        f"/organize/draft-pledge/commitments/{commitment_id}/unrequire": {},
        f"/organize/draft-pledge/commitments/{commitment_id}/retire": {},
        "/organize/draft-pledge/organizers/add": {"org-email": "runner@example.org"},
        "/organize/draft-pledge/cosigners/add": {"cos-organization": str(organization_id)},
    }
    for action, data in actions.items():
        assert client.post(action, data=data).status_code == 400, action
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1
        pledge = db.session.scalar(select(Pledge))
        assert pledge.status == PledgeStatus.DRAFT and pledge.title != "Men for peace at home"
        assert [(c.position, c.text, c.required, c.retired_at) for c in pledge.commitments] == [
            (1, "I will listen to women peacebuilders first.", True, None),
            (2, "I will challenge violent ideas of masculinity.", False, None),
            (3, "I will join dialogues in cycles.", False, None),
        ]
        assert pledge.cosigners == [] and audit_actions() == []


# Creating and editing


def test_a_new_pledge_is_a_draft_run_by_its_creator(app, client):
    with app.app_context():
        make_user("creator@example.org")
    log_in(client, "creator@example.org")
    response = post_form(client, "/organize/new", "/organize/new", **pledge_form(premoderation="y"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/organize/men-for-peace-at-home/commitments"
    with app.app_context():
        pledge = db.session.scalar(select(Pledge))
        assert pledge.status == PledgeStatus.DRAFT and pledge.opened_at is None
        assert (pledge.goal, pledge.checkin_cadence_days, pledge.premoderation) == (500, 30, True)
        assert pledge.guidelines == "Pick what you can keep."
        (link,) = db.session.scalars(select(PledgeOrganizer)).all()
        assert link.user.email == "creator@example.org"
        assert pledge.created_by_id == link.user_id
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pledge.create"))
        assert entry.actor == "creator@example.org" and entry.pledge_id == pledge.id
    assert "Men for peace at home" in client.get("/organize/").text
    # A second pledge of the same title gets an address of its own.
    post_form(client, "/organize/new", "/organize/new", **pledge_form())
    with app.app_context():
        assert set(db.session.scalars(select(Pledge.slug))) == {
            "men-for-peace-at-home",
            "men-for-peace-at-home-2",
        }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ""}, "Give the pledge a title."),
        ({"preamble": "  "}, "Write the preamble signers read first."),
        ({"goal": "0"}, "The goal is a number of signatures, 1 or more."),
        ({"goal": "lots"}, "The goal is a number of signatures, 1 or more."),
        ({"checkin_cadence_days": "0"}, "Choose between 1 and 366 days."),
        ({"slug": "Not A Slug!"}, "Lower-case letters"),
        ({"slug": "new"}, "Another pledge already uses this address."),
        ({"slug": "draft-pledge"}, "Another pledge already uses this address."),
    ],
)
def test_invalid_settings_are_shown_and_nothing_is_stored(app, client, organizer, fields, message):
    response = post_form(client, "/organize/new", "/organize/new", **pledge_form(**fields))
    assert response.status_code == 400
    assert message in response.text.replace("&#39;", "'")
    assert 'aria-invalid="true"' in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1
        assert "pledge.create" not in audit_actions()


def test_editing_records_what_changed_and_the_address_is_frozen_once_open(app, client, organizer):
    response = post_form(
        client,
        "/organize/draft-pledge/edit",
        "/organize/draft-pledge/edit",
        **pledge_form(title="Renamed", slug="renamed", goal="", checkin_cadence_days="14"),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/organize/renamed/edit"
    with app.app_context():
        pledge = db.session.scalar(select(Pledge))
        assert (pledge.slug, pledge.title, pledge.goal, pledge.checkin_cadence_days) == (
            "renamed",
            "Renamed",
            None,
            14,
        )
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pledge.update"))
        assert entry.details["changed"]["slug"] == ["draft-pledge", "renamed"]
        assert entry.details["changed"]["goal"] == [100, None]

    post_form(client, "/organize/renamed/", "/organize/renamed/open")
    page = client.get("/organize/renamed/edit").text
    assert "readonly" in page and "fixed since the pledge was opened" in page
    response = post_form(
        client,
        "/organize/renamed/edit",
        "/organize/renamed/edit",
        **pledge_form(title="Renamed", slug="moved-away"),
    )
    assert response.status_code == 400
    assert "The address cannot change once the pledge has been opened." in response.text
    with app.app_context():
        assert db.session.scalar(select(Pledge.slug)) == "renamed"
    # The rest of the settings still change once open.
    response = post_form(
        client,
        "/organize/renamed/edit",
        "/organize/renamed/edit",
        **pledge_form(title="Renamed again", slug="renamed"),
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Pledge.title)) == "Renamed again"


# Lifecycle


def test_a_draft_is_invisible_on_every_public_route(app, client):
    with app.app_context():
        pledge = make_pledge("secret", status=PledgeStatus.OPEN)
        signature = confirmed_signature(pledge)
        code = signature.verification_code
        pledge.status = PledgeStatus.DRAFT
        db.session.commit()
    for path in [
        "/p/secret",
        "/p/secret/thanks",
        "/p/secret/wall",
        "/p/secret/actions",
        "/p/secret/feed.atom",
        "/p/secret/embed",
        "/api/v1/pledges/secret",
        "/api/v1/pledges/secret/signatures",
        f"/verify/{code}",
    ]:
        assert client.get(path).status_code == 404, path
    assert client.get("/api/v1/pledges").json["data"] == []
    assert "secret" not in client.get("/").text


def test_opening_needs_a_commitment_and_sets_opened_at(app, client):
    with app.app_context():
        run_by(
            make_pledge("empty", status=PledgeStatus.DRAFT, commitments=[("Only one", True)]),
            make_user("runner@example.org"),
        )
        db.session.delete(db.session.scalar(select(Commitment)))
        pledge = db.session.scalar(select(Pledge))
        pledge.opened_at = None
        db.session.commit()
    log_in(client, "runner@example.org")
    response = post_form(client, "/organize/empty/", "/organize/empty/open")
    assert response.status_code == 302
    assert "Add at least one commitment" in client.get("/organize/empty/").text
    with app.app_context():
        assert db.session.scalar(select(Pledge.status)) == PledgeStatus.DRAFT
        assert audit_actions() == []


def test_open_takes_signatures_closed_keeps_its_wall_and_refuses_them(app, client, organizer):
    public = app.test_client()
    assert public.get("/p/draft-pledge").status_code == 404

    post_form(client, "/organize/draft-pledge/", "/organize/draft-pledge/open")
    with app.app_context():
        pledge = the_pledge()
        assert pledge.status == PledgeStatus.OPEN and pledge.opened_at is not None
    token = csrf_token(public.get("/p/draft-pledge").text)
    assert sign_via_form(public, pledge).status_code == 302

    post_form(client, "/organize/draft-pledge/", "/organize/draft-pledge/close")
    with app.app_context():
        pledge = the_pledge()
        assert pledge.status == PledgeStatus.CLOSED and pledge.closed_at is not None
    assert public.get("/p/draft-pledge/wall").status_code == 200
    page = public.get("/p/draft-pledge")
    assert page.status_code == 200 and "no longer takes signatures" in page.text
    # A form opened before the pledge closed, sent after.
    refused = public.post(
        "/p/draft-pledge",
        data={**sign_form_data(pledge, email="late@example.org"), "csrf_token": token},
    )
    assert refused.status_code == 409 and "no longer takes signatures" in refused.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 1

    post_form(client, "/organize/draft-pledge/", "/organize/draft-pledge/open")
    with app.app_context():
        pledge = db.session.scalar(select(Pledge))
        assert pledge.status == PledgeStatus.OPEN and pledge.closed_at is None
        assert audit_actions(pledge.id) == ["pledge.open", "pledge.close", "pledge.reopen"]
    assert "Reopen" not in client.get("/organize/draft-pledge/").text


def test_overview_shows_counts_and_the_public_link(app, client, organizer):
    post_form(client, "/organize/draft-pledge/", "/organize/draft-pledge/open")
    with app.app_context():
        confirmed_signature(db.session.scalar(select(Pledge)))
    page = client.get("/organize/draft-pledge/").text
    assert "http://pledges.test/p/draft-pledge" in page
    assert "<strong>1</strong> of 100 signatures" in page
    assert "opened the pledge." in page and "pledge.open" not in page


def test_the_sign_page_shows_the_guidelines_for_signers(app, client):
    with app.app_context():
        make_pledge("guided")
    page = client.get("/p/guided").text
    assert "Before you sign" in page and "Choose what you can keep." in page


# Commitments


def commitments_page(client, slug="draft-pledge"):
    return f"/organize/{slug}/commitments"


def test_adding_and_validating_commitments(app, client, organizer):
    page = commitments_page(client)
    response = post_form(client, page, page, **{"new-text": "I will mentor.", "new-required": "y"})
    assert response.status_code == 302
    response = post_form(client, page, page, **{"new-text": "   "})
    assert response.status_code == 400 and "Write the commitment." in response.text
    response = post_form(client, page, page, **{"new-text": "x" * 501})
    assert response.status_code == 400
    with app.app_context():
        pledge = db.session.scalar(select(Pledge))
        added = pledge.commitments[-1]
        assert (added.position, added.text, added.required) == (4, "I will mentor.", True)
        assert [v.text for v in added.versions] == ["I will mentor."]
        assert audit_actions(pledge.id) == ["commitment.add"]


def test_reorder_moves_through_the_unique_positions_without_collisions(app, client, organizer):
    with app.app_context():
        first, second, third = (c.id for c in db.session.scalar(select(Pledge)).commitments)
    page = commitments_page(client)
    move = "/organize/draft-pledge/commitments/{}/move"
    assert post_form(client, page, move.format(first), direction="down").status_code == 302
    assert post_form(client, page, move.format(third), direction="up").status_code == 302
    # Already at the top: nothing moves, nothing breaks.
    assert post_form(client, page, move.format(second), direction="up").status_code == 302
    assert post_form(client, page, move.format(second), direction="sideways").status_code == 400

    def order():
        with app.app_context():
            return list(db.session.scalars(select(Commitment.id).order_by(Commitment.position)))

    assert order() == [second, third, first]
    with app.app_context():
        assert sorted(db.session.scalars(select(Commitment.position))) == [1, 2, 3]
        assert audit_actions().count("commitment.move") == 2
    text = client.get(page).text
    positions = [text.index(t) for t in ("challenge violent", "join dialogues", "listen to women")]
    assert positions == sorted(positions)


def test_required_can_be_switched_on_and_off(app, client, organizer):
    with app.app_context():
        second = db.session.scalar(select(Pledge)).commitments[1].id
    page = commitments_page(client)
    post_form(client, page, f"/organize/draft-pledge/commitments/{second}/require")
    with app.app_context():
        assert db.session.get(Commitment, second).required
    post_form(client, page, f"/organize/draft-pledge/commitments/{second}/unrequire")
    with app.app_context():
        assert not db.session.get(Commitment, second).required
        assert audit_actions() == ["commitment.require", "commitment.unrequire"]


def test_a_reworded_commitment_keeps_its_signers_words(app, client, organizer, outbox_dir):
    post_form(client, "/organize/draft-pledge/", "/organize/draft-pledge/open")
    signer = app.test_client()
    with app.app_context():
        pledge = the_pledge()
        first = pledge.commitments[0].id
        me = signer_page(signer, outbox_dir, pledge)

    page = commitments_page(client)
    response = post_form(
        client,
        page,
        f"/organize/draft-pledge/commitments/{first}/reword",
        **{f"c{first}-text": "I will listen to and follow women peacebuilders."},
    )
    assert response.status_code == 302
    with app.app_context():
        commitment = db.session.get(Commitment, first)
        assert commitment.version == 2
        assert commitment.text == "I will listen to and follow women peacebuilders."
        versions = db.session.scalars(
            select(CommitmentVersion.text)
            .where(CommitmentVersion.commitment_id == first)
            .order_by(CommitmentVersion.version)
        ).all()
        assert versions == [
            "I will listen to women peacebuilders first.",
            "I will listen to and follow women peacebuilders.",
        ]
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "commitment.reword")
        )
        assert entry.details["before"] == "I will listen to women peacebuilders first."

    # The first signer: their page, renewal form, PDF and data keep the words they signed.
    private = signer.get(me).text
    assert "I will listen to women peacebuilders first." in private
    assert "follow women peacebuilders" not in private
    pdf = signer.get(f"{me}/pledge.pdf")
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.data)).pages
    )
    assert "I will listen to women peacebuilders first." in text
    assert "follow women" not in text
    data = json.loads(signer.get(f"{me}/data.json").data)
    assert data["commitments"][0]["text"] == "I will listen to women peacebuilders first."

    # A new signer sees and signs the new words.
    newcomer = app.test_client()
    assert (
        "I will listen to and follow women peacebuilders." in newcomer.get("/p/draft-pledge").text
    )
    with app.app_context():
        sign_via_form(newcomer, the_pledge(), email="newcomer@example.org")
        latest = db.session.scalar(select(Signature).order_by(Signature.id.desc()))
        assert [c.text for c in latest.chosen_commitments] == [
            "I will listen to and follow women peacebuilders."
        ]
        first_signer = db.session.scalar(select(Signature).order_by(Signature.id))
        assert [c.text for c in first_signer.chosen_commitments] == [
            "I will listen to women peacebuilders first."
        ]


def test_an_empty_rewording_is_refused(app, client, organizer):
    with app.app_context():
        first = db.session.scalar(select(Pledge)).commitments[0].id
    page = commitments_page(client)
    response = post_form(
        client, page, f"/organize/draft-pledge/commitments/{first}/reword", **{f"c{first}-text": ""}
    )
    assert response.status_code == 400 and "A commitment cannot be empty." in response.text
    with app.app_context():
        assert db.session.get(Commitment, first).version == 1


def test_a_retired_commitment_is_kept_by_its_signers_and_offered_to_no_one_new(
    app, client, organizer, outbox_dir
):
    post_form(client, "/organize/draft-pledge/", "/organize/draft-pledge/open")
    signer = app.test_client()
    with app.app_context():
        pledge = the_pledge()
        required, optional, third = (c.id for c in pledge.commitments)
        me = signer_page(signer, outbox_dir, pledge, commitments=[str(required), str(optional)])

    page = commitments_page(client)
    post_form(client, page, f"/organize/draft-pledge/commitments/{optional}/retire")
    with app.app_context():
        assert db.session.get(Commitment, optional).retired_at is not None
        assert "commitment.retire" in audit_actions()

    newcomer = app.test_client()
    sign_page = newcomer.get("/p/draft-pledge").text
    assert "challenge violent ideas" not in sign_page
    with app.app_context():
        refused = sign_via_form(
            newcomer,
            the_pledge(),
            email="new@example.org",
            commitments=[str(required), str(optional)],
        )
    assert refused.status_code == 400 and "Choose only commitments of this pledge." in refused.text

    # The signer still holds it, sees it, and may keep it when renewing (offered near the
    # cycle's end).
    with time_machine.travel(utcnow() + timedelta(days=25), tick=False):
        private = signer.get(me).text
    assert private.count("I will challenge violent ideas of masculinity.") == 2  # list + renewal
    renewed = post_form(
        signer,
        me,
        f"{me}/commitments",
        **{"cm-commitments": [str(required), str(optional), str(third)]},
    )
    assert renewed.status_code == 302
    with app.app_context():
        signature = db.session.scalar(select(Signature))
        assert signature.active_commitment_ids() == {required, optional, third}

    post_form(client, page, f"/organize/draft-pledge/commitments/{optional}/restore")
    assert "challenge violent ideas" in app.test_client().get("/p/draft-pledge").text


def test_a_commitment_of_another_pledge_is_not_found(app, client, organizer):
    with app.app_context():
        elsewhere = make_pledge("elsewhere").commitments[0].id
    page = commitments_page(client)
    response = post_form(client, page, f"/organize/draft-pledge/commitments/{elsewhere}/retire")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Commitment, elsewhere).retired_at is None


# Organizers and co-signers


def test_sharing_a_pledge_with_another_organizer(app, client, organizer):
    with app.app_context():
        make_user("colleague@example.org")
    team = "/organize/draft-pledge/organizers"
    unknown = post_form(client, team, f"{team}/add", **{"org-email": "nobody@example.org"})
    assert unknown.status_code == 400 and "no active organizer account" in unknown.text
    response = post_form(client, team, f"{team}/add", **{"org-email": "Colleague@example.org "})
    assert response.status_code == 302
    again = post_form(client, team, f"{team}/add", **{"org-email": "colleague@example.org"})
    assert again.status_code == 400 and "already runs this pledge" in again.text

    colleague = app.test_client()
    log_in(colleague, "colleague@example.org")
    assert colleague.get("/organize/draft-pledge/").status_code == 200

    with app.app_context():
        runner_id = db.session.scalar(
            select(PledgeOrganizer.user_id).order_by(PledgeOrganizer.added_at)
        )
        colleague_id = next(
            o.user_id
            for o in db.session.scalar(select(Pledge)).organizers
            if o.user_id != runner_id
        )
    post_form(colleague, team, f"{team}/{runner_id}/remove")
    assert client.get("/organize/draft-pledge/").status_code == 404
    # The last organizer stays.
    post_form(colleague, team, f"{team}/{colleague_id}/remove")
    assert "at least one organizer" in colleague.get(team).text
    assert colleague.get("/organize/draft-pledge/").status_code == 200
    with app.app_context():
        assert audit_actions() == ["organizer.add", "organizer.remove"]


def test_cosigners_are_shown_on_the_pledge_page_and_the_cached_wall(app, client, organizer):
    with app.app_context():
        organization = Organization(slug="wpp", name="Women Peacemakers")
        db.session.add(organization)
        db.session.commit()
        organization_id = organization.id
    post_form(client, "/organize/draft-pledge/", "/organize/draft-pledge/open")
    public = app.test_client()
    assert "Joined by" not in public.get("/p/draft-pledge/wall").text  # now cached

    team = "/organize/draft-pledge/organizers"
    response = post_form(
        client,
        team,
        "/organize/draft-pledge/cosigners/add",
        **{"cos-organization": str(organization_id)},
    )
    assert response.status_code == 302
    for path in ["/p/draft-pledge", "/p/draft-pledge/wall"]:
        page = public.get(path).text
        assert re.search(r'Joined by\s*<a href="/orgs/wpp">Women Peacemakers</a>', page), path

    post_form(client, team, f"/organize/draft-pledge/cosigners/{organization_id}/remove")
    assert "Joined by" not in public.get("/p/draft-pledge/wall").text
    with app.app_context():
        assert audit_actions() == ["pledge.open", "cosigner.add", "cosigner.remove"]


def test_an_open_pledge_keeps_at_least_one_commitment_on_offer(app, client):
    with app.app_context():
        pledge = run_by(
            make_pledge("single", commitments=[("The only one", True)]),
            make_user("runner@example.org"),
        )
        only = pledge.commitments[0].id
    log_in(client, "runner@example.org")
    page = "/organize/single/commitments"
    response = post_form(client, page, f"/organize/single/commitments/{only}/retire")
    assert response.status_code == 302
    assert "at least one commitment on offer" in client.get(page).text
    with app.app_context():
        assert db.session.get(Commitment, only).retired_at is None


@pytest.mark.parametrize(
    ("field", "limit"), [("preamble", PREAMBLE_MAX), ("guidelines", GUIDELINES_MAX)]
)
def test_preamble_and_guidelines_have_a_length_limit(app, client, organizer, field, limit):
    """Both are printed in every signed PDF and dossier: their size must be bounded."""
    at_limit = post_form(
        client, "/organize/new", "/organize/new", **pledge_form(**{field: "a" * limit})
    )
    assert at_limit.status_code == 302
    response = post_form(
        client, "/organize/new", "/organize/new", **pledge_form(**{field: "a" * (limit + 1)})
    )
    assert response.status_code == 400
    assert f"Field cannot be longer than {limit} characters." in response.text
