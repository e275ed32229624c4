"""The signer's private page: what they signed, how they appear, withdrawing."""

from __future__ import annotations

from sqlalchemy import select

from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.models import Signature
from tests.factories import make_pledge
from tests.helpers import (
    confirm_via_link,
    csrf_token,
    deliver_and_read,
    links_in,
    sign_via_form,
    signer_page,
)


def signed_and_confirmed(client, outbox_dir, pledge, **fields) -> str:
    sign_via_form(client, pledge, **fields)
    message = deliver_and_read(outbox_dir)[-1]
    links = links_in(message)
    confirm_via_link(client, links["confirm"])
    return links["me"]


def test_private_page_shows_what_i_signed(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    required, optional, unchosen = pledge.commitments
    me = signed_and_confirmed(
        client,
        outbox_dir,
        pledge,
        name="Christian Ngendahimana",
        country="BI",
        commitments=[str(required.id), str(optional.id)],
        personal_note="For Burundi.",
    )
    page = client.get(me)
    assert page.status_code == 200
    assert "noindex" in page.text
    for text in ("Christian Ngendahimana", "Burundi", "For Burundi."):
        assert text in page.text
    committed = page.text.split('id="commitments"')[1].split("</ol>")[0]
    assert required.text in committed and optional.text in committed
    assert unchosen.text not in committed
    assert "You are in cycle 1" in page.text
    assert db.session.scalar(select(Signature.verification_code)) in page.text


def test_changing_visibility_changes_the_wall(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signed_and_confirmed(client, outbox_dir, pledge, name="Babar Bashir", country="PK")
    assert "Babar Bashir" in client.get(f"/p/{pledge.slug}/wall").text

    token = csrf_token(client.get(me).text)
    response = client.post(
        f"{me}/visibility",
        data={"vis-csrf_token": token, "vis-visibility": "anonymous", "vis-organization": ""},
    )
    assert response.status_code == 302
    wall = client.get(f"/p/{pledge.slug}/wall").text
    assert "Babar" not in wall
    assert "Anonymous ally" in wall and "Pakistan" in wall

    refused = client.post(
        f"{me}/visibility",
        data={
            "vis-csrf_token": token,
            "vis-visibility": "organization",
            "vis-organization": "",
        },
    )
    assert refused.status_code == 400
    assert "tell us its name" in refused.text
    assert db.session.scalar(select(Signature.visibility)) == "anonymous"


def test_withdrawing_erases_personal_data_and_drops_the_counts(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signed_and_confirmed(
        client,
        outbox_dir,
        pledge,
        name="Inoka Priyadarshani",
        email="inoka@example.org",
        organization="ASKE",
        personal_note="Sri Lanka needs allies.",
        country="LK",
    )
    assert tally_for(pledge.id).total == 1
    token = csrf_token(client.get(me).text)

    not_ticked = client.post(f"{me}/withdraw", data={"wd-csrf_token": token})
    assert not_ticked.status_code == 400
    assert "Tick the box" in not_ticked.text
    assert db.session.scalar(select(Signature.status)) == "confirmed"

    response = client.post(f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    signature = db.session.scalar(select(Signature))
    assert signature.status == "withdrawn"
    assert signature.withdrawn_at is not None
    assert (signature.full_name, signature.email, signature.email_normalized) == (
        "",
        None,
        None,
    )
    assert (signature.organization_name, signature.personal_note) == ("", "")
    tally = tally_for(pledge.id)
    assert (tally.total, tally.by_country, tally.by_role) == (0, {}, {})
    assert "Inoka" not in client.get(f"/p/{pledge.slug}/wall").text
    page = client.get(me)
    assert "You withdrew this signature" in page.text
    assert "Inoka" not in page.text

    # The address is free again: signing anew is a new signature.
    sign_via_form(client, pledge, email="inoka@example.org")
    assert len(db.session.scalars(select(Signature)).all()) == 2


def test_withdrawing_a_pending_signature_leaves_counts_alone(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    make_confirmed = signed_and_confirmed(client, outbox_dir, pledge, email="a@example.org")
    assert make_confirmed
    sign_via_form(client, pledge, email="b@example.org")
    me = links_in(deliver_and_read(outbox_dir)[-1])["me"]
    token = csrf_token(client.get(me).text)
    client.post(f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})
    assert tally_for(pledge.id).total == 1


def test_the_private_page_takes_a_commitment_sent_twice_once(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    first, third = pledge.commitments[0].id, pledge.commitments[2].id
    me = signer_page(client, outbox_dir, pledge)
    token = csrf_token(client.get(me).text)
    response = client.post(
        f"{me}/commitments",
        data={"cm-csrf_token": token, "cm-commitments": [str(first), str(third), str(third)]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    signature = db.session.scalar(select(Signature))
    assert signature.active_commitment_ids() == {first, third}
