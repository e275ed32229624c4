"""Paper sign-up sheets: an organizer prints one, types its signed rows in, checks its scan."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from pledges.domain import tallies
from pledges.extensions import db
from pledges.models import (
    AuditEntry,
    OutboxEmail,
    PaperSheet,
    Pledge,
    PledgeStatus,
    Reminders,
    Signature,
    SignatureCommitment,
    SignatureStatus,
    User,
    Visibility,
)
from pledges.paper import service
from tests.factories import (
    confirmed_signature,
    make_pledge,
    make_user,
    run_by,
    translate,
)
from tests.helpers import (
    count,
    csrf_token,
    deliver_and_read,
    links_in,
    logged_in,
    pdf_text,
    text_of,
)

ORGANIZER = "nadia.paper@example.org"


@pytest.fixture
def organizer(app):
    """An open pledge (commitment 1 required) run by ORGANIZER, and their logged-in client.
    Logged in before the test's app context is pushed (take ``app_ctx`` after this)."""
    with app.app_context():
        pledge = make_pledge(slug="paper-pledge", title="Allies on paper")
        run_by(pledge, make_user(ORGANIZER))
    return logged_in(app, ORGANIZER)


@pytest.fixture
def setup(organizer, app_ctx):
    pledge = db.session.scalars(select(Pledge).where(Pledge.slug == "paper-pledge")).one()
    user = db.session.scalars(select(User).where(User.email == ORGANIZER)).one()
    return pledge, user, organizer


def new_sheet(client, pledge, language="en") -> PaperSheet:
    page = client.get(f"/organize/{pledge.slug}/paper")
    assert page.status_code == 200
    response = client.post(
        f"/organize/{pledge.slug}/paper",
        data={"language": language, "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302, response.text
    return db.session.scalars(select(PaperSheet).order_by(PaperSheet.id.desc())).first()


def entry_path(pledge, sheet) -> str:
    return f"/organize/{pledge.slug}/paper/{sheet.code}/entry"


def row(index: int, line: int | None = None, **values) -> dict:
    """The form fields of one entry line, as a browser posts them (an unticked box is left out)."""
    defaults = {
        "name": "",
        "organization": "",
        "country": "",
        "visibility": "anonymous",
        "email": "",
        "commitments": "",
        "signed": "y",
    }
    defaults.update(values)
    data = {f"rows-{index}-line": str(line or index + 1)}
    for key, value in defaults.items():
        if value is not None:
            data[f"rows-{index}-{key}"] = value
    return data


def post_rows(client, pledge, sheet, rows: list[dict], button="save"):
    page = client.get(entry_path(pledge, sheet))
    data = {"csrf_token": csrf_token(page.text), button: "x"}
    for r in rows:
        data.update(r)
    return client.post(entry_path(pledge, sheet), data=data)


# --- the sheet ----------------------------------------------------------------------------


def test_a_sheet_prints_the_pledge_numbered_commitments_choices_and_its_code(setup):
    pledge, user, client = setup
    sheet = new_sheet(client, pledge)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}", sheet.code)
    assert sheet.language == "en" and sheet.created_by_id == user.id
    assert sheet.commitment_ids == [c.id for c in pledge.commitments]

    response = client.get(f"/organize/{pledge.slug}/paper/{sheet.code}/sheet.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = " ".join(pdf_text(response.data).split())
    assert "Allies on paper" in text
    assert "Men and women, together." in text
    assert (
        "1. I will listen to women peacebuilders first. (required: part of every signature)" in text
    )
    assert "2. I will challenge violent ideas of masculinity." in text
    assert "3. I will join dialogues in cycles." in text
    for label in ("Full name", "Initial of last name", "Organization only", "Anonymous"):
        assert text.count(label) >= 12, label  # a tick box on each of the 12 rows
    for column in ("Name", "Country", "Show me as", "Email (optional)", "Signature"):
        assert column in text
    assert f"Sheet {sheet.code}" in text  # on every page, with the QR code's address
    assert f"/organize/{pledge.slug}/paper/{sheet.code}/entry" in text
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "paper.sheet")).one()
    assert audit.user_id == user.id and audit.details["code"] == sheet.code


def test_a_sheet_prints_in_another_of_the_pledges_languages(setup):
    pledge, _, client = setup
    translate(
        pledge,
        "fr",
        "Alliés sur papier",
        "Hommes et femmes, ensemble.",
        ["J'écouterai d'abord.", "Je remettrai en cause.", "Je participerai."],
    )
    sheet = new_sheet(client, pledge, language="fr")
    text = " ".join(
        pdf_text(client.get(f"/organize/{pledge.slug}/paper/{sheet.code}/sheet.pdf").data).split()
    )
    assert "Alliés sur papier" in text
    assert "1. J'écouterai d'abord." in text
    assert "Nom complet" in text  # the sheet's own words in French too
    # A language the pledge is not written in is refused.
    page = client.get(f"/organize/{pledge.slug}/paper")
    refused = client.post(
        f"/organize/{pledge.slug}/paper",
        data={"language": "es", "csrf_token": csrf_token(page.text)},
    )
    assert refused.status_code == 422
    assert count(PaperSheet) == 1


@pytest.fixture
def other_organizer(app):
    with app.app_context():
        make_user("other.organizer@example.org")
    return logged_in(app, "other.organizer@example.org")


def as_another(app, client, path: str):
    """``client`` GETs ``path`` in an app context of its own: the test's context keeps the
    logged-in user of its own requests in ``g``."""
    with app.app_context():
        return client.get(path)


def test_paper_pages_are_for_the_pledges_organizers_only(other_organizer, setup, app_ctx):
    pledge, _, client = setup
    sheet = new_sheet(client, pledge)
    anonymous = app_ctx.test_client()
    for path in (
        f"/organize/{pledge.slug}/paper",
        f"/organize/{pledge.slug}/paper/{sheet.code}",
        f"/organize/{pledge.slug}/paper/{sheet.code}/sheet.pdf",
        f"/organize/{pledge.slug}/paper/{sheet.code}/entry",
    ):
        assert as_another(app_ctx, other_organizer, path).status_code == 404, path
        assert as_another(app_ctx, anonymous, path).status_code == 302, path
    assert client.get(f"/organize/{pledge.slug}/paper/ZZZ-ZZZ").status_code == 404
    # The code is read as people type it from paper.
    typed = sheet.code.lower().replace("-", "")
    assert client.get(f"/organize/{pledge.slug}/paper/{typed}").status_code == 200
    nav = client.get(f"/organize/{pledge.slug}/").text
    assert f'href="/organize/{pledge.slug}/paper"' in nav and "Paper sheets" in nav


# --- typing the rows in -------------------------------------------------------------------


def test_the_entry_page_offers_twelve_lines_row_by_row_with_the_first_cell_focused(setup):
    pledge, _, client = setup
    sheet = new_sheet(client, pledge)
    page = client.get(entry_path(pledge, sheet)).text
    assert page.count('<fieldset class="paper-row') == 12
    # In the DOM order a keyboard follows: a whole line, then the next.
    names = re.findall(r'name="(rows-\d+-\w+)"', page)
    assert names[:9] == [
        "rows-0-line",
        "rows-0-name",
        "rows-0-organization",
        "rows-0-country",
        "rows-0-visibility",
        "rows-0-email",
        "rows-0-discreet_mail",
        "rows-0-commitments",
        "rows-0-signed",
    ]
    assert names[9] == "rows-1-line"
    assert re.search(r'<input autofocus[^>]*id="rows-0-name"', page)
    assert page.count("autofocus") == 1
    assert '<datalist id="country-codes">' in page and '<option value="KE">Kenya</option>' in page

    lines = [row(0, name="Kept while adding")] + [row(i) for i in range(1, 12)]
    more = post_rows(client, pledge, sheet, lines, button="add_rows")
    assert more.status_code == 200
    assert more.text.count('<fieldset class="paper-row') == 18
    assert 'value="Kept while adding"' in more.text
    assert count(Signature) == 0


def test_valid_rows_are_saved_through_the_door_and_each_bad_row_is_shown_with_its_input(setup):
    pledge, user, client = setup
    confirmed_signature(pledge, email="taken@example.org", name="Online Signer")
    sheet = new_sheet(client, pledge)
    before = tallies.tally_for(pledge.id).total
    required, optional_2, optional_3 = pledge.commitments

    response = post_rows(
        client,
        pledge,
        sheet,
        [
            row(
                0,
                name="Wanjiru Kamau",
                country="ke",
                visibility="full",
                email="Wanjiru@Example.org",
                commitments="3",
                discreet_mail="y",
            ),
            row(1, name="Bilal Ahmed", country="Pakistan", visibility="anonymous"),
            row(2, name="Seven Commitments", country="LK", commitments="1, 7"),
            row(3, name="Taken Address", country="KE", email="taken@example.org"),
            row(4, name="Never Signed", country="BI", signed=None),
            row(5, name="Org Without Name", country="KE", visibility="organization"),
            row(6),  # left empty: no row at all
            row(7, name="Nowhere Land", country="Atlantis"),
            row(8, name="Same Address", country="KE", email="wanjiru@example.org"),
        ],
    )
    assert response.status_code == 422
    html = response.text

    # The two good rows: signed on this sheet, confirmed by the organizer's act, counted.
    saved = db.session.scalars(
        select(Signature).where(Signature.paper_sheet_id == sheet.id).order_by(Signature.id)
    ).all()
    assert [s.full_name for s in saved] == ["Wanjiru Kamau", "Bilal Ahmed"]
    wanjiru, bilal = saved
    assert wanjiru.status == bilal.status == SignatureStatus.CONFIRMED
    assert wanjiru.confirmed_at and wanjiru.reviewed_by_id == user.id
    assert wanjiru.public_since is not None  # on the wall, as chosen
    assert wanjiru.country == "KE" and wanjiru.visibility == Visibility.FULL
    assert wanjiru.email_normalized == "wanjiru@example.org" and wanjiru.discreet_mail
    assert wanjiru.chosen_commitment_ids == {required.id, optional_3.id}  # required always in
    assert bilal.country == "PK" and bilal.visibility == Visibility.ANONYMOUS
    assert bilal.email is None and bilal.reminders == Reminders.STOPPED
    assert bilal.chosen_commitment_ids == {required.id}
    assert tallies.tally_for(pledge.id).total == before + 2
    audits = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "signature.paper").order_by(AuditEntry.id)
    ).all()
    assert [(a.target_id, a.user_id, a.details) for a in audits] == [
        (wanjiru.id, user.id, {"sheet": sheet.code}),
        (bilal.id, user.id, {"sheet": sheet.code}),
    ]

    # Nothing at all from the bad rows: no signature, no commitment, no mail.
    assert count(Signature) == 3
    assert count(SignatureCommitment) == 1 + 2 + 1
    assert [m.signature_id for m in db.session.scalars(select(OutboxEmail))].count(None) == 0
    assert count(OutboxEmail) == 2  # the online signer's confirmation, and Wanjiru's link

    # Each bad row is shown again, under its line, with what was typed and why.
    assert "Wanjiru Kamau" not in html and "Bilal Ahmed" not in html  # saved: not re-shown
    assert html.count('<fieldset class="paper-row') == 6
    for line, typed, message in [
        (3, "Seven Commitments", "There is no commitment 7 on this sheet"),
        (4, "Taken Address", "This email address has already signed this pledge."),
        (5, "Never Signed", "Only a row signed on the sheet is entered"),
        (6, "Org Without Name", "To be shown by your organization, tell us its name."),
        (8, "Nowhere Land", "Type a country code like KE"),
        (9, "Same Address", "The same email address as line 1"),
    ]:
        assert f'value="{typed}"' in html, typed
        assert f"Line {line}" in html
        assert message in html, message
    assert 'value="1, 7"' in html and 'value="Atlantis"' in html
    assert "6 rows were not saved" in html
    # The cursor starts in the first cell with an error.
    assert re.search(r'<input [^>]*autofocus[^>]*id="rows-2-commitments"', html)

    # Moderators see where they came from.
    queue = client.get(f"/organize/{pledge.slug}/moderation?view=all").text
    assert queue.count(f'signed on paper, sheet <bdi dir="ltr">{sheet.code}</bdi>') == 2

    # Corrected and sent again (the page as re-shown), the row is saved; the page is done.
    fixed = post_rows(
        client,
        pledge,
        sheet,
        [row(2, line=3, name="Seven Commitments", country="LK", commitments="1, 2")],
    )
    assert fixed.status_code == 302
    assert fixed.headers["Location"].endswith(f"/paper/{sheet.code}")
    seven = db.session.scalars(
        select(Signature).where(Signature.full_name == "Seven Commitments")
    ).one()
    assert seven.chosen_commitment_ids == {required.id, optional_2.id}
    # Sent once more (a double submit): the same name from the same country is refused.
    again = post_rows(client, pledge, sheet, [row(0, name="Seven Commitments", country="LK")])
    assert again.status_code == 422
    assert "already entered from this sheet" in again.text
    assert count(Signature) == 4


def test_a_closed_pledge_or_an_empty_sheet_saves_nothing(setup):
    pledge, _, client = setup
    sheet = new_sheet(client, pledge)
    empty = post_rows(client, pledge, sheet, [row(0), row(1)])
    assert empty.status_code == 422 and "Type at least one row from the sheet." in empty.text
    pledge.status = PledgeStatus.CLOSED
    db.session.commit()
    closed = post_rows(client, pledge, sheet, [row(0, name="Too Late", country="KE")])
    assert closed.status_code == 422
    assert "This pledge is not taking signatures." in closed.text
    assert 'value="Too Late"' in closed.text
    assert count(Signature) == 0


def test_a_premoderated_pledge_takes_paper_rows_as_reviewed_by_the_organizer(setup):
    pledge, _, client = setup
    pledge.premoderation = True
    db.session.commit()
    sheet = new_sheet(client, pledge)
    assert post_rows(client, pledge, sheet, [row(0, name="Amani", country="BI")]).status_code == 302
    signature = db.session.scalars(select(Signature)).one()
    assert signature.status == SignatureStatus.CONFIRMED and signature.reviewed_at is not None


# --- claiming by email ----------------------------------------------------------------------


def test_a_signer_with_an_email_gets_their_private_link_in_the_sheets_language(
    setup, outbox_dir, app
):
    pledge, _, client = setup
    translate(
        pledge,
        "fr",
        "Alliés sur papier",
        "Hommes et femmes, ensemble.",
        ["J'écouterai d'abord.", "Je remettrai en cause.", "Je participerai."],
    )
    sheet = new_sheet(client, pledge, language="fr")
    response = post_rows(
        client,
        pledge,
        sheet,
        [
            row(0, name="Aline Niyonzima", country="BI", email="aline@example.org"),
            row(
                1,
                name="Discreet Signer",
                country="BI",
                email="discreet@example.org",
                discreet_mail="y",
            ),
            row(2, name="No Email", country="BI"),
        ],
    )
    assert response.status_code == 302
    flashed = client.get(response.headers["Location"]).text
    assert "3 signatures saved." in flashed
    assert "2 signers are emailed their private link." in flashed
    assert "1 without email: counted, and shown as they chose." in flashed

    messages = {m["To"]: m for m in deliver_and_read(outbox_dir)}
    assert set(messages) == {"aline@example.org", "discreet@example.org"}
    aline = messages["aline@example.org"]
    assert "Alliés sur papier" in aline["Subject"]
    body = text_of(aline)
    assert "Alliés sur papier" in body and "feuille" in body  # in French, the sheet's language
    discreet = messages["discreet@example.org"]
    assert "papier" not in discreet["Subject"].lower() and "Alliés" not in discreet["Subject"]

    # The link opens the signer's private page: their signature, already confirmed.
    private = app.test_client().get(links_in(aline)["me"])
    assert private.status_code == 200
    assert "Aline Niyonzima" in private.text
    signature = db.session.scalars(
        select(Signature).where(Signature.email == "aline@example.org")
    ).one()
    assert signature.locale == "fr" and signature.status == SignatureStatus.CONFIRMED
    assert "confirm" not in links_in(aline)  # nothing left to confirm


# --- scans ----------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"scan of a signed sheet" * 100
OTHER_PNG = b"\x89PNG\r\n\x1a\n" + b"another sheet" * 100


def upload_scan(client, pledge, sheet, data: bytes, name="scan.png", keep=False):
    page = client.get(f"/organize/{pledge.slug}/paper/{sheet.code}")
    fields = {"csrf_token": csrf_token(page.text), "scan": FileStorage(io.BytesIO(data), name)}
    if keep:
        fields["keep"] = "y"
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(fields)
    return client.post(
        f"/organize/{pledge.slug}/paper/{sheet.code}/scan",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_a_scan_is_fingerprinted_then_checked_and_not_kept_unless_asked(setup, app, tmp_path):
    pledge, _, client = setup
    app.instance_path = str(tmp_path)
    sheet = new_sheet(client, pledge)
    scans = Path(app.instance_path) / service.SCAN_FOLDER

    first = upload_scan(client, pledge, sheet, PNG)
    assert first.status_code == 302
    db.session.refresh(sheet)
    assert sheet.scan_sha256 == hashlib.sha256(PNG).hexdigest()
    assert sheet.scan_file is None
    assert not scans.exists() or not any(scans.iterdir())  # not kept
    assert client.get(f"/organize/{pledge.slug}/paper/{sheet.code}/scan").status_code == 404
    page = client.get(f"/organize/{pledge.slug}/paper/{sheet.code}").text
    assert sheet.scan_sha256 in page and "The scan itself was not kept." in page

    same = upload_scan(client, pledge, sheet, PNG, name="again.png")
    assert same.status_code == 200
    assert "This scan matches the one recorded for this sheet" in same.text
    other = upload_scan(client, pledge, sheet, OTHER_PNG)
    assert other.status_code == 200
    assert "This scan does not match the one recorded for this sheet." in other.text
    db.session.refresh(sheet)
    assert sheet.scan_sha256 == hashlib.sha256(PNG).hexdigest()  # a check changes nothing

    not_a_scan = upload_scan(client, pledge, new_sheet(client, pledge), b"MZ\x90\x00 program")
    assert not_a_scan.status_code == 422
    assert "Upload the scan as a PDF, JPEG or PNG file." in not_a_scan.text


def test_a_kept_scan_is_stored_under_a_safe_name_for_organizers_only(other_organizer, setup, app):
    pledge, _, client = setup
    sheet = new_sheet(client, pledge)
    pdf = b"%PDF-1.7\n" + b"0" * 2000
    assert (
        upload_scan(client, pledge, sheet, pdf, name="../../etc/passwd.pdf", keep=True).status_code
        == 302
    )
    db.session.refresh(sheet)
    assert sheet.scan_file == f"sheet-{sheet.code}.pdf"
    stored = Path(app.instance_path) / service.SCAN_FOLDER / sheet.scan_file
    assert stored.read_bytes() == pdf
    assert stored.stat().st_mode & 0o777 == 0o600
    download = client.get(f"/organize/{pledge.slug}/paper/{sheet.code}/scan")
    assert download.status_code == 200 and download.data == pdf
    assert download.mimetype == "application/pdf"
    assert download.headers["Cache-Control"] == "no-store"
    download.close()
    path = f"/organize/{pledge.slug}/paper/{sheet.code}/scan"
    assert as_another(app, other_organizer, path).status_code == 404

    # The organizer may delete it later; its fingerprint stays to check copies against.
    page = client.get(f"/organize/{pledge.slug}/paper/{sheet.code}")
    deleted = client.post(f"{path}/delete", data={"csrf_token": csrf_token(page.text)})
    assert deleted.status_code == 302
    assert not stored.exists()
    db.session.refresh(sheet)
    assert sheet.scan_file is None and sheet.scan_sha256 == hashlib.sha256(pdf).hexdigest()
    assert client.get(path).status_code == 404
    assert db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "paper.scan_delete")
    ).one()


def test_a_scan_over_ten_megabytes_is_refused_with_a_page(setup):
    pledge, _, client = setup
    sheet = new_sheet(client, pledge)
    huge = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024 + 10)
    response = upload_scan(client, pledge, sheet, huge)
    assert response.status_code == 422
    assert "The file is larger than 10 MB." in response.text
    # Larger than the app-wide 1 MB request limit, as a photo of a sheet is: taken.
    big = b"\xff\xd8\xff\xe0" + b"0" * (3 * 1024 * 1024)
    assert upload_scan(client, pledge, sheet, big, name="photo.jpg").status_code == 302
    db.session.refresh(sheet)
    assert sheet.scan_sha256 == hashlib.sha256(big).hexdigest()


def test_a_paper_signer_who_withdraws_takes_the_kept_scan_with_them(
    setup, app, tmp_path, outbox_dir
):
    pledge, _, client = setup
    app.instance_path = str(tmp_path)
    sheet = new_sheet(client, pledge)
    rows = [row(0, name="Rehema Said", country="TZ", email="rehema@example.org")]
    assert post_rows(client, pledge, sheet, rows).status_code == 302
    assert upload_scan(client, pledge, sheet, PNG, keep=True).status_code == 302
    db.session.refresh(sheet)
    stored = tmp_path / service.SCAN_FOLDER / sheet.scan_file
    assert stored.exists()

    me = links_in(deliver_and_read(outbox_dir)[-1])["me"]
    signer = app.test_client()
    with app.app_context():
        page = signer.get(me)
        token = re.search(r'name="wd-csrf_token" type="hidden" value="([^"]+)"', page.text)[1]
        withdrawn = signer.post(
            f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"}
        )
    assert withdrawn.status_code == 302
    assert not stored.exists()  # their handwriting went with them
    db.session.refresh(sheet)
    assert sheet.scan_file is None
    assert sheet.scan_sha256 == hashlib.sha256(PNG).hexdigest()  # the fingerprint stays
    signature = db.session.scalars(select(Signature)).one()
    assert signature.status == SignatureStatus.WITHDRAWN and signature.full_name == ""


@pytest.mark.parametrize("language", ["en", "fr", "es", "sw", "ar", "ur", "si", "ta"])
def test_each_way_to_be_shown_starts_with_its_own_letter_in_every_language(app, language):
    """The entry page's hint says to type the first letter of a choice: in each language the
    four short labels must start differently, or typing one picks another."""
    with app.test_request_context(), force_locale(language):
        firsts = [str(label)[0] for label in service.SHORT_VISIBILITY_LABELS.values()]
    assert len(set(firsts)) == len(firsts), (language, firsts)
