"""Print templates (``templates/pdf/``) rendered to PDF by WeasyPrint.

The renderer may read the app's own static files (stylesheet, fonts) and nothing else: no
``file://``, no network, no ``data:`` (a chart the app drew for a document is handed to the
fetcher by exact URL instead). Documents carry text people typed, and a URL fetcher
that could open anything would let a crafted note read files off the server or call out.
"""

from __future__ import annotations

import mimetypes
import re
import threading
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import segno
from flask import Response, current_app, render_template, request
from markupsafe import Markup
from weasyprint import CSS, HTML, Document
from weasyprint.text.fonts import FontConfiguration
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
    """Serves ``<static_url>/<path>`` from ``static_folder``; refuses every other URL.

    ``generated`` adds resources the app made for this one document (a chart), served
    only at their exact URLs: ``{url: (bytes, content type)}``.
    """

    def __init__(
        self,
        static_folder: str | Path,
        static_url: str,
        generated: dict[str, tuple[bytes, str]] | None = None,
    ) -> None:
        super().__init__(allowed_protocols=())
        self.static_folder = Path(static_folder).resolve()
        self.static_url = urlsplit(static_url.rstrip("/") + "/")
        self.generated = dict(generated or {})

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url in self.generated:
            content, content_type = self.generated[url]
            return URLFetcherResponse(url, content, {"Content-Type": content_type})
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


def static_files_fetcher(
    generated: dict[str, tuple[bytes, str]] | None = None,
) -> StaticFilesFetcher:
    """The fetcher for the current app: its static folder, under its BASE_URL."""
    app = current_app
    static_url = app.config["BASE_URL"].rstrip("/") + (app.static_url_path or "/static")
    return StaticFilesFetcher(app.static_folder, static_url, generated)


def generated_url(name: str) -> str:
    """Where a document finds a resource made for it (see ``StaticFilesFetcher.generated``)."""
    return current_app.config["BASE_URL"].rstrip("/") + "/_generated/" + name


def qr_code_svg(data: str) -> Markup:
    """A QR code as inline SVG markup: drawn as vectors, so the renderer fetches nothing."""
    # segno writes only its own path data; ``data`` never reaches the markup as text.
    return Markup(segno.make(data, error="m").svg_inline(scale=3, omitsize=True))  # noqa: S704


#: A print template's own ``<link rel="stylesheet">`` tags, as ``url_for`` writes them. What
#: people typed is escaped, so it can never produce one.
STYLESHEET_LINK = re.compile(r'<link rel="stylesheet" href="([^"<>]+)">')


class _PrintResources(threading.local):
    """Fonts and parsed stylesheets kept between documents, one set per thread.

    A fresh ``FontConfiguration`` loads every ``@font-face`` file and Pango builds its
    font sets anew, and a stylesheet is parsed again: together a quarter of a signed
    pledge's render, for the same result byte for byte. WeasyPrint's font configuration
    wraps a Pango font map, which is not safe to share between threads, hence a set each.
    """

    def __init__(self) -> None:
        self._font_config: FontConfiguration | None = None
        #: ``{(url, file, mtime, size): CSS}``, parsed with ``font_config``.
        self.stylesheets: dict[tuple, CSS] = {}

    @property
    def font_config(self) -> FontConfiguration:
        if self._font_config is None:  # on first use: importing this module renders nothing
            self._font_config = FontConfiguration()
        return self._font_config


_print_resources = _PrintResources()


def print_stylesheets(html: str, base_url: str, fetcher: StaticFilesFetcher) -> tuple[str, list]:
    """Take the app's own stylesheet links out of ``html``; return it and the parsed sheets.

    A sheet is parsed once per thread (again if its file changed). Passed to WeasyPrint as
    user stylesheets they cascade as the links did: a template's own ``<style>``, which
    comes after its link, still wins over it. A link outside the static files is left in
    place, for the renderer to refuse as it refuses anything else.
    """
    resources = _print_resources
    sheets = []

    def take(match: re.Match) -> str:
        url = urljoin(base_url, match.group(1))
        try:
            path = fetcher.static_file(url)
        except ResourceRefused:
            return match.group(0)
        stat = path.stat()
        key = (url, str(path), stat.st_mtime_ns, stat.st_size)
        if key not in resources.stylesheets:
            resources.stylesheets[key] = CSS(
                url=url, url_fetcher=fetcher, font_config=resources.font_config
            )
        sheets.append(resources.stylesheets[key])
        return ""

    return STYLESHEET_LINK.sub(take, html), sheets


def render_document(
    template: str, generated: dict[str, tuple[bytes, str]] | None = None, **context: object
) -> Document:
    """Lay a print template out into pages (not yet PDF): count them, then write them."""
    base_url = current_app.config["BASE_URL"].rstrip("/") + "/"
    fetcher = static_files_fetcher(generated)
    html, stylesheets = print_stylesheets(render_template(template, **context), base_url, fetcher)
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=stylesheets, font_config=_print_resources.font_config
    )


def render_pdf(template: str, variant: str = DocumentVariant.PDF, **context: object) -> bytes:
    """Render a print template to PDF bytes, in the given variant."""
    # Tagged (a structure tree, the document's language and title): screen readers read
    # the signed pledge in order, headings and lists as such, the PDF/A copy included.
    return render_document(template, **context).write_pdf(
        pdf_variant=WEASYPRINT_VARIANTS[variant], pdf_tags=True
    )


def pdf_response(pdf: bytes, filename: str, *, resumable: bool = False) -> Response:
    """``pdf`` as a download named ``filename``, kept by no cache: it may be private.

    ``resumable`` answers Range requests too, for a large document stored once (a dossier);
    a document rendered afresh for each request is sent whole.
    """
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    if resumable:
        response.make_conditional(request, accept_ranges=True, complete_length=len(pdf))
    return response
