"""The signer's private page: what they signed, how they appear, withdrawing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from pledges.domain.cycles import cycle_at, renewal_is_open, renewal_opens_at
from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.models import Signature
from pledges.presentation.display import format_date
from tests.factories import confirmed_signature, make_pledge
from tests.helpers import (
    action_form_data,
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


def section_of(html: str, section_id: str) -> str:
    """The markup of the page's <section id="section_id">."""
    start = html.rindex("<section", 0, html.index(f'id="{section_id}"'))
    return html[start : html.index("</section>", start)]


def test_the_summary_comes_first_with_a_menu_to_every_section(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signed_and_confirmed(
        client, outbox_dir, pledge, name="Shanthi Perera", country="LK", visibility="initial"
    )
    page = client.get(me).text
    summary = section_of(page, "summary")
    assert page.index('id="summary"') < page.index('id="commitments"') < page.index('id="public"')
    assert "Confirmed on" in summary
    # The entry in the wall's own markup, as the wall shows it today.
    wall = client.get(f"/p/{pledge.slug}/wall").text
    entry = summary.split('<div class="signer">')[1].split("</div>")[0]
    assert '<p class="signer-name"><bdi>Shanthi P.</bdi></p>' in entry
    assert '<p class="signer-name"><bdi>Shanthi P.</bdi></p>' in wall
    assert "Sri Lanka" in entry and "Perera" not in entry
    signature = db.session.scalar(select(Signature))
    next_checkin = format_date(cycle_at(signature).end)
    assert f"Next check-in: <strong>{next_checkin}</strong>" in summary
    # The three main actions.
    assert f'href="{me}/actions/new">Log an action</a>' in summary
    assert 'href="#share">Share the pledge</a>' in summary
    assert f'href="{me}/pledge.pdf">Download signed PDF</a>' in summary
    # The menu: every link leads to a section of this page.
    menu = summary.split('aria-label="On this page"')[1].split("</nav>")[0]
    anchors = re.findall(r'href="#([\w-]+)"', menu)
    assert {
        "commitments",
        "public",
        "actions",
        "signed-pledge",
        "partners",
        "data",
    } <= set(anchors)
    for anchor in anchors:
        assert f'id="{anchor}"' in page, anchor
    # The archival PDF in plain words.
    signed = section_of(page, "signed-pledge")
    assert "Archival copy (PDF/A, for records offices)" in signed
    assert "archives, courts and registries keep for the long term" in signed


def test_a_pending_signature_has_no_actions_to_offer_yet(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge)
    me = links_in(deliver_and_read(outbox_dir)[-1])["me"]
    summary = section_of(client.get(me).text, "summary")
    assert "Waiting for you to confirm" in summary
    assert "On the wall: not shown now." in summary
    assert "Log an action" not in summary and "Download signed PDF" not in summary
    assert "Next check-in" not in summary


def test_messages_are_shown_in_the_section_the_person_lands_on(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signed_and_confirmed(client, outbox_dir, pledge)
    token = csrf_token(client.get(f"{me}/actions/new").text)
    response = client.post(
        f"{me}/actions/new", data={**action_form_data(pledge), "csrf_token": token}
    )
    assert response.headers["Location"].endswith("#actions")
    page = client.get(response.headers["Location"]).text
    assert page.count("Action logged. Thank you for following through.") == 1
    assert "Action logged." in section_of(page, "actions")
    assert "Action logged." not in section_of(page, "summary")

    token = csrf_token(page)
    response = client.post(
        f"{me}/visibility",
        data={"vis-csrf_token": token, "vis-visibility": "anonymous", "vis-organization": ""},
    )
    assert response.headers["Location"].endswith("#public")
    page = client.get(response.headers["Location"]).text
    assert "Saved: the wall now shows you as you chose." in section_of(page, "public")
    assert "Saved:" not in section_of(page, "actions")
    # Shown once: the next page has no message left.
    assert "Saved:" not in client.get(me).text

    # A form sent back with errors opens at its own section, not at the top.
    refused = client.post(
        f"{me}/visibility",
        data={"vis-csrf_token": token, "vis-visibility": "organization", "vis-organization": ""},
    )
    assert refused.status_code == 400
    assert f'action="{me}/visibility#public"' in refused.text
    assert "tell us its name" in section_of(refused.text, "public")


def test_renewal_is_offered_near_the_cycles_end_not_on_day_one(app, client, outbox_dir):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def page_at(days: float) -> str:
        with time_machine.travel(start + timedelta(days=days), tick=False):
            with app.app_context():
                return client.get(me).text

    with time_machine.travel(start, tick=False), app.app_context():
        pledge = make_pledge()  # 30-day cycles
        required, optional, _ = (c.id for c in pledge.commitments)
        me = signed_and_confirmed(client, outbox_dir, pledge)

    day_one = page_at(0.1)
    assert "Renew for the next cycle" not in day_one and 'href="#renew"' not in day_one
    assert "You can renew for cycle 2 from 18 March 2026." in day_one
    assert "Renew for the next cycle" not in page_at(15)
    near_the_end = page_at(16.5)
    assert "Renew for the next cycle" in near_the_end and 'href="#renew"' in near_the_end

    # Renewed near the end of cycle 1: not asked again until near the end of cycle 2.
    with time_machine.travel(start + timedelta(days=20), tick=False), app.app_context():
        token = csrf_token(client.get(me).text)
        renewed = client.post(
            f"{me}/commitments",
            data={"cm-csrf_token": token, "cm-commitments": [str(required), str(optional)]},
        )
        assert renewed.headers["Location"].endswith("#commitments")
        after = client.get(renewed.headers["Location"]).text
        assert "Renewed." in section_of(after, "commitments")
    assert "Renew for the next cycle" not in page_at(31)
    assert "Renew for the next cycle" in page_at(47)
    # Cycle 3 reached without renewing for it: offered all through.
    assert "Renew for the next cycle" in page_at(61)


def test_renewal_window_rule(app_ctx):
    pledge = make_pledge()
    signature = confirmed_signature(pledge)
    confirmed = signature.confirmed_at
    assert not renewal_is_open(signature, confirmed + timedelta(days=1))
    assert renewal_is_open(signature, confirmed + timedelta(days=16))
    assert renewal_opens_at(signature, confirmed) == confirmed + timedelta(days=16)
    # A cycle shorter than two windows: its last half.
    pledge.checkin_cadence_days = 10
    assert renewal_opens_at(signature, confirmed) == confirmed + timedelta(days=5)
    assert not renewal_is_open(signature, confirmed + timedelta(days=4))
    # The next cycle begun without renewing for it.
    assert renewal_is_open(signature, confirmed + timedelta(days=11))
    signature.renewed_for_cycle = 2
    assert not renewal_is_open(signature, confirmed + timedelta(days=11))
