"""Rendering a dossier: the front matter, the list of signers in parts, and the count of the
signers past the list, laid out as WeasyPrint documents and written as ONE tagged PDF.

The list names at most DOSSIER_MAX_LISTED signers (the first to sign); the others are
counted by country after it, so a dossier of a million signers stays a printable document
and its layout, about a megabyte a page, stays bounded. Each part of the list starts its
page counter where the previous one ended, so the page numbers run on; the parts' pages
are then joined into one document (WeasyPrint's ``Document.copy``), which keeps every
page's boxes, so the PDF carries one structure tree (headings, paragraphs, tables), the
language and the title: a screen reader reads it in order.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app, has_request_context, url_for
from sqlalchemy import func, select

from pledges.domain.tallies import tally_for
from pledges.dossier import content
from pledges.dossier.content import ProgressCallback
from pledges.extensions import db
from pledges.infrastructure.security import sha256_hex
from pledges.infrastructure.urls import external_url
from pledges.models import Pledge, Signature
from pledges.presentation import world_map
from pledges.presentation.display import min_public_count
from pledges.presentation.pdf import generated_url, qr_code_svg, render_document

FRONT_TEMPLATE = "pdf/dossier.html"
SIGNERS_TEMPLATE = "pdf/dossier_signers.html"
FURTHER_TEMPLATE = "pdf/dossier_further.html"
#: Signers per part of the list: about 15 pages, laid out at a time.
DEFAULT_PART_SIZE = 2000


@dataclass(frozen=True)
class BuiltDossier:
    pages: int
    size_bytes: int
    sha256: str
    signatures: int  # confirmed signatures when it was issued
    seconds: float


def front_matter_context(
    pledge: Pledge,
    audience: str,
    issued_at: datetime,
    code: str | None,
    chart_url=generated_url,
    covering_letter: str = "",
) -> dict:
    """What the front matter template needs, for the PDF and its HTML preview alike.

    ``code`` is None in a preview: nothing is issued, so there is nothing to verify.
    ``chart_url(name)`` says where the template finds each chart.
    """
    profile = content.audience_profile(audience)
    tally = tally_for(pledge.id)
    verify_url = external_url("dossier.verify", code=code) if code else None
    charts = (
        content.dossier_charts(pledge, tally, issued_at) if "charts" in profile.sections else []
    )
    return {
        "pledge": pledge,
        "audience": profile,
        "tally": tally,
        # Small-count protection: cells under MIN_PUBLIC_COUNT read "fewer than N".
        "by_role": content.public_counts(tally.by_role, sorted(tally.by_role)),
        "by_country": content.public_counts(tally.by_country),
        # The same cells on a world map (small-count protection applied to each).
        "country_map": world_map.country_map(
            content.public_counts(tally.by_country), min_public_count()
        )
        if "figures" in profile.sections and tally.by_country
        else None,
        "lede": content.cover_lede(profile, pledge, tally),
        "issued_at": issued_at,
        "code": code,
        "verify_url": verify_url,
        "qr_code": qr_code_svg(verify_url) if verify_url else None,
        "wall_url": external_url("wall.wall", slug=pledge.slug),
        "charts": [(chart.title, chart_url(chart.name)) for chart in charts],
        "chart_svgs": {chart.name: chart.svg for chart in charts},
        "actions": content.selected_actions(pledge, profile.actions),
        "quotes": content.quotes(pledge, issued_at, profile.quotes),
        "commitments": pledge.offered_commitments,
        "cosigners": [c.organization for c in pledge.cosigners],
        "covering_letter": covering_letter,
    }


@contextlib.contextmanager
def _document_context():
    """Templates build static URLs with url_for: outside a request (CLI, a background
    thread) give them one on BASE_URL."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        yield


def build(
    pledge: Pledge,
    audience: str,
    target: Path,
    *,
    code: str,
    issued_at: datetime,
    part_size: int = DEFAULT_PART_SIZE,
    progress: ProgressCallback = lambda done, total: None,
    covering_letter: str = "",
) -> BuiltDossier:
    """Write the dossier to ``target`` (the caller renames it into place)."""
    started = time.perf_counter()
    profile = content.audience_profile(audience)
    listed = db.session.scalar(
        select(func.count())
        .select_from(Signature)
        .where(*content.listed_signatures(pledge, issued_at))
    )
    cutoff = (
        content.listing_cutoff(pledge, issued_at, max_listed()) if profile.lists_signers else None
    )
    named = listed if cutoff is None else min(listed, max_listed())
    steps = 2 + (content.count_parts(named, part_size) if profile.lists_signers else 0)
    with _document_context():
        context = front_matter_context(
            pledge, audience, issued_at, code, covering_letter=covering_letter
        )
        generated = {
            generated_url(name): (svg.encode(), "image/svg+xml")
            for name, svg in context.pop("chart_svgs").items()
        }
        # A list that follows starts on a page of its own: its introduction goes with it, so
        # the front matter does not end on a page holding only that and the verification box.
        intro_with_list = bool(profile.lists_signers and named)
        documents = [
            render_document(
                FRONT_TEMPLATE,
                generated,
                listed=listed,
                named=named,
                intro_with_list=intro_with_list,
                **context,
            )
        ]
        pages = len(documents[0].pages)
        progress(1, steps)
        if profile.lists_signers:
            parts = content.signer_parts(pledge, issued_at, part_size, cutoff) if named else ()
            for number, runs in enumerate(parts):
                documents.append(
                    render_document(
                        SIGNERS_TEMPLATE,
                        pledge=pledge,
                        runs=runs,
                        first_page=pages + 1,
                        code=code,
                        intro=number == 0,
                        listed=listed,
                        named=named,
                    )
                )
                pages += len(documents[-1].pages)
                progress(min(2 + number, steps - 1), steps)
            if cutoff is not None:
                documents.append(
                    render_document(
                        FURTHER_TEMPLATE,
                        pledge=pledge,
                        named=named,
                        further=listed - named,
                        by_country=content.further_by_country(pledge, issued_at, cutoff),
                        first_page=pages + 1,
                    )
                )
                pages += len(documents[-1].pages)
        # One document, the front matter's metadata (title, language) its own.
        whole = documents[0].copy([page for document in documents for page in document.pages])
        whole.write_pdf(target, pdf_tags=True)
    progress(steps, steps)
    return BuiltDossier(
        pages=pages,
        size_bytes=target.stat().st_size,
        sha256=_sha256_of_file(target),
        signatures=listed,
        seconds=time.perf_counter() - started,
    )


def max_listed() -> int:
    """How many signers a dossier names at most (DOSSIER_MAX_LISTED)."""
    return int(current_app.config["DOSSIER_MAX_LISTED"])


def _sha256_of_file(path: Path) -> str:
    with path.open("rb") as stream:
        return sha256_hex(stream)


def preview_context(pledge: Pledge, audience: str, issued_at: datetime) -> dict:
    """The front matter as a page: charts are fetched from the preview's chart route."""
    context = front_matter_context(
        pledge,
        audience,
        issued_at,
        None,
        chart_url=lambda name: url_for(
            "dossier.chart", slug=pledge.slug, audience=audience, name=name
        ),
    )
    context.pop("chart_svgs")
    context["listed"] = tally_for(pledge.id).total
    context["named"] = min(context["listed"], max_listed())
    return context
