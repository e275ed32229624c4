"""The signed pledge is a tagged PDF: a screen reader finds its structure (headings,
paragraphs, lists, in reading order), its language and its title; the archival copy too."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.factories import make_pledge
from tests.helpers import assert_qpdf_valid, signer_page


def structure_roles(element, roles: list[str]) -> list[str]:
    """The structure types under ``element``, depth first (the reading order)."""
    element = element.get_object()
    if isinstance(element, list):
        for kid in element:
            structure_roles(kid, roles)
        return roles
    if not hasattr(element, "get"):
        return roles  # a marked-content id: the leaf of the tree
    if "/S" in element:
        roles.append(str(element["/S"]))
    kids = element.get("/K")
    if kids is not None:
        structure_roles(kids, roles)
    return roles


@pytest.mark.parametrize("variant", ["", "?variant=pdf/a-3b"])
def test_the_signed_pledge_is_a_tagged_pdf(client, outbox_dir, tmp_path, app_ctx, variant):
    pledge = make_pledge(title="Allies for a just peace")
    me = signer_page(client, outbox_dir, pledge, name="Amina Wanjiru Odhiambo")
    response = client.get(f"{me}/pledge.pdf{variant}")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    catalog = reader.trailer["/Root"]

    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert str(catalog["/Lang"]) == "en"  # the signer's language
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert "Allies for a just peace" in reader.metadata.title

    roles = structure_roles(catalog["/StructTreeRoot"]["/K"], [])
    assert "/H1" in roles and "/P" in roles
    assert "/L" in roles and "/LI" in roles  # the chosen commitments, as a list
    # Every page's content is tied into the tree.
    assert all("/StructParents" in page for page in reader.pages)
    assert_qpdf_valid(response.data, tmp_path)
