"""The pledges command: demo content, mail delivery, recounting."""

from __future__ import annotations

from sqlalchemy import func, select

from pledges.demo import COMMITMENTS, DEMO_SLUG
from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.models import Action, Organization, Pledge, Signature, SignatureCommitment
from tests.factories import make_pledge
from tests.helpers import read_outbox, sign_via_form


def test_seed_demo_creates_a_grounded_pledge_with_synthetic_signers(app, runner, client):
    result = runner.invoke(args=["seed-demo", "--signatures", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "300 signatures added" in result.output
    with app.app_context():
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == DEMO_SLUG))
        assert pledge.status == "open"
        assert "paternalism" in pledge.preamble
        assert 6 <= len(pledge.commitments) <= 8 == len(COMMITMENTS)
        assert db.session.scalar(select(func.count()).select_from(Organization)) >= 3
        tally = tally_for(pledge.id)
        assert tally.total == 300
        assert len(tally.by_country) >= 8
        assert set(tally.by_role) == {"man", "woman", "other", "undisclosed"}
        visibilities = set(db.session.scalars(select(Signature.visibility).distinct()))
        assert visibilities == {"full", "initial", "organization", "anonymous"}
        # Every synthetic signer took the required commitments.
        required = [c.id for c in pledge.commitments if c.required]
        chosen_required = db.session.scalar(
            select(func.count())
            .select_from(SignatureCommitment)
            .where(SignatureCommitment.commitment_id.in_(required))
        )
        assert chosen_required == 300 * len(required)
        # About a quarter of them logged an action; the figures count them.
        logged = db.session.scalar(select(func.count()).select_from(Action))
        assert 40 <= logged <= 110
        assert tally.actions == logged
        assert 0 < tally.active_signers <= logged
    wall = client.get(f"/p/{DEMO_SLUG}/wall")
    assert wall.status_code == 200 and "Anonymous ally" in wall.text
    assert "Follow-through" in wall.text
    assert client.get(f"/p/{DEMO_SLUG}/actions").text.count('class="action"') >= 10


def test_seed_demo_if_empty_leaves_existing_content_alone(app, runner):
    with app.app_context():
        make_pledge()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert "left alone" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1


def test_seed_demo_twice_adds_to_the_same_pledge(app, runner):
    assert runner.invoke(args=["seed-demo", "--signatures", "5"]).exit_code == 0
    assert runner.invoke(args=["seed-demo", "--signatures", "5"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1
        assert tally_for(db.session.scalar(select(Pledge.id))).total == 10


def test_deliver_mail_sends_the_outbox(app, runner, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        sign_via_form(client, pledge, email="cli@example.org")
    assert read_outbox(outbox_dir) == []
    result = runner.invoke(args=["deliver-mail"])
    assert result.exit_code == 0
    assert "sent 1" in result.output
    assert [m["To"] for m in read_outbox(outbox_dir)] == ["cli@example.org"]


def test_recount_repairs_counters(app, runner):
    runner.invoke(args=["seed-demo", "--signatures", "20"])
    with app.app_context():
        pledge_id = db.session.scalar(select(Pledge.id))
        signature = db.session.scalar(select(Signature).limit(1))
        signature.status = "hidden"  # changed behind the services' back
        db.session.commit()
        assert tally_for(pledge_id).total == 20
    result = runner.invoke(args=["recount"])
    assert "joining-forces: 19 confirmed" in result.output
    with app.app_context():
        assert tally_for(pledge_id).total == 19
