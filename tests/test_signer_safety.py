"""Signer safety on every public surface: anonymous means anonymous, a signer is shown only
from when they chose, public ids that cannot be linked, small counts protected.

Read as an adversary would: combine what the surfaces say, and compare snapshots taken
before and after a signer changes how they appear.
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from pledges.actions.service import ActionInput, log_action
from pledges.domain import transitions
from pledges.dossier import service as dossier_service
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.me import service as me_service
from pledges.models import Organization, Publication, Signature, Visibility
from pledges.moderation import service as moderation_service
from pledges.organize import service as organize_service
from tests.factories import confirmed_signature, make_pledge

TIME_OF_DAY = re.compile(r"\b\d{1,2}:\d{2}\b")
SIGNER_BLOCK = re.compile(r'<li class="signer">(.*?)</li>', re.S)
REPORT_LINK = re.compile(r"/report/([^\"'<>\s]+)")
# The surfaces that list every signer shown.
FULL_LISTS = ("wall", "actions", "feed", "api signatures", "dossier")
FEED_ID = re.compile(r"<id>[^<]*/signature/([^<]+)</id>")


def times_of_day(text: str) -> list[str]:
    # Atom's date-times carry the day at 00:00 UTC, which is no time of day.
    return TIME_OF_DAY.findall(re.sub(r"T00:00:00(\+00:00|Z)", "T", text))


def pdf_words(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def act(signature: Signature, description: str) -> None:
    log_action(
        signature,
        ActionInput(
            commitment_id=signature.pledge.commitments[0].id,
            kind="advocacy",
            done_on=utcnow().date(),
            description=description,
            people_reached=3,
            evidence_url=None,
            visibility="public",
        ),
    )
    db.session.commit()


# The privacy sweep.


def test_every_public_surface_shows_each_signer_only_as_they_chose(client, app_ctx, tmp_path):
    pledge = make_pledge(slug="sweep")
    signers = []
    for n, (visibility, show_role, publication) in enumerate(
        product(Visibility, (False, True), Publication)
    ):
        organization = f"Orgname{n}"
        db.session.add(Organization(slug=f"orgname{n}", name=organization))
        db.session.commit()
        signature = confirmed_signature(
            pledge,
            name=f"Zedname{n} Surname{n}",
            email=f"sweep{n}@example.org",
            country="KE",
            role="man",
            organization=organization,
            visibility=visibility.value,
            show_role=show_role,
            publication=publication.value,
            personal_note=f"Note{n}",
        )
        act(signature, f"Deed{n}")
        signers.append(signature)

    shown = [s for s in signers if s.publication == Publication.NOW]
    public_ids = {s.public_id for s in signers}

    surfaces = {
        "pledge page": client.get("/p/sweep").text,
        "wall": client.get("/p/sweep/wall").text,
        "wall by country": client.get("/p/sweep/wall?country=KE").text,
        "wall by role": client.get("/p/sweep/wall?role=man").text,
        "wall by both": client.get("/p/sweep/wall?country=KE&role=man").text,
        "actions": client.get("/p/sweep/actions").text,
        "feed": client.get("/p/sweep/feed.atom").text,
        "embed": client.get("/p/sweep/embed").text,
        "api list": client.get("/api/v1/pledges").text,
        "api detail": client.get("/api/v1/pledges/sweep").text,
        "api signatures": client.get("/api/v1/pledges/sweep/signatures").text,
        "api by country": client.get("/api/v1/pledges/sweep/signatures?country=KE").text,
        "api by role": client.get("/api/v1/pledges/sweep/signatures?role=man").text,
    }
    for n in range(len(signers)):
        surfaces[f"organization {n}"] = client.get(f"/orgs/orgname{n}").text
    for signature in signers:
        page = client.get(f"/verify/{signature.verification_code}")
        assert page.status_code == 200
        surfaces[f"verify {signature.verification_code}"] = page.text
    dossier = dossier_service.request_dossier(pledge, "officials")
    db.session.commit()
    dossier_service.issue(dossier, tmp_path / "dossier.pdf", part_size=50)
    surfaces["dossier"] = pdf_words((tmp_path / "dossier.pdf").read_bytes())
    assert '<meta property="og:title"' in surfaces["pledge page"]  # Open Graph is scanned

    for where, text in surfaces.items():
        text = html.unescape(text)
        assert "@example.org" not in text, where
        assert not times_of_day(text), (where, times_of_day(text)[:3])
        for link in REPORT_LINK.findall(text):
            assert link in public_ids, (where, link)
        for n, signature in enumerate(signers):
            published = signature in shown
            # The verification page is reached with the signer's own code, from their PDF:
            # it shows them as their visibility allows, whenever they chose to be listed.
            listed = published or where == f"verify {signature.verification_code}"
            named = listed and signature.visibility == Visibility.FULL
            initial = listed and signature.visibility in (Visibility.FULL, Visibility.INITIAL)
            with_org = listed and signature.visibility in (
                Visibility.FULL,
                Visibility.ORGANIZATION,
            )
            found = bool(re.search(rf"\bSurname{n}\b", text))
            assert found <= named, (where, n)
            if where in FULL_LISTS:
                assert found == named, (where, n)
            if not initial:
                assert not re.search(rf"\bZedname{n}\b", text), (where, n)
            if where == f"organization {n}":
                # The organization's own page: it shows a member only once published.
                assert ("No member has chosen" in text) == (not with_org), (where, n)
            elif not with_org:
                assert not re.search(rf"\bOrgname{n}\b", text), (where, n)
            if not published:
                assert not re.search(rf"\b(Deed|Note){n}\b", text), (where, n)

    # Dates only: every <time> on the wall is a day, and so is every API date.
    for value in re.findall(r'datetime="([^"]+)"', surfaces["wall"]):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    api = client.get("/api/v1/pledges/sweep/signatures").json["data"]
    assert len(api) == len(shown)
    assert {entry["id"] for entry in api} == {s.public_id for s in shown}
    assert {entry["id"] for entry in api}.isdisjoint({str(s.id) for s in signers})
    for entry in api:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["public_since"])
    # The role only where the signer chose to show it.
    assert sorted(e["role"] or "" for e in api) == sorted(
        "man" if s.show_role else "" for s in shown
    )
    wall_blocks = SIGNER_BLOCK.findall(surfaces["wall"])
    assert len(wall_blocks) == len(shown)
    assert sum("Man" in block for block in wall_blocks) == sum(s.show_role for s in shown)
    # Four unnamed signers shown from Kenya: too few for their country to show.
    unnamed = {
        s.public_id
        for s in shown
        if s.visibility in (Visibility.ANONYMOUS, Visibility.ORGANIZATION)
    }
    assert len(unnamed) == 4
    assert {e["id"] for e in api if e["country"] is None} == unnamed
    # Filters list only what entries show: no role filter match without a shown role, no
    # country filter match for an entry whose country is withheld.
    by_country = client.get("/api/v1/pledges/sweep/signatures?country=KE").json["data"]
    assert {e["id"] for e in by_country} == {s.public_id for s in shown} - unnamed
    by_role = client.get("/api/v1/pledges/sweep/signatures?role=man").json["data"]
    assert {e["id"] for e in by_role} == {s.public_id for s in shown if s.show_role}
    assert len(SIGNER_BLOCK.findall(surfaces["wall by both"])) == 2
    # Feed ids are public ids.
    assert set(FEED_ID.findall(surfaces["feed"])) == {s.public_id for s in shown}
    # Everyone counts at once, whenever they are shown.
    assert client.get("/api/v1/pledges/sweep").json["counts"]["total"] == len(signers)


# Public ids.


def test_a_change_of_appearance_gives_a_new_public_id_and_the_old_links_die(client, app_ctx):
    with time_machine.travel(datetime(2026, 3, 2, 14, 5, tzinfo=UTC), tick=False):
        pledge = make_pledge()
        signature = confirmed_signature(pledge, name="Kofi Mensah", country="GH")
    assert signature.public_since == datetime(2026, 3, 2, tzinfo=UTC)
    slug = pledge.slug
    seen = {signature.public_id}
    old_report = f"/p/{slug}/report/{signature.public_id}"
    assert client.get(old_report).status_code == 200
    wall = client.get(f"/p/{slug}/wall").text
    assert f'href="{old_report}"' in wall

    with time_machine.travel(datetime(2026, 3, 9, 10, 0, tzinfo=UTC), tick=False):
        me_service.change_visibility(signature, "anonymous", "")
        db.session.commit()
    # A new id; the old report link is dead, not redirected; and the entry moved to the
    # day of the change, so its old place on the wall does not name it either.
    assert signature.public_id not in seen
    assert client.get(old_report).status_code == 404
    assert signature.public_since == datetime(2026, 3, 9, tzinfo=UTC)
    wall = client.get(f"/p/{slug}/wall").text
    assert "Kofi" not in wall and f"/report/{signature.public_id}" in wall
    seen.add(signature.public_id)

    # Every other change of how the entry appears gives a new id too.
    changes = [
        lambda: transitions.change_visibility(signature, "anonymous", "", None, show_role=True),
        lambda: transitions.change_visibility(signature, "anonymous", "", None, show_role=False),
        lambda: transitions.set_publication(signature, Publication.WEEK),
        lambda: transitions.set_publication(signature, Publication.NOW),
        lambda: transitions.self_hide(signature),
        lambda: transitions.self_unhide(signature),
        lambda: moderation_service.hide(signature, "unsafe"),
        lambda: moderation_service.unhide(signature, "reviewed"),
    ]
    for change in changes:
        change()
        db.session.commit()
        assert signature.public_id not in seen
        seen.add(signature.public_id)
    assert client.get(f"/p/{slug}/report/{signature.public_id}").status_code == 200
    assert client.get(f"/p/{slug}/report/{signature.id}").status_code == 404


def test_a_less_identifying_change_moves_the_entry_to_the_day_of_the_change(app_ctx):
    with time_machine.travel(datetime(2026, 3, 2, 8, tzinfo=UTC), tick=False):
        pledge = make_pledge()
        signature = confirmed_signature(pledge, visibility="full", show_role=True)
    with time_machine.travel(datetime(2026, 3, 5, 8, tzinfo=UTC), tick=False):
        # More identifying: keeps its place.
        transitions.change_visibility(signature, "full", "", None, show_role=True)
        assert signature.public_since == datetime(2026, 3, 2, tzinfo=UTC)
        # Role hidden: less identifying, moves.
        transitions.change_visibility(signature, "full", "", None, show_role=False)
        assert signature.public_since == datetime(2026, 3, 5, tzinfo=UTC)


def test_what_the_public_saw_beside_a_name_is_not_shown_beside_the_new_appearance(
    client, app_ctx, tmp_path
):
    """Snapshots compared over time: the note and the actions shown beside "Wanjiru Kamau"
    would name the anonymous entry that replaces her, so they are not shown beside it."""
    with time_machine.travel(datetime(2026, 3, 2, 8, tzinfo=UTC), tick=False):
        pledge = make_pledge()
        signature = confirmed_signature(
            pledge, name="Wanjiru Kamau", personal_note="For my sisters in Kisumu"
        )
        act(signature, "Ran the first listening circle at the Kisumu market")
    slug = pledge.slug
    before = client.get(f"/p/{slug}/actions").text + client.get(f"/p/{slug}/wall").text
    assert "Kisumu market" in before and "For my sisters in Kisumu" in before

    with time_machine.travel(datetime(2026, 3, 9, 8, tzinfo=UTC), tick=False):
        me_service.change_visibility(signature, "anonymous", "")
        db.session.commit()
        act(signature, "Spoke at the district peace committee")
        pages = "".join(
            client.get(url).text
            for url in (
                f"/p/{slug}",
                f"/p/{slug}/wall",
                f"/p/{slug}/actions",
                f"/p/{slug}/feed.atom",
                f"/p/{slug}/embed",
                f"/api/v1/pledges/{slug}/signatures",
            )
        )
        path = tmp_path / "dossier.pdf"
        dossier = dossier_service.request_dossier(pledge, "officials")
        db.session.commit()
        dossier_service.issue(dossier, path, part_size=50)
        pages += pdf_words(path.read_bytes())
    assert "Wanjiru" not in pages
    assert "Kisumu" not in pages  # neither the old action nor the old note
    assert "district peace committee" in pages  # what she does from now on is shown
    assert signature.personal_note == "For my sisters in Kisumu"  # still hers, only not shown


# Publication when the signer chooses.


def on_wall(client, slug: str) -> set[str]:
    return {e["name"] for e in client.get(f"/api/v1/pledges/{slug}/signatures").json["data"]}


@pytest.mark.parametrize(("publication", "days"), [("week", 7), ("month", 30)])
def test_delayed_signers_are_shown_from_the_day_they_chose(client, app_ctx, publication, days):
    signed = datetime(2026, 5, 10, 16, 45, tzinfo=UTC)
    with time_machine.travel(signed, tick=False):
        pledge = make_pledge()
        confirmed_signature(pledge, name="Patient Ally", publication=publication)
    slug = pledge.slug
    day = datetime(2026, 5, 10, tzinfo=UTC) + timedelta(days=days)
    with time_machine.travel(day - timedelta(seconds=1), tick=False):
        assert on_wall(client, slug) == set()
        assert "Patient Ally" not in client.get(f"/p/{slug}/feed.atom").text
        # Counted at once.
        assert client.get(f"/api/v1/pledges/{slug}").json["counts"]["total"] == 1
    with time_machine.travel(day, tick=False):
        assert on_wall(client, slug) == {"Patient Ally"}
        assert "Patient Ally" in client.get(f"/p/{slug}/feed.atom").text


def test_never_is_counted_and_never_shown(client, app_ctx):
    pledge = make_pledge()
    confirmed_signature(pledge, name="Counted Only", publication="never")
    with time_machine.travel(utcnow() + timedelta(days=400), tick=False):
        assert on_wall(client, pledge.slug) == set()
        assert client.get(f"/api/v1/pledges/{pledge.slug}").json["counts"]["total"] == 1


def test_on_close_signers_are_shown_while_the_pledge_is_closed(client, app_ctx):
    with time_machine.travel(datetime(2026, 6, 1, 9, tzinfo=UTC), tick=False):
        pledge = make_pledge()
        confirmed_signature(pledge, name="Closing Ally", publication="on_close")
        confirmed_signature(pledge, name="Early Ally")
    slug = pledge.slug
    assert on_wall(client, slug) == {"Early Ally"}
    with time_machine.travel(datetime(2026, 6, 20, 18, tzinfo=UTC), tick=False):
        organize_service.close_pledge(pledge)
        db.session.commit()
        assert on_wall(client, slug) == {"Early Ally", "Closing Ally"}
        signature = db.session.scalar(
            select(Signature).where(Signature.full_name == "Closing Ally")
        )
        assert signature.public_since == datetime(2026, 6, 20, tzinfo=UTC)
        organize_service.open_pledge(pledge)
        db.session.commit()
        assert on_wall(client, slug) == {"Early Ally"}


@pytest.mark.config(WALL_CACHE_SECONDS=86_400)
def test_cached_wall_pages_turn_over_at_midnight_utc(client, app_ctx):
    with time_machine.travel(datetime(2026, 7, 1, 12, tzinfo=UTC), tick=False):
        pledge = make_pledge()
        confirmed_signature(pledge, name="Next Week Ally", publication="week")
    slug = pledge.slug
    with time_machine.travel(datetime(2026, 7, 7, 23, 59, 50, tzinfo=UTC), tick=False):
        assert "Next Week Ally" not in client.get(f"/p/{slug}/wall").text
        assert "Next Week Ally" not in client.get(f"/p/{slug}/wall").text  # served cached
    with time_machine.travel(datetime(2026, 7, 8, 0, 0, 10, tzinfo=UTC), tick=False):
        assert "Next Week Ally" in client.get(f"/p/{slug}/wall").text
        assert "Next Week Ally" in client.get(f"/p/{slug}/feed.atom").text


# Self-hiding.


def test_a_self_hidden_signer_is_on_no_public_surface_but_still_counted(client, app_ctx):
    pledge = make_pledge()
    signature = confirmed_signature(pledge, name="Hiding Ally", personal_note="My words")
    act(signature, "My deed")
    slug, code, old = pledge.slug, signature.verification_code, signature.public_id
    transitions.self_hide(signature)
    db.session.commit()
    for url in (
        f"/p/{slug}/wall",
        f"/p/{slug}/actions",
        f"/p/{slug}/feed.atom",
        f"/api/v1/pledges/{slug}/signatures",
        f"/verify/{code}",
    ):
        text = client.get(url).text
        assert "Hiding Ally" not in text and "My deed" not in text and "My words" not in text, url
    assert client.get(f"/p/{slug}/report/{old}").status_code == 404
    assert client.get(f"/p/{slug}/report/{signature.public_id}").status_code == 404
    assert client.get(f"/api/v1/pledges/{slug}").json["counts"]["total"] == 1
    transitions.self_unhide(signature)
    db.session.commit()
    assert on_wall(client, slug) == {"Hiding Ally"}
    assert signature.public_id != old


# Small-count protection.


def test_small_counts_are_fewer_than_the_minimum_and_unnamed_signers_lose_their_country(
    client, app_ctx
):
    pledge = make_pledge()
    slug = pledge.slug
    for n in range(4):
        confirmed_signature(pledge, name=f"Quiet {n}", visibility="anonymous", country="KE")
    wall = client.get(f"/p/{slug}/wall").text
    blocks = SIGNER_BLOCK.findall(wall)
    assert len(blocks) == 4 and not any("Kenya" in block for block in blocks)
    breakdown = wall.split('class="breakdown"', 1)[1]
    assert "fewer than 5" in breakdown and 'value="4"' not in breakdown
    assert client.get(f"/api/v1/pledges/{slug}").json["counts"]["by_country"] == {"KE": None}
    # Filtering by the country finds none of them: the filter is no way around it.
    assert not SIGNER_BLOCK.findall(client.get(f"/p/{slug}/wall?country=KE").text)
    assert client.get(f"/api/v1/pledges/{slug}/signatures?country=KE").json["data"] == []

    confirmed_signature(pledge, name="Quiet 4", visibility="anonymous", country="KE")
    wall = client.get(f"/p/{slug}/wall").text
    blocks = SIGNER_BLOCK.findall(wall)
    assert len(blocks) == 5 and all("Kenya" in block for block in blocks)
    assert client.get(f"/api/v1/pledges/{slug}").json["counts"]["by_country"] == {"KE": 5}
    assert len(client.get(f"/api/v1/pledges/{slug}/signatures?country=KE").json["data"]) == 5
    assert client.get(f"/api/v1/pledges/{slug}").json["counts"]["total"] == 5


def test_a_lone_small_count_cannot_be_worked_out_from_the_total(client, app_ctx):
    """Burundi 2 of a total 15 would be 15 - 6 - 7: the smallest exact cell is withheld too."""
    pledge = make_pledge()
    for country, signers in (("KE", 6), ("UG", 7), ("BI", 2)):
        for n in range(signers):
            confirmed_signature(pledge, name=f"Named {country} {n}", country=country)
    counts = client.get(f"/api/v1/pledges/{pledge.slug}").json["counts"]
    assert counts["total"] == 15
    assert counts["by_country"] == {"UG": 7, "KE": None, "BI": None}
    breakdown = client.get(f"/p/{pledge.slug}/wall").text.split('class="breakdown"', 1)[1]
    assert "fewer than 5" in breakdown and "not shown" in breakdown
    assert 'value="6"' not in breakdown and 'value="2"' not in breakdown

    # With two small cells, neither is known from the total: nothing more is withheld.
    confirmed_signature(pledge, name="Named NL", country="NL")
    counts = client.get(f"/api/v1/pledges/{pledge.slug}").json["counts"]
    assert counts["by_country"] == {"UG": 7, "KE": 6, "BI": None, "NL": None}


@pytest.mark.config(MIN_PUBLIC_COUNT=1)
def test_a_minimum_of_one_shows_every_count(client, app_ctx):
    pledge = make_pledge()
    confirmed_signature(pledge, visibility="anonymous", country="KE")
    counts = client.get(f"/api/v1/pledges/{pledge.slug}").json["counts"]
    assert counts["by_country"] == {"KE": 1} and counts["min_public_count"] == 1
    assert client.get(f"/api/v1/pledges/{pledge.slug}/signatures").json["data"][0]["country"] == (
        "KE"
    )
