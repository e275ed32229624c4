"""A confirmed signer downloads their signed pledge: a real PDF with their own words in it."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from pledges.extensions import db
from pledges.models import IssuedDocument, Signature
from pledges.presentation.pdf import ResourceRefused, StaticFilesFetcher, static_files_fetcher
from tests.helpers import (
    INLINE_OR_FOREIGN,
    assert_qpdf_valid,
    csrf_token,
    log_action,
    pdf_text,
    signer_page,
)


def without_line_breaks(text: str) -> str:
    """Long links wrap anywhere: read them back with the breaks taken out."""
    return "".join(text.split())


def images_in(data: bytes) -> list:
    return [image for page in PdfReader(io.BytesIO(data)).pages for image in page.images]


def embedded_fonts(data: bytes) -> set[str]:
    """The fonts a PDF draws with, without their subset tags: {"Noto-Sans-Sinhala", ...}."""
    return {
        str(font.get_object()["/BaseFont"]).lstrip("/").split("+", 1)[-1]
        for page in PdfReader(io.BytesIO(data)).pages
        for font in page["/Resources"]["/Font"].values()
    }


def test_a_confirmed_signer_downloads_their_signed_pledge(client, outbox_dir, tmp_path, app_ctx):
    from tests.factories import make_pledge

    pledge = make_pledge(title="Allies for a just peace")
    chosen = [pledge.commitments[0], pledge.commitments[2]]
    me = signer_page(
        client,
        outbox_dir,
        pledge,
        name="Amina Wanjiru Odhiambo",
        visibility="initial",
        organization="Women Peace Network",
        country="KE",
        commitments=[str(c.id) for c in chosen],
        personal_note="Because my daughters deserve a peace they help make.",
    )
    log_action(client, me, pledge, description="Hosted a listening circle in Kisumu.")
    log_action(
        client,
        me,
        pledge,
        description="Mentored two young mediators.",
        visibility="private",
        people_reached="2",
        evidence_url="https://example.org/mentoring-notes",
    )
    signature = db.session.scalar(select(Signature))

    # Made to be shared: by default the private action stays out, and the file is named
    # after the pledge and the code that verifies it.
    shared = client.get(f"{me}/pledge.pdf")
    assert shared.status_code == 200
    assert shared.headers["Content-Disposition"] == (
        f'attachment; filename="{pledge.slug}-signed-pledge-{signature.verification_code}.pdf"'
    )
    shared_words = " ".join(pdf_text(shared.data).split())
    assert "Hosted a listening circle in Kisumu." in shared_words
    assert "Mentored two young mediators." not in shared_words
    assert "mentoring-notes" not in without_line_breaks(pdf_text(shared.data))
    assert "Private actions are left out of this copy" in shared_words
    preview = client.get(f"{me}/pledge.html").text
    assert "Hosted a listening circle" in preview and "Mentored two" not in preview
    assert "Mentored two" in client.get(f"{me}/pledge.html?private_actions=1").text

    # The signer asked for their private actions (the box on their page).
    response = client.get(f"{me}/pledge.pdf?private_actions=1")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == shared.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    # Private: the link is the key, so the security headers stay on the file too.
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    text = pdf_text(response.data)
    words = " ".join(text.split())  # long lines wrap
    for expected in (
        "Allies for a just peace",
        "Men and women, together.",
        "Amina Wanjiru Odhiambo",  # their full name, though the wall shows "Amina O."
        "Women Peace Network",
        "Kenya",
        chosen[0].text,
        chosen[1].text,
        "Because my daughters deserve a peace they help make.",
        "Signed electronically by Amina Wanjiru Odhiambo on",
        "Hosted a listening circle in Kisumu.",
        "Mentored two young mediators.",  # private actions too, as they asked
        "Conversation or dialogue · 2 people reached · private",  # the action's facts
        signature.verification_code,
        "Page 1 of",
    ):
        assert expected in words, expected
    assert pledge.commitments[1].text not in words
    for link in (
        "https://example.org/mentoring-notes",
        f"http://pledges.test/verify/{signature.verification_code}",
    ):
        assert link in without_line_breaks(text), link

    metadata = PdfReader(io.BytesIO(response.data)).metadata
    assert metadata.title == "Allies for a just peace: signed by Amina Wanjiru Odhiambo"
    assert metadata.author == "Amina Wanjiru Odhiambo"
    assert signature.verification_code in metadata.subject
    assert metadata.creation_date is not None and metadata.modification_date is not None
    assert images_in(response.data) == []  # the QR code is vector art, not a fetched image
    assert_qpdf_valid(response.data, tmp_path)

    issued = db.session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)).all()
    assert [(d.signature_id, d.variant) for d in issued] == [(signature.id, "pdf")] * 2
    assert issued[-1].sha256 == hashlib.sha256(response.data).hexdigest()


def test_the_archival_pdf_a_variant(client, outbox_dir, tmp_path, app_ctx):
    from tests.factories import make_pledge

    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Ali Gohar")
    response = client.get(f"{me}/pledge.pdf?variant=pdf/a-3b")
    assert response.status_code == 200
    code = db.session.scalar(select(Signature)).verification_code
    assert f"-signed-pledge-{code}-pdfa.pdf" in response.headers["Content-Disposition"]
    assert "Ali Gohar" in pdf_text(response.data)
    catalog = PdfReader(io.BytesIO(response.data)).trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3" pdfaid:conformance="B"' in xmp
    assert catalog["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert_qpdf_valid(response.data, tmp_path)
    document = db.session.scalar(select(IssuedDocument))
    assert document.variant == "pdf/a-3b"
    assert document.sha256 == hashlib.sha256(response.data).hexdigest()
    assert client.get(f"{me}/pledge.pdf?variant=pdf/x-4").status_code == 404


def test_the_preview_is_the_same_template_as_a_page(client, outbox_dir, app_ctx):
    from tests.factories import make_pledge

    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name="Ali Gohar")
    page = client.get(f"{me}/pledge.html")
    assert page.status_code == 200
    assert "Signed electronically by <bdi>Ali Gohar</bdi> on" in page.text
    assert '<link rel="stylesheet" href="/static/css/pdf.css">' in page.text
    assert "<svg" in page.text  # the QR code, inline
    for what, pattern in INLINE_OR_FOREIGN:  # the page lives under the same CSP
        assert not pattern.search(page.text), what
    assert page.headers["Cache-Control"] == "no-store"
    assert db.session.scalar(select(IssuedDocument)) is None  # a preview issues nothing

    manage = client.get(me).text
    # One form downloads either variant, private actions left out unless the box is ticked.
    assert f'<form method="get" action="{me}/pledge.pdf">' in manage
    assert 'name="variant" value="pdf/a-3b"' in manage
    box = re.search(r'<input type="checkbox" name="private_actions"[^>]*>', manage).group(0)
    assert 'value="1"' in box and "checked" not in box
    assert f'href="{me}/pledge.html"' in manage


def test_only_a_confirmed_signature_has_a_signed_pledge(client, outbox_dir, app_ctx):
    from tests.factories import make_pledge

    pledge = make_pledge()
    pending = signer_page(client, outbox_dir, pledge, email="p@example.org", confirm=False)
    for path in (f"{pending}/pledge.pdf", f"{pending}/pledge.html"):
        response = client.get(path)
        assert response.status_code == 403
        assert "once you confirm your signature" in response.text
    assert "My signed pledge" not in client.get(pending).text

    hidden = signer_page(client, outbox_dir, pledge, email="h@example.org")
    signature = db.session.scalar(select(Signature).where(Signature.email == "h@example.org"))
    signature.status = "hidden"
    db.session.commit()
    assert client.get(f"{hidden}/pledge.pdf").status_code == 403

    gone = signer_page(client, outbox_dir, pledge, email="w@example.org")
    token = csrf_token(client.get(gone).text)
    client.post(f"{gone}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})
    response = client.get(f"{gone}/pledge.pdf")
    assert response.status_code == 403
    assert "withdrawn" in response.text
    assert client.get("/me/not-a-token/pledge.pdf").status_code == 404
    assert db.session.scalar(select(IssuedDocument)) is None


@pytest.mark.parametrize(
    ("name", "font"),
    [
        ("කුමාරි පෙරේරා", "Noto-Sans-Sinhala"),  # Sinhala, Sri Lanka
        ("فاطمة الزهراء", "Noto-Naskh-Arabic"),  # Arabic script, right to left
        ("王秀英", "Noto-Sans-CJK-SC"),  # Chinese characters (fonts-noto-cjk)
    ],
)
def test_a_name_in_another_script_prints_in_a_font_that_has_it(
    client, outbox_dir, tmp_path, name, font, app_ctx
):
    from tests.factories import make_pledge

    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, name=name, country="LK")
    response = client.get(f"{me}/pledge.pdf")
    assert response.status_code == 200
    words = " ".join(pdf_text(response.data).split())
    # In logical order (right-to-left text is not mirrored around its neighbours).
    assert f"Signed electronically by {name} on" in words
    # Drawn with a font that covers the script, not as empty boxes of the Latin one.
    fonts = embedded_fonts(response.data)
    assert font in fonts, f"{sorted(fonts)}: apt-get install fonts-noto-core fonts-noto-cjk"
    assert not any(f.startswith("DejaVu") for f in fonts), sorted(fonts)
    assert_qpdf_valid(response.data, tmp_path)


def test_typed_text_cannot_make_the_renderer_fetch_anything(client, outbox_dir, tmp_path, app_ctx):
    from tests.factories import make_pledge

    pledge = make_pledge()
    me = signer_page(
        client,
        outbox_dir,
        pledge,
        name='Eve <img src="file:///etc/passwd">',
        personal_note=(
            '<img src="file:///etc/passwd"><link rel="stylesheet" href="file:///etc/passwd">'
            '<img src="http://example.invalid/x.png"> ' + "unbroken" * 60
        ),
    )
    log_action(
        client,
        me,
        pledge,
        description='<img src="http://example.invalid/x.png">',
        evidence_url="http://example.invalid/x.png",
    )
    response = client.get(f"{me}/pledge.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "root:" not in text
    assert images_in(response.data) == []
    # Printed as the text it is, evidence link included.
    assert 'Eve <img src="file:///etc/passwd">' in text
    assert "http://example.invalid/x.png" in without_line_breaks(text)
    # The long word wraps onto several lines rather than running off the page.
    assert "unbroken" * 60 not in text
    assert "unbroken" * 60 in without_line_breaks(text)
    assert_qpdf_valid(response.data, tmp_path)


def test_the_fetcher_serves_only_the_apps_static_files(tmp_path, app_ctx):
    fetcher = static_files_fetcher()
    response = fetcher.fetch("http://pledges.test/static/css/pdf.css")
    assert response.content_type == "text/css"
    assert b"@font-face" in response.read()
    font = fetcher.fetch("http://pledges.test/static/fonts/NotoSans-Regular.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"  # a TrueType font
    for refused in (
        "file:///etc/passwd",
        "http://example.invalid/x.png",
        "https://example.invalid/x.png",
        "data:text/plain,root:x:0:0",
        "ftp://pledges.test/static/css/pdf.css",
        "http://pledges.test/static/../pledges/config.py",
        "http://pledges.test/static/%2e%2e/pledges/config.py",
        "http://pledges.test/static/css/../../pyproject.toml",
        "http://pledges.test/static//etc/passwd",
        "http://pledges.test/me/some-token",
        "http://pledges.test.example.invalid/static/css/pdf.css",
        "http://pledges.test/static/css/missing.css",
    ):
        with pytest.raises(ResourceRefused):
            fetcher.fetch(refused)

    # A symlink out of the static folder is refused too.
    static = tmp_path / "static"
    static.mkdir()
    (static / "leak").symlink_to("/etc/passwd")
    with pytest.raises(ResourceRefused):
        StaticFilesFetcher(static, "http://pledges.test/static").fetch(
            "http://pledges.test/static/leak"
        )


@pytest.mark.config(PDF_MAX_ACTIONS=2, ACTION_LIMIT_PER_TOKEN="100 per hour")
def test_the_signed_pledge_prints_the_newest_actions_and_counts_the_rest(app, client, outbox_dir):
    with app.app_context():
        from tests.factories import make_pledge

        pledge = make_pledge()
        me = signer_page(client, outbox_dir, pledge)
        for day in (1, 2, 3, 4):
            log_action(client, me, pledge, done_on=f"2025-01-0{day}", description=f"Step {day}")
        response = client.get(f"{me}/pledge.pdf")
        assert response.status_code == 200
        text = pdf_text(response.data)
    assert "Step 4" in text and "Step 3" in text
    assert "Step 2" not in text and "Step 1" not in text
    assert "And 2 earlier actions, listed on the signer's page." in " ".join(text.split())
