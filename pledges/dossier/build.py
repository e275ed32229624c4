"""Rendering a dossier: the front matter as one document, the signer list in parts, merged.

WeasyPrint keeps a whole document's layout in memory, about a megabyte a page. A list of
100,000 signers is a thousand pages, so each part of the list is laid out, written to its
own PDF and dropped before the next is read; the finished parts are then merged, which
costs only their bytes. Each part starts its page counter where the previous one ended,
so the page numbers run on across parts.
"""

from __future__ import annotations

import contextlib
import tempfile
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
from pledges.presentation.pdf import generated_url, merge_pdf_files, qr_code_svg, render_document

FRONT_TEMPLATE = "pdf/dossier.html"
SIGNERS_TEMPLATE = "pdf/dossier_signers.html"
#: Signers per part of the list: about 15 pages, some 40 MB of layout at a time.
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
    workdir: Path | None = None,
) -> BuiltDossier:
    """Write the dossier to ``target`` (the caller renames it into place)."""
    started = time.perf_counter()
    profile = content.audience_profile(audience)
    listed = db.session.scalar(
        select(func.count())
        .select_from(Signature)
        .where(*content.listed_signatures(pledge, issued_at))
    )
    steps = 2 + (content.count_parts(listed, part_size) if profile.lists_signers else 0)
    with _document_context(), tempfile.TemporaryDirectory(dir=workdir) as scratch:
        parts: list[Path] = []

        def write(document) -> int:
            path = Path(scratch) / f"part-{len(parts):05d}.pdf"
            document.write_pdf(path)
            parts.append(path)
            return len(document.pages)

        context = front_matter_context(pledge, audience, issued_at, code)
        generated = {
            generated_url(name): (svg.encode(), "image/svg+xml")
            for name, svg in context.pop("chart_svgs").items()
        }
        pages = write(render_document(FRONT_TEMPLATE, generated, listed=listed, **context))
        progress(1, steps)
        if profile.lists_signers:
            for number, runs in enumerate(content.signer_parts(pledge, issued_at, part_size)):
                pages += write(
                    render_document(
                        SIGNERS_TEMPLATE,
                        pledge=pledge,
                        runs=runs,
                        first_page=pages + 1,
                        code=code,
                    )
                )
                progress(min(2 + number, steps - 1), steps)
        with target.open("wb") as out:
            merged = merge_pdf_files(parts, out)
    assert merged == pages, (merged, pages)
    progress(steps, steps)
    return BuiltDossier(
        pages=pages,
        size_bytes=target.stat().st_size,
        sha256=_sha256_of_file(target),
        signatures=listed,
        seconds=time.perf_counter() - started,
    )


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
    return context
