"""Anyone holding a signed pledge checks it: the code's live status, and the file itself."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from pledges.extensions import db
from pledges.models import IssuedDocument, Signature
from pledges.verify.service import DOCUMENTS_LISTED
from tests.factories import make_pledge
from tests.helpers import INLINE_OR_FOREIGN, csrf_token, signer_page


def code_of(email: str) -> str:
    return db.session.scalar(select(Signature.verification_code).where(Signature.email == email))


def upload(client, code: str, data: bytes, filename: str = "signed-pledge.pdf"):
    token = csrf_token(client.get(f"/verify/{code}").text)
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(
        {"csrf_token": token, "document": FileStorage(io.BytesIO(data), filename)}
    )
    return client.post(
        f"/verify/{code}", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_a_valid_signature_and_its_unchanged_document(client, outbox_dir, app_ctx):
    pledge = make_pledge(title="Allies for a just peace")
    me = signer_page(
        client, outbox_dir, pledge, name="Amina Wanjiru Odhiambo", email="amina@example.org"
    )
    code = code_of("amina@example.org")
    pdf = client.get(f"{me}/pledge.pdf").data

    page = client.get(f"/verify/{code}")
    assert page.status_code == 200
    assert "Allies for a just peace" in page.text
    assert "Valid." in page.text
    assert "Amina Wanjiru Odhiambo" in page.text  # she chose to be shown in full
    assert "Kenya" in page.text
    assert "amina@example.org" not in page.text
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"  # public
    assert "no-store" not in page.headers.get("Cache-Control", "")
    assert hashlib.sha256(pdf).hexdigest()[:12] in page.text
    assert "PDF" in page.text
    for what, pattern in INLINE_OR_FOREIGN:
        assert not pattern.search(page.text), what

    original = upload(client, code, pdf)
    assert original.status_code == 200
    assert "Genuine and unchanged." in original.text

    tampered = bytearray(pdf)
    tampered[len(tampered) // 2] ^= 0x01
    changed = upload(client, code, bytes(tampered))
    assert changed.status_code == 200
    assert "Not a document we issued for this code." in changed.text
    assert "Genuine" not in changed.text


def test_a_document_checks_only_against_its_own_code(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, email="one@example.org")
    signer_page(client, outbox_dir, pledge, email="two@example.org")
    pdf = client.get(f"{me}/pledge.pdf").data
    response = upload(client, code_of("two@example.org"), pdf)
    assert "Not a document we issued for this code." in response.text


def test_codes_are_read_as_people_type_them(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    signer_page(client, outbox_dir, pledge, email="amina@example.org")
    code = code_of("amina@example.org")
    typed = code.lower().replace("-", " ").replace("0", "o")
    assert "Valid." in client.get(f"/verify/{typed}").text

    form = client.get("/verify")
    assert form.status_code == 200 and 'name="code"' in form.text
    redirect = client.get("/verify", query_string={"code": typed})
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == f"/verify/{code}"
    bad = client.get("/verify", query_string={"code": "not a code"})
    assert bad.status_code == 400
    assert "That is not a verification code" in bad.text


def test_unknown_malformed_and_pending_codes_are_not_found(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    signer_page(client, outbox_dir, pledge, email="pending@example.org", confirm=False)
    pending = code_of("pending@example.org")
    for code in ("00000-00000", "short", "%%%%%-%%%%%", pending):
        response = client.get(f"/verify/{code}")
        assert response.status_code == 404, code
        assert "We cannot find that page" in response.text


def test_a_withdrawn_signature_says_only_that(client, outbox_dir, app_ctx):
    pledge = make_pledge(title="Allies for a just peace")
    me = signer_page(
        client,
        outbox_dir,
        pledge,
        name="Ali Gohar",
        email="ali@example.org",
        organization="Peace Circle",
        personal_note="Never again.",
    )
    code = code_of("ali@example.org")
    pdf = client.get(f"{me}/pledge.pdf").data
    token = csrf_token(client.get(me).text)
    client.post(f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})
    signature = db.session.scalar(select(Signature).where(Signature.verification_code == code))
    assert signature.status == "withdrawn"

    page = client.get(f"/verify/{code}")
    assert page.status_code == 200
    assert "Withdrawn." in page.text
    assert f"withdrawn on {signature.withdrawn_at.strftime('%-d %B %Y')}" in page.text
    for gone in ("Ali Gohar", "Peace Circle", "Never again.", "Kenya", "Valid."):
        assert gone not in page.text, gone

    response = upload(client, code, pdf)
    assert "Issued by us, but the signature was withdrawn." in response.text


def test_a_hidden_signature_shows_its_status_but_not_the_signer(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    signer_page(client, outbox_dir, pledge, name="Hidden Person", email="h@example.org")
    signature = db.session.scalar(select(Signature))
    signature.status = "hidden"
    db.session.commit()
    page = client.get(f"/verify/{signature.verification_code}")
    assert page.status_code == 200
    assert "Hidden." in page.text
    assert "Hidden Person" not in page.text and "Valid." not in page.text


def test_an_anonymous_signer_stays_anonymous(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(
        client,
        outbox_dir,
        pledge,
        name="Fatima Secret",
        email="fatima@example.org",
        visibility="anonymous",
        organization="Quiet Org",
    )
    code = code_of("fatima@example.org")
    pdf = client.get(f"{me}/pledge.pdf").data  # her own document has her name
    page = client.get(f"/verify/{code}")
    checked = upload(client, code, pdf)
    for html in (page.text, checked.text):
        assert "Anonymous ally" in html
        for private in ("Fatima", "Secret", "fatima@example.org", "Quiet Org"):
            assert private not in html, private


def test_uploads_of_real_pdfs_fit_but_huge_or_missing_files_do_not(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    signer_page(client, outbox_dir, pledge, email="amina@example.org")
    code = code_of("amina@example.org")
    # Larger than the app-wide 1 MB request limit, as PDFs with photos are.
    big = upload(client, code, b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024))
    assert big.status_code == 200
    assert "Not a document we issued for this code." in big.text

    huge = upload(client, code, b"0" * (10 * 1024 * 1024 + 1))
    assert huge.status_code == 400
    assert "The file is larger than 10 MB" in huge.text

    token = csrf_token(client.get(f"/verify/{code}").text)
    missing = client.post(f"/verify/{code}", data={"csrf_token": token})
    assert missing.status_code == 400
    assert "Choose the PDF file to check." in missing.text

    no_token = client.post(
        f"/verify/{code}",
        data={"document": (io.BytesIO(b"%PDF"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400
    assert "Genuine" not in no_token.text and "Not a document" not in no_token.text

    # Elsewhere the app-wide limit still holds.
    elsewhere = client.post("/p/" + pledge.slug, data={"name": "x" * (2 * 1024 * 1024)})
    assert elsewhere.status_code == 413


def test_the_page_lists_the_newest_documents_and_checks_against_all(app, client, outbox_dir):
    with app.app_context():
        me = signer_page(client, outbox_dir, make_pledge(), email="amina@example.org")
        code = code_of("amina@example.org")
        pdf = client.get(f"{me}/pledge.pdf").data  # the oldest of many
        signature = db.session.scalar(select(Signature))
        first = db.session.scalar(select(IssuedDocument)).issued_at
        for n in range(1, DOCUMENTS_LISTED + 2):
            db.session.add(
                IssuedDocument(
                    signature_id=signature.id,
                    sha256=hashlib.sha256(b"later %d" % n).hexdigest(),
                    variant="pdf",
                    issued_at=first + timedelta(minutes=n),
                )
            )
        db.session.commit()

    page = client.get(f"/verify/{code}").text
    assert page.count("fingerprint <code>") == DOCUMENTS_LISTED
    assert hashlib.sha256(b"later 21").hexdigest()[:12] in page  # the newest is listed
    assert hashlib.sha256(pdf).hexdigest()[:12] not in page  # the oldest is counted
    assert "And 2 earlier documents, which an upload is checked against too." in page
    assert "Genuine and unchanged." in upload(client, code, pdf).text


@pytest.mark.config(PDF_LIMIT_PER_IP="2 per minute", VERIFY_LIMIT_PER_IP="4 per minute")
def test_rendering_and_verifying_are_rate_limited_per_address(app, client, outbox_dir):
    with app.app_context():
        me = signer_page(client, outbox_dir, make_pledge(), email="amina@example.org")
        code = code_of("amina@example.org")
    assert client.get(f"{me}/pledge.pdf").status_code == 200
    assert client.get(f"{me}/pledge.pdf?variant=pdf/a-3b").status_code == 200
    refused = client.get(f"{me}/pledge.pdf")
    assert refused.status_code == 429 and "Too many requests" in refused.text
    assert client.get(f"{me}/pledge.html").status_code == 200  # the preview costs no PDF
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IssuedDocument)) == 2

    for _ in range(4):
        assert client.get(f"/verify/{code}").status_code == 200
    assert client.get(f"/verify/{code}").status_code == 429
    assert client.get("/verify/ZZZZZ-ZZZZZ").status_code == 429  # guessing counts too
