"""An organizer hands a pledge's advocacy dossier to officials, funders or journalists: the
figures, the commitments and the signers, each shown only as they chose."""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from pledges.actions.service import ActionInput, log_action
from pledges.domain import tallies
from pledges.dossier import service
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.me import service as me_service
from pledges.models import (
    AuditEntry,
    Commitment,
    Dossier,
    DossierFile,
    DossierStatus,
    Organization,
    PledgeCosigner,
    PledgeStatus,
    Signature,
    SignatureStatus,
)
from tests.factories import confirmed_signature, make_pledge, make_user, run_by
from tests.helpers import INLINE_OR_FOREIGN, assert_qpdf_valid, csrf_token, log_in


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def words(data: bytes) -> str:
    """The document's text with line breaks and runs of spaces folded: lines wrap anywhere."""
    return " ".join(" ".join(page_texts(data)).split())


def act(signature: Signature, description: str, visibility: str, people: int | None = 5) -> None:
    log_action(
        signature,
        ActionInput(
            commitment_id=signature.pledge.commitments[0].id,
            kind="advocacy",
            done_on=utcnow().date(),
            description=description,
            people_reached=people,
            evidence_url=None,
            visibility=visibility,
        ),
    )
    db.session.commit()


def campaign(slug: str | None = None):
    """A pledge with co-signers and signers of every kind, some of whom must not show."""
    pledge = make_pledge(slug=slug, title="Allies for a just peace")
    for name in ("Women Peace Network", "Chemchemi Ya Ukweli"):
        organization = Organization(slug=name.lower().replace(" ", "-"), name=name)
        db.session.add(organization)
        db.session.flush()
        db.session.add(PledgeCosigner(pledge_id=pledge.id, organization_id=organization.id))
    db.session.commit()
    ip = "203.0.113.9"
    named = confirmed_signature(
        pledge,
        name="Christian Ngendahimana",
        email="christian@example.org",
        country="BI",
        role="man",
        organization="Fountain-ISOKO",
        ip_address=ip,
        personal_note="For the women of my village who rebuilt everything.",
    )
    confirmed_signature(
        pledge, name="Amina Wanjiru Odhiambo", email="amina@example.org", visibility="initial"
    )
    confirmed_signature(
        pledge,
        name="Rahim Qureshi",
        email="rahim@example.org",
        country="PK",
        visibility="organization",
        organization="Just Peace International",
    )
    confirmed_signature(
        pledge, name="Secret Person", email="secret@example.org", visibility="anonymous"
    )
    hidden = confirmed_signature(pledge, name="Hidden Troll", email="troll@example.org")
    gone = confirmed_signature(pledge, name="Withdrawn Walter", email="walter@example.org")
    for n in range(6):  # enough signers in Kenya for the list to run over several parts
        confirmed_signature(pledge, name=f"Kenyan Ally {n}", email=f"ke{n}@example.org")
    act(named, "Took our pledge to the district officer.", "public")
    act(named, "A private conversation with my brother.", "private")
    hidden.status = SignatureStatus.HIDDEN
    me_service.withdraw(gone)
    db.session.commit()
    tallies.recount(pledge.id)
    db.session.commit()
    return pledge


def issue(pledge, audience: str, tmp_path: Path, part_size: int = 3) -> tuple[Dossier, bytes]:
    dossier = service.request_dossier(pledge, audience)
    db.session.commit()
    path = tmp_path / f"{audience}.pdf"
    steps = []
    service.issue(
        dossier, path, progress=lambda done, total: steps.append((done, total)), part_size=part_size
    )
    assert steps[-1][0] == steps[-1][1]  # the progress ends at its total
    return dossier, path.read_bytes()


def test_a_dossier_shows_the_pledge_and_signers_only_as_they_chose(tmp_path, app_ctx):
    pledge = campaign()
    signatures = db.session.scalars(select(Signature)).all()
    dossier, pdf = issue(pledge, "officials", tmp_path, part_size=3)
    text = words(pdf)

    for expected in (
        "Allies for a just peace",
        "DOSSIER FOR OFFICIALS",  # the eyebrow is set in capitals
        "Joined by Women Peace Network and Chemchemi Ya Ukweli",
        "Men and women, together.",
        *(c.text for c in pledge.commitments),
        # The cover's big figure, then its label: the hidden and withdrawn ones do not count.
        "10confirmed signers, from 3 countries",
        "Kenya 8",
        "Burundi fewer than 5",  # small-count protection; the total above is exact
        "Actions logged 2",  # a count, which includes private actions
        "Took our pledge to the district officer.",
        "Christian Ngendahimana (Fountain-ISOKO)",  # full name, with the organization
        "Amina O.",  # initial
        "A member of Just Peace International",  # organization only
        # One entry for the anonymous signer, never a name; with fewer than 5 unnamed
        # signers from Kenya, not even the country.
        "Country not shown",
        "Anonymous ally",
        "Kenyan Ally 5",
        "Kenya (continued)",  # the country ran over into the next part
        dossier.verification_code,
    ):
        assert expected in text, expected
    for absent in (
        "Anonymous ally, Kenya",
        "Amina Wanjiru Odhiambo",
        "Rahim Qureshi",
        "Secret Person",
        "Hidden Troll",
        "Withdrawn Walter",
        "A private conversation with my brother.",
        "@example.org",
    ):
        assert absent not in text, absent
    for signature in signatures:
        if signature.ip_hash:
            assert signature.ip_hash not in text
    assert f"http://pledges.test/verify/dossier/{dossier.verification_code}" in "".join(
        text.split()
    )

    # Numbered 1..n straight through the parts of the list.
    pages = page_texts(pdf)
    assert len(pages) > 4
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"Page {number}\b", page), (number, page[-200:])
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata.title == "Allies for a just peace: advocacy dossier"
    assert_qpdf_valid(pdf, tmp_path)

    db.session.refresh(dossier)
    assert dossier.status == DossierStatus.READY
    assert dossier.sha256 == hashlib.sha256(pdf).hexdigest()
    assert (dossier.pages, dossier.size_bytes, dossier.signatures) == (len(pages), len(pdf), 10)


def test_anyone_can_check_a_copy_of_a_dossier(client, tmp_path, app_ctx):
    pledge = campaign()
    dossier, pdf = issue(pledge, "funders", tmp_path)
    page = client.get(f"/verify/dossier/{dossier.verification_code.lower()}")
    assert page.status_code == 200
    assert "Allies for a just peace" in page.text
    for data, verdict in ((pdf, "Genuine and unchanged"), (pdf + b"\n", "Not the dossier")):
        response = client.post(
            f"/verify/dossier/{dossier.verification_code}",
            data={
                "csrf_token": csrf_token(page.text),
                "document": (io.BytesIO(data), "dossier.pdf"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        assert verdict in response.text
    assert client.get("/verify/dossier/AAAAA-BBBBB").status_code == 404
    # The one lookup form on /verify finds dossiers too.
    typed = client.get("/verify", query_string={"code": dossier.verification_code.lower()})
    found = client.get(typed.headers["Location"])
    assert found.status_code == 302
    assert found.headers["Location"] == f"/verify/dossier/{dossier.verification_code}"


def test_the_audience_changes_the_cover_and_the_sections(tmp_path, app_ctx):
    pledge = campaign()
    texts = {a: words(issue(pledge, a, tmp_path)[1]) for a in ("officials", "funders", "media")}
    assert "DOSSIER FOR OFFICIALS" in texts["officials"]
    assert "ask the institutions they deal with" in texts["officials"]
    assert "FOLLOW-THROUGH REPORT FOR FUNDERS" in texts["funders"]
    assert "Signers check in every 30 days" in texts["funders"]
    assert texts["funders"].index("Follow-through") < texts["funders"].index("The commitments")
    assert "PRESS DOSSIER" in texts["media"]
    # Short: quotes and figures, no list of signers (the wall has it).
    assert "In their own words" in texts["media"]
    assert "For the women of my village who rebuilt everything." in texts["media"]
    assert "The signers" not in texts["media"]
    assert "Kenyan Ally 3" not in texts["media"]
    assert "Kenyan Ally 3" in texts["funders"]


def test_the_command_writes_the_file_and_refuses_an_unknown_slug(app, runner, tmp_path):
    with app.app_context():
        campaign(slug="allies")
    target = tmp_path / "out" / "dossier.pdf"
    target.parent.mkdir()
    result = runner.invoke(
        args=["export-dossier", "allies", "-o", str(target), "--audience", "media"]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ pages, [\d.]+ MB, 10 signatures, in [\d.]+ s", result.output)
    assert "PRESS DOSSIER" in words(target.read_bytes())
    assert [p.name for p in target.parent.iterdir()] == ["dossier.pdf"]  # no temp file left
    with app.app_context():
        dossier = db.session.scalar(select(Dossier))
        assert dossier.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dossier.export"))
        assert entry.actor == "cli" and entry.details["audience"] == "media"

    missing = runner.invoke(args=["export-dossier", "no-such-pledge", "-o", str(tmp_path / "x")])
    assert missing.exit_code != 0
    assert "No pledge with the slug 'no-such-pledge'" in missing.output
    assert not (tmp_path / "x").exists()


def test_an_organizer_builds_previews_and_downloads_a_dossier(app, client, tmp_path):
    with app.app_context():
        pledge = campaign()
        owner = make_user("owner@example.org")
        run_by(pledge, owner)
        make_user("stranger@example.org")
        url = f"/organize/{pledge.slug}/dossier"

    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]

    log_in(client, "stranger@example.org")
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/preview").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/organize/").text)})

    log_in(client, "owner@example.org")
    page = client.get(url)
    assert page.status_code == 200
    assert client.post(url, data={"audience": "officials"}).status_code == 400  # no CSRF token

    preview = client.get(f"{url}/preview?audience=funders")
    assert preview.status_code == 200
    assert "Follow-through report for funders" in preview.text
    for what, pattern in INLINE_OR_FOREIGN:  # the page lives under the same CSP
        assert not pattern.search(preview.text), what
    chart = re.search(r'<img src="([^"]+)"', preview.text).group(1)
    assert client.get(chart).mimetype == "image/svg+xml"

    response = client.post(url, data={"audience": "officials", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    with app.app_context():
        dossier = db.session.scalar(select(Dossier))
        assert dossier.status == DossierStatus.READY
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dossier.export"))
        assert entry.actor == "owner@example.org" and entry.target_id == dossier.id
    page = client.get(url)
    download = f"{url}/{dossier.id}.pdf"
    assert f'href="{download}"' in page.text
    pdf = client.get(download)
    data = pdf.data
    pdf.close()
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert hashlib.sha256(data).hexdigest() == dossier.sha256
    # A large file stored once: an interrupted download resumes where it stopped.
    tail = client.get(download, headers={"Range": f"bytes={len(data) - 10}-"})
    assert tail.status_code == 206 and tail.data == data[-10:]
    # Served from the database, so any app host behind the load balancer can serve it.
    with app.app_context():
        assert db.session.get(DossierFile, dossier.id).content == data
    assert "Christian Ngendahimana" in words(data)


def test_the_dossier_link_leads_to_the_newest_one_for_its_audience(app, client):
    with app.app_context():
        pledge = campaign()
        owner = make_user("owner@example.org")
        run_by(pledge, owner)
        make_user("stranger@example.org")
        build = f"/organize/{pledge.slug}/dossier"
        link = f"/organize/{pledge.slug}/dossier.pdf"

    assert "/login" in client.get(link).headers["Location"]
    log_in(client, "stranger@example.org")
    assert client.get(link).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/organize/").text)})

    log_in(client, "owner@example.org")
    # None built yet: the link leads to the page that builds one, and says so.
    response = client.get(link, follow_redirects=True)
    assert response.request.path == build
    assert "No dossier is ready yet for this audience (Officials)" in response.text
    assert client.get(f"{link}?audience=ministers").status_code == 404

    token = csrf_token(client.get(build).text)
    ids = []
    for _ in range(2):  # an older and a newer officials dossier
        client.post(build, data={"audience": "officials", "csrf_token": token})
        with app.app_context():
            ids.append(db.session.scalars(select(Dossier.id).order_by(Dossier.id.desc())).first())
    assert ids[0] != ids[1]
    response = client.get(link)
    assert response.headers["Location"].endswith(f"{build}/{ids[1]}.pdf")
    pdf = client.get(response.headers["Location"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pdf.close()
    # The funders' link does not take the officials' dossier.
    assert client.get(f"{link}?audience=funders").headers["Location"].endswith(build)
    assert f'href="{link}?audience=officials"' in client.get(build).text


@pytest.mark.config(DOSSIER_SYNC_MAX_SIGNATURES=0)
def test_a_large_pledge_is_built_in_the_background(app, client, tmp_path):
    with app.app_context():
        pledge = campaign()
        run_by(pledge, make_user("owner@example.org"))
        url = f"/organize/{pledge.slug}/dossier"
    log_in(client, "owner@example.org")
    token = csrf_token(client.get(url).text)
    response = client.post(url, data={"audience": "funders", "csrf_token": token})
    assert response.status_code == 302
    assert "being built" in client.get(url).text
    deadline = time.monotonic() + 120
    with app.app_context():
        while True:
            db.session.expire_all()
            dossier = db.session.scalar(select(Dossier))
            if dossier.status == DossierStatus.READY or time.monotonic() > deadline:
                break
            # A second build waits for the first.
            again = client.post(url, data={"audience": "media", "csrf_token": token})
            assert again.status_code == 400 and "being built already" in again.text
            time.sleep(0.2)
        assert dossier.status == DossierStatus.READY, dossier.error
        assert dossier.steps_done == dossier.steps_total > 1
    download = client.get(f"{url}/{dossier.id}.pdf")
    download.close()
    assert download.status_code == 200


def test_a_build_that_cannot_write_its_file_is_marked_failed(tmp_path, app_ctx):
    pledge = campaign()
    dossier = service.request_dossier(pledge, "officials")
    db.session.commit()
    with pytest.raises(OSError):  # a file where the folder should be
        service.issue(dossier, Path("/dev/null/dossier.pdf"))
    failed = db.session.get(Dossier, dossier.id)
    assert failed.status == DossierStatus.FAILED and "Error" in failed.error
    # Nothing is left "building" to hold up the next one.
    again = service.request_dossier(pledge, "officials")
    db.session.commit()
    service.issue(again, tmp_path / "dossier.pdf")
    assert again.status == DossierStatus.READY


def test_a_failed_build_in_the_request_is_a_message_not_an_error(app, client, monkeypatch):
    with app.app_context():
        pledge = campaign()
        run_by(pledge, make_user("owner@example.org"))
        url = f"/organize/{pledge.slug}/dossier"
    log_in(client, "owner@example.org")
    token = csrf_token(client.get(url).text)
    # Where the web build keeps its file until it is stored: a path that cannot be a folder.
    monkeypatch.setattr(tempfile, "tempdir", "/dev/null/tmp")
    response = client.post(url, data={"audience": "officials", "csrf_token": token})
    monkeypatch.undo()
    assert response.status_code == 302
    page = client.get(url).text
    assert "The dossier could not be built: it is listed as failed below." in page
    assert "failed" in page
    with app.app_context():
        assert db.session.scalar(select(Dossier.status)) == DossierStatus.FAILED
        assert db.session.scalar(select(func.count()).select_from(DossierFile)) == 0


def test_drafts_get_no_dossier_and_an_unpublished_pledges_dossier_does_not_verify(client, app_ctx):
    draft = make_pledge(status=PledgeStatus.DRAFT)
    with pytest.raises(service.DossierError, match="Open the pledge first"):
        service.request_dossier(draft, "officials")
    pledge = campaign()
    dossier = service.request_dossier(pledge, "media")
    db.session.commit()
    service.issue(dossier)
    code = dossier.verification_code
    assert client.get(f"/verify/dossier/{code}").status_code == 200
    pledge.status = PledgeStatus.DRAFT  # as if it had never been published
    db.session.commit()
    assert client.get(f"/verify/dossier/{code}").status_code == 404


@pytest.mark.config(DOSSIER_MAX_BUILDS=2)
def test_only_so_many_dossiers_build_at_once_from_the_web(app_ctx):
    busy = []
    for _ in range(2):
        other = make_pledge()
        busy.append(service.request_dossier(other, "officials"))
        busy[-1].status = DossierStatus.BUILDING
    pledge = campaign()
    db.session.commit()
    with pytest.raises(service.DossierError, match="Other dossiers are being built"):
        service.request_dossier(pledge, "officials", limit_builds=True)
    service.request_dossier(pledge, "officials")  # the command line is not held back
    db.session.rollback()
    # A build that stopped moving long ago no longer counts.
    busy[0].updated_at = busy[0].updated_at - timedelta(hours=1)
    db.session.commit()
    assert service.request_dossier(pledge, "funders", limit_builds=True).status == "queued"


def test_export_dossier_to_an_unwritable_path_is_a_one_line_error(app, runner):
    with app.app_context():
        make_pledge(slug="peace")
    result = runner.invoke(args=["export-dossier", "peace", "-o", "/proc/x.pdf"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: Cannot write /proc/x.pdf: ")
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    with app.app_context():
        [dossier] = db.session.scalars(select(Dossier)).all()
        assert dossier.status == DossierStatus.FAILED


# The cover, the covering letter and the pages.

BOX_LINES = ("Verify this dossier", "Verification code", "/verify/dossier/", "Open the address")


def text_heights(data: bytes, page: int = 0) -> dict[str, float]:
    """Each text run on ``page`` and its height on the page, 0 (bottom) to 1 (top)."""
    reader = PdfReader(io.BytesIO(data))
    height = float(reader.pages[page].mediabox.height)
    found: dict[str, float] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.setdefault(" ".join(text.split()), y / height)

    reader.pages[page].extract_text(visitor_text=visit)
    return found


def at_height(heights: dict[str, float], start: str) -> float:
    return next(y for text, y in heights.items() if text.startswith(start))


def test_the_cover_fills_its_page_with_the_headline_figure(tmp_path, app_ctx):
    pledge = campaign()
    _, pdf = issue(pledge, "officials", tmp_path)
    cover = " ".join(page_texts(pdf)[0].split())
    total = tallies.tally_for(pledge.id).total
    assert "confirmed signers, from 3 countries" in cover
    assert "Acted this cycle" in cover and "Confirmed by partners" in cover
    assert "The pledge" not in cover  # the cover is a page of its own
    heights = text_heights(pdf)
    assert at_height(heights, "Allies for a just peace") > 0.8  # the title at the top
    assert at_height(heights, str(total)) > 0.5  # the figure, large, in the upper half
    assert at_height(heights, "Figures as of") < 0.2  # the date at the foot of the page


def test_an_organizer_writes_a_covering_letter_to_the_recipients(app, client, tmp_path):
    with app.app_context():
        pledge = campaign()
        run_by(pledge, make_user("owner@example.org"))
        url = f"/organize/{pledge.slug}/dossier"
    log_in(client, "owner@example.org")
    page = client.get(url).text
    assert 'name="covering_letter"' in page

    too_long = client.post(
        url,
        data={
            "audience": "officials",
            "covering_letter": "x" * 4001,
            "csrf_token": csrf_token(page),
        },
    )
    assert too_long.status_code == 400 and "4000" in too_long.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0

    letter = "Dear Minister Otieno,\n\nSixty of your constituents ask you to join them."
    response = client.post(
        url,
        data={"audience": "funders", "covering_letter": letter, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    with app.app_context():
        dossier = db.session.scalar(select(Dossier))
        assert dossier.covering_letter == letter
        pdf = db.session.get(DossierFile, dossier.id).content
    pages = [" ".join(text.split()) for text in page_texts(pdf)]
    assert "Dear Minister" not in pages[0]  # the cover stays the cover
    assert "A letter from the organizers" in pages[1]
    assert "Dear Minister Otieno, Sixty of your constituents ask you to join them." in pages[1]


def test_a_dossier_without_a_letter_has_none(tmp_path, app_ctx):
    _, pdf = issue(campaign(), "media", tmp_path)
    assert "A letter from the organizers" not in words(pdf)


@pytest.mark.parametrize("extra", range(0, 44, 4))
def test_the_verification_box_never_sits_alone_on_a_page(extra, tmp_path, app_ctx):
    """Whatever the length of what comes before it, the page with the verification box
    holds more than the box: more commitments (the press dossier's last section) move the
    end of the front matter down a few lines at a time, past a page break."""
    pledge = campaign()
    for n in range(extra):
        pledge.commitments.append(
            Commitment(position=10 + n, text=f"I will keep commitment number {n} in my town.")
        )
    db.session.commit()
    _, pdf = issue(pledge, "media", tmp_path)
    for number, text in enumerate(page_texts(pdf), start=1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        others = [
            line
            for line in lines
            if not line.startswith(BOX_LINES)
            and "advocacy dossier" not in line
            and not re.fullmatch(r"Page \d+", line)
            and "issued on" not in line
            and "unchanged" not in line
        ]
        assert len(others) >= 2, (number, lines)


def test_the_signer_list_starts_with_its_introduction_not_after_an_empty_page(tmp_path, app_ctx):
    """The list is laid out apart from the front matter, so it starts on a page of its own:
    its introduction starts that page with it, instead of ending the front matter on a page
    that holds only the introduction and the verification box."""
    _, pdf = issue(campaign(), "officials", tmp_path)
    pages = [" ".join(text.split()) for text in page_texts(pdf)]
    (intro,) = [number for number, text in enumerate(pages) if "The signers " in text]
    assert re.search(r"· (\d+ signers|fewer than \d+ signers)", pages[intro])
    (box,) = [number for number, text in enumerate(pages) if "Verify this dossier" in text]
    assert box == intro - 1
    assert "What signers have done" in pages[box]
