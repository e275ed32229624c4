"""Print templates (``templates/pdf/``) rendered to PDF by WeasyPrint.

The renderer may read the app's own static files (stylesheet, fonts) and nothing else: no
``file://``, no network, no ``data:``. Documents carry text people typed, and a URL fetcher
that could open anything would let a crafted note read files off the server or call out.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import segno
from flask import current_app, render_template
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from pledges.models import DocumentVariant

#: What WeasyPrint's ``pdf_variant`` is for each variant we offer (see weasyprint.pdf.VARIANTS).
WEASYPRINT_VARIANTS: dict[str, str | None] = {
    DocumentVariant.PDF: None,
    DocumentVariant.PDF_A_3B: "pdf/a-3b",
}


class ResourceRefused(ValueError):
    """The document asked for something outside the app's static files."""


class StaticFilesFetcher(URLFetcher):
    """Serves ``<static_url>/<path>`` from ``static_folder``; refuses every other URL."""

    def __init__(self, static_folder: str | Path, static_url: str) -> None:
        super().__init__(allowed_protocols=())
        self.static_folder = Path(static_folder).resolve()
        self.static_url = urlsplit(static_url.rstrip("/") + "/")

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = self.static_file(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    def static_file(self, url: str) -> Path:
        parts = urlsplit(url)
        base = self.static_url
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(
            base.path
        ):
            raise ResourceRefused(f"Not one of the app's static files: {url}")
        relative = PurePosixPath(unquote(parts.path[len(base.path) :]))
        if relative.is_absolute() or ".." in relative.parts or "\\" in str(relative):
            raise ResourceRefused(f"Not one of the app's static files: {url}")
        path = (self.static_folder / relative).resolve()
        if not path.is_relative_to(self.static_folder) or not path.is_file():
            raise ResourceRefused(f"Not one of the app's static files: {url}")
        return path


def static_files_fetcher() -> StaticFilesFetcher:
    """The fetcher for the current app: its static folder, under its BASE_URL."""
    app = current_app
    static_url = app.config["BASE_URL"].rstrip("/") + (app.static_url_path or "/static")
    return StaticFilesFetcher(app.static_folder, static_url)


def qr_code_svg(data: str) -> Markup:
    """A QR code as inline SVG markup: drawn as vectors, so the renderer fetches nothing."""
    # segno writes only its own path data; ``data`` never reaches the markup as text.
    return Markup(segno.make(data, error="m").svg_inline(scale=3, omitsize=True))  # noqa: S704


def render_pdf(template: str, variant: str = DocumentVariant.PDF, **context: object) -> bytes:
    """Render a print template to PDF bytes, in the given variant."""
    html = render_template(template, **context)
    base_url = current_app.config["BASE_URL"].rstrip("/") + "/"
    document = HTML(string=html, base_url=base_url, url_fetcher=static_files_fetcher())
    return document.write_pdf(pdf_variant=WEASYPRINT_VARIANTS[variant])
