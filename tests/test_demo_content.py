"""Demo content that makes sense: names that fit the roles, signers due for a check-in right
after seeding, actions at their own times, and the pledge in French and Spanish."""

from __future__ import annotations

from datetime import timedelta

from faker.providers.person.en_KE import Provider as KenyanNames
from sqlalchemy import select

from pledges.demo import DEMO_SLUG, NAMES, TRANSLATIONS
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import Action, Signature
from tests.helpers import read_outbox

CYCLE = timedelta(days=30)  # the demo pledge's check-in cadence


def seed(runner, count: int = 300) -> None:
    result = runner.invoke(args=["seed-demo", "--signatures", str(count), "--seed", "7"])
    assert result.exit_code == 0, result.output


def test_send_reminders_has_something_to_send_right_after_seeding(app, runner, outbox_dir):
    seed(runner)
    with app.app_context():
        now = utcnow()
        due = db.session.scalars(select(Signature).where(Signature.next_checkin_at <= now)).all()
        # Several, not everyone: those whose cycle ended since reminders last went out.
        assert 3 <= len(due) <= 300 * 0.15
        # Each is past a cycle's end, and was reminded of every cycle before it.
        for signature in due:
            ended = (now - signature.confirmed_at) // CYCLE
            assert ended >= 1
            assert signature.next_checkin_at == signature.confirmed_at + ended * CYCLE
            assert signature.last_reminded_cycle == ended - 1
        # Nobody else is behind: every other next check-in is the end of the current cycle.
        later = db.session.scalars(select(Signature).where(Signature.next_checkin_at > now)).all()
        assert len(later) == 300 - len(due)
        assert all(s.next_checkin_at - now <= CYCLE for s in later)
        due_count = len(due)
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert f"{due_count} reminders queued" in result.output
    assert runner.invoke(args=["deliver-mail"]).exit_code == 0
    reminders = read_outbox(outbox_dir)
    assert len(reminders) == due_count
    assert all("Check-in" in m["Subject"] or "reminder" in m["Subject"] for m in reminders)
    # Once sent, not again.
    assert "0 reminders queued" in runner.invoke(args=["send-reminders"]).output


def test_demo_actions_are_logged_at_their_own_times(app, runner):
    seed(runner)
    with app.app_context():
        now = utcnow()
        times = db.session.scalars(select(Action.created_at)).all()
        assert len(times) >= 40
        assert len(set(times)) == len(times)
        assert all(t <= now for t in times)
        # Spread over the campaign, not bunched at the moment of seeding.
        assert min(times) < now - timedelta(days=30)
        assert sum(t > now - timedelta(hours=1) for t in times) <= 2
        # Each logged after its signer confirmed, on the day it was done.
        rows = db.session.execute(
            select(Action.created_at, Action.done_on, Signature.confirmed_at).join(
                Signature, Signature.id == Action.signature_id
            )
        ).all()
        assert all(c <= t and t.date() == d for t, d, c in rows)


def test_demo_names_fit_the_roles(app, runner):
    seed(runner)
    men_ke, women_ke = set(KenyanNames.first_names_male), set(KenyanNames.first_names_female)
    with app.app_context():
        rows = db.session.execute(
            select(Signature.full_name, Signature.role, Signature.country)
        ).all()
    checked = 0
    for full_name, role, country in rows:
        first = full_name.rsplit(" ", 1)[0]
        if country in NAMES:
            men, women, families = NAMES[country]
            assert full_name.rsplit(" ", 1)[1] in families
        elif country == "KE":
            men, women = men_ke, women_ke
        else:
            continue
        if role == "man":
            assert first in men, (full_name, role, country)
            checked += 1
        elif role == "woman":
            assert first in women, (full_name, role, country)
            checked += 1
    assert checked >= 50
    countries = {country for _, _, country in rows}
    assert {"KE", "PK", "LK", "BI", "NL"} <= countries


def test_seeded_demo_pledge_reads_in_french_and_spanish(app, runner, client):
    seed(runner, count=5)
    for language in ("fr", "es"):
        page = client.get(f"/p/{DEMO_SLUG}?lang={language}").text
        assert TRANSLATIONS[language]["title"] in page
        assert "content-fallback" not in page


def test_seeded_demo_pledge_reads_in_swahili_and_urdu(app, runner, client):
    seed(runner, count=5)
    # Swahili as a content language (the interface does not speak it yet).
    page = client.get(f"/p/{DEMO_SLUG}?content=sw").text
    assert TRANSLATIONS["sw"]["title"] in page
    assert TRANSLATIONS["sw"]["commitments"][0] in page
    # Urdu, interface and content, right to left.
    page = client.get(f"/p/{DEMO_SLUG}?lang=ur").text
    assert TRANSLATIONS["ur"]["title"] in page
    assert TRANSLATIONS["ur"]["commitments"][-1] in page
    assert 'lang="ur" dir="rtl"' in page
    assert "content-fallback" not in page
