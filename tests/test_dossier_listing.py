"""A dossier of a viral pledge stays printable: it names at most DOSSIER_MAX_LISTED signers
(the first to sign) and counts the rest by country, with the small-count protection of every
public breakdown; and it is one tagged PDF (structure tree, language, title) however many
parts its list was laid out in."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import update

from pledges.domain import tallies
from pledges.dossier import service
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import Signature
from tests.factories import confirmed_signature, make_pledge
from tests.helpers import assert_qpdf_valid
from tests.test_dossier import words
from tests.test_pdf_tags import structure_roles


def viral_pledge():
    """Three early signers, then ten more: seven from Kenya, two from Burundi, one from
    Pakistan."""
    pledge = make_pledge(title="Allies for a just peace")
    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=20)
    signers = [(f"Early Ally {n}", "KE") for n in range(3)]
    signers += [(f"Later Kenyan {n}", "KE") for n in range(7)]
    signers += [(f"Later Burundian {n}", "BI") for n in range(2)]
    signers += [("Later Pakistani", "PK")]
    for day, (name, country) in enumerate(signers):
        signature = confirmed_signature(
            pledge,
            name=name,
            email=f"{name.replace(' ', '.').lower()}@example.org",
            country=country,
        )
        # Published on days apart, in this order: the early ones are the first to sign.
        db.session.execute(
            update(Signature)
            .where(Signature.id == signature.id)
            .values(public_since=start + timedelta(days=day))
        )
    db.session.commit()
    tallies.recount(pledge.id)
    db.session.commit()
    return pledge


def issue(pledge, tmp_path: Path, part_size: int = 2) -> bytes:
    dossier = service.request_dossier(pledge, "officials")
    db.session.commit()
    path = tmp_path / "dossier.pdf"
    service.issue(dossier, path, progress=lambda done, total: None, part_size=part_size)
    return path.read_bytes()


def test_the_dossier_names_the_first_signers_and_counts_the_rest_by_country(app, app_ctx, tmp_path):
    app.config["DOSSIER_MAX_LISTED"] = 3
    pledge = viral_pledge()
    text = words(issue(pledge, tmp_path))

    for n in range(3):
        assert f"Early Ally {n}" in text
    assert "Later" not in text  # no one past the first three is named
    assert "Of the 13 confirmed signers, the first 3 to sign follow" in text
    _, summary = text.split("Further signers by country")
    assert (
        "Besides the first 3 signers named above, 10 more signers confirmed the pledge" in summary
    )
    # Small-count protection: exact where enough signers hide in the count, else "fewer than".
    assert "Kenya 7" in summary
    assert "Burundi fewer than 5" in summary
    assert "Pakistan fewer than 5" in summary


def test_a_lone_small_country_in_the_summary_withholds_another_cell(app, app_ctx, tmp_path):
    app.config["DOSSIER_MAX_LISTED"] = 4  # the first Kenyan after the early ones is named
    pledge = viral_pledge()
    db.session.execute(
        update(Signature).where(Signature.full_name == "Later Pakistani").values(country="KE")
    )
    db.session.commit()
    _, summary = words(issue(pledge, tmp_path)).split("Further signers by country")

    # Further: Kenya 7, Burundi 2. Burundi's would follow from the exact total less Kenya's,
    # so Kenya's is withheld too (complementary suppression).
    assert "Burundi fewer than 5" in summary
    assert "Kenya 7" not in summary
    assert "Kenya not shown" in summary


def test_no_summary_while_every_signer_fits(app, app_ctx, tmp_path):
    app.config["DOSSIER_MAX_LISTED"] = 13
    text = words(issue(viral_pledge(), tmp_path))

    assert "Later Pakistani" in text and "Early Ally 0" in text
    assert "The 13 confirmed signers follow" in text
    assert "Further signers by country" not in text


def test_a_cap_of_zero_names_nobody(app, app_ctx, tmp_path):
    app.config["DOSSIER_MAX_LISTED"] = 0
    text = words(issue(viral_pledge(), tmp_path))

    assert "Early Ally" not in text and "Later" not in text
    _, summary = text.split("Further signers by country")
    assert "So that the dossier stays printable, the 13 signers are counted here" in summary
    assert "Kenya 10" in summary


def test_the_dossier_is_one_tagged_pdf_with_language_and_title(app, app_ctx, tmp_path):
    app.config["DOSSIER_MAX_LISTED"] = 5
    pdf = issue(viral_pledge(), tmp_path, part_size=2)  # the list in three parts
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]

    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert str(catalog["/Lang"]) == "en"
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert "Allies for a just peace" in reader.metadata.title

    roles = structure_roles(catalog["/StructTreeRoot"]["/K"], [])
    assert "/H1" in roles and "/H2" in roles and "/P" in roles
    assert "/Table" in roles and "/TH" in roles and "/TD" in roles  # figures and the summary
    # Every page, those of the front matter and of each part of the list alike, is tied
    # into the one tree.
    assert len(reader.pages) > 1
    assert all("/StructParents" in page for page in reader.pages)
    assert_qpdf_valid(pdf, tmp_path)
