"""The audit log read as sentences: who did what, in the reader's language, with signers
named only as they chose to be shown in public, and no stored codes on the page."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from pathlib import Path

from flask_login import login_user
from sqlalchemy import select

from pledges.extensions import db
from pledges.me import service as me_service
from pledges.models import PledgeStatus, User
from pledges.moderation import service as moderation
from pledges.organize import service as builder
from pledges.presentation.audit_text import ACTION_LABELS, SENTENCES
from tests.factories import (
    FRENCH_COMMITMENTS,
    confirmed_signature,
    make_pledge,
    make_user,
    run_by,
    translate,
)
from tests.helpers import log_in

OWNER = "owner@example.org"
ADMIN = "admin@example.org"
# What the old table showed: dotted act names, "signatures #203", "locale: fr; commitments: [1]".
CODES = re.compile(r"\b[a-z_]+\.[a-z_]+\b|#\d+|\w+: \[")


def visible_text(page: str) -> str:
    """The page's words, as a reader sees them (markup and attribute values dropped)."""
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", main))


def a_pledge_run_by_amina(status=PledgeStatus.OPEN):
    pledge = make_pledge(slug="allies", title="Allies for peace", status=status)
    owner = make_user(OWNER)
    owner.name = "Amina Ochieng"
    db.session.commit()
    run_by(pledge, owner)
    make_user(ADMIN, role="admin")
    return pledge


@contextmanager
def acting_as(app, email: str):
    """A request in which ``email`` is logged in, as when they click in the app."""
    with app.test_request_context():
        login_user(db.session.scalar(select(User).where(User.email == email)))
        yield
        db.session.commit()


def test_a_hidden_anonymous_signer_is_never_named(app, client):
    with app.app_context():
        pledge = a_pledge_run_by_amina()
        signers = [
            confirmed_signature(
                pledge, name="Zainab Secretname", visibility="anonymous", country="KE"
            ),
            confirmed_signature(
                pledge, name="Grace Wanjiru Muthoni", visibility="initial", country="UG"
            ),
            confirmed_signature(pledge, name="Farida Hassan", visibility="full", country="PK"),
        ]
        with acting_as(app, OWNER):
            for signature, reason in zip(signers, ("Unsafe to show", "Spam", "Twice"), strict=True):
                moderation.hide(signature, reason)
    log_in(client, OWNER)
    text = visible_text(client.get("/organize/allies/audit").text)
    assert "Amina Ochieng (organizer) hid the signature of an anonymous signer from Kenya." in text
    assert "hid the signature of Grace M. from Uganda." in text
    assert "hid the signature of Farida Hassan from Pakistan." in text
    assert "Secretname" not in text and "Zainab" not in text and "Wanjiru" not in text
    assert "Unsafe to show" in text  # the why stays beside the what
    assert not CODES.search(text), CODES.search(text)
    queue = visible_text(client.get("/organize/allies/moderation").text)
    assert "hid the signature of an anonymous signer from Kenya." in queue


def test_every_recorded_act_has_words_and_a_label():
    """Each act the code records (``audit.record("…")``) is told in a sentence and named in
    the log's filter: a new act without words fails here, not on an organizer's screen."""
    root = Path(__file__).resolve().parent.parent / "pledges"
    recorded = set()
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        recorded |= set(re.findall(r"""audit\.record\(\s*["']([a-z_]+\.[a-z_]+)["']""", source))
        recorded |= set(re.findall(r"""["']([a-z_]+\.[a-z_]+)["'] if """, source))
        recorded |= set(re.findall(r"""else ["']([a-z_]+\.[a-z_]+)["']""", source))
    # The two report resolutions are written with an f-string.
    recorded |= {"reports.dismiss", "reports.hide"}
    recorded = {name for name in recorded if not name.endswith((".py", ".html", ".pdf"))}
    assert {"signature.hide", "pledge.open", "translation.add", "pledge.reopen"} <= recorded
    assert recorded <= set(SENTENCES), recorded - set(SENTENCES)
    assert set(SENTENCES) == set(ACTION_LABELS)


def test_the_builders_acts_in_english_and_french(app, client):
    with app.app_context():
        pledge = a_pledge_run_by_amina(PledgeStatus.DRAFT)
        with acting_as(app, OWNER):
            builder.open_pledge(pledge)
            translate(pledge, "fr", "Alliés", "Ensemble.", FRENCH_COMMITMENTS)
            builder.reword_commitment(pledge.commitments[0], "Listen to women first")
    log_in(client, OWNER)
    overview = visible_text(client.get("/organize/allies/").text)
    assert "Amina Ochieng (organizer) opened the pledge." in overview
    assert "added a translation into French. It covers commitments 1, 2, and 3." in overview
    assert "reworded commitment 1 from" in overview
    changes = overview.split("What happened", 1)[1]
    assert not CODES.search(changes), CODES.search(changes)

    french = visible_text(
        client.get("/organize/allies/audit", headers={"Accept-Language": "fr"}).text
    )
    assert "Amina Ochieng (organisateur·rice) a ouvert l’engagement." in french
    assert "français" in french
    assert not CODES.search(french), CODES.search(french)

    admin = app.test_client()
    log_in(admin, ADMIN)
    log = visible_text(admin.get("/admin/audit").text)
    assert "opened the pledge." in log and "Allies for peace" in log
    assert "Pledge opened" in log  # the filter names each act in words
    filtered = visible_text(admin.get("/admin/audit?action=pledge.open").text)
    assert "opened the pledge." in filtered and "reworded commitment" not in filtered


def test_a_signer_who_withdrew_is_no_longer_described(app, client):
    with app.app_context():
        pledge = a_pledge_run_by_amina()
        signature = confirmed_signature(pledge, name="Walter Gone", visibility="full")
        with acting_as(app, OWNER):
            moderation.hide(signature, "Spam")
        me_service.withdraw(signature)
        db.session.commit()
    log_in(client, OWNER)
    text = visible_text(client.get("/organize/allies/audit").text)
    assert "hid the signature of a signer who has since withdrawn." in text
    assert "Walter" not in text
