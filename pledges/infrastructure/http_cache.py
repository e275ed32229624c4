"""HTTP caching of the public pages every visitor sees alike: Cache-Control, ETags, 304s.

A view whose answer does not depend on who asks (the wall, the actions feed, the Atom feed,
the embed counter, About, the public API) is marked ``@public_cache``. Its 200 answers to
GET and HEAD then say ``Cache-Control: public, max-age=HTTP_CACHE_SECONDS,
stale-while-revalidate=HTTP_STALE_SECONDS`` and carry a strong ETag, and a request whose
``If-None-Match`` holds that ETag gets 304 Not Modified. Browsers, a reverse proxy in front
of the app (README: micro-caching with nginx) or a CDN can then absorb a surge of readers.

A view that knows its version before doing any work (a wall page: the pledge's
``wall_version`` is in its cache key) names its ETag with ``etag_for`` and asks
``not_modified`` first, so a revalidation costs one indexed row and no rendering. Other
marked views get an ETag from their body's hash.

Compression (Flask-Compress) appends ``:br`` or ``:gzip`` to a strong ETag, one per
representation as HTTP asks; ``not_modified`` accepts each of them.

Never for a visitor's own page: a flashed message or a logged-in organizer makes the page
theirs, and ``pledges.infrastructure.headers`` sends those ``no-store``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import ImmutableMultiDict

View = TypeVar("View", bound=Callable[..., object])

#: Content codings Flask-Compress may append to a strong ETag (``"tag:br"``).
CODING_SUFFIXES = ("br", "gzip", "deflate", "zstd")


def public_cache(view: View) -> View:
    """Mark a view whose answers are the same for every visitor (see the module doc)."""
    view.public_cache = True  # type: ignore[attr-defined]
    return view


def session_cookie_sent() -> bool:
    """Whether the browser sent a session cookie. Asking the session itself whether it
    holds anything marks it read, and Flask then adds ``Vary: Cookie`` to the response,
    which keeps every shared cache from storing it."""
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies


def visitor_specific() -> bool:
    """Whether this visitor's page differs from everyone's: a message flashed for them, or
    an organizer logged in. Reads the session only when the browser sent one."""
    return session_cookie_sent() and ("_flashes" in session or "_user_id" in session)


def etag_for(*parts: str) -> str:
    """A strong ETag naming one version of a page: a hash of what its cache key holds."""
    return hashlib.blake2b(":".join(parts).encode(), digest_size=16).hexdigest()


def _matches(etag: str) -> bool:
    tags = request.if_none_match
    return tags.contains_weak(etag) or any(
        tags.contains_weak(f"{etag}:{coding}") for coding in CODING_SUFFIXES
    )


def not_modified(etag: str) -> Response | None:
    """A 304 for a conditional GET whose If-None-Match holds ``etag`` (in any coding), or
    None: the caller renders the page and returns it with ``with_etag``."""
    if request.method not in ("GET", "HEAD") or not request.if_none_match:
        return None
    if not _matches(etag) or visitor_specific():
        return None
    response = Response(status=304)
    response.set_etag(etag)
    _mark_public(response)
    return response


def with_etag(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    return response


def _mark_public(response: Response) -> None:
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.config['HTTP_CACHE_SECONDS']}, "
        f"stale-while-revalidate={current_app.config['HTTP_STALE_SECONDS']}"
    )
    # The page read the session only to learn that it holds nothing of this visitor's;
    # the answer does not depend on it, so caches need not keep one copy per cookie.
    session.accessed = False


def _is_public_view() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "public_cache", False))


def mark_public_responses(response: Response) -> Response:
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or not _is_public_view()
        or visitor_specific()
        # A message shown once (and taken out of the session) made the page this visitor's.
        or (session_cookie_sent() and session.modified)
        # A shared cache must never hand one visitor's cookie (a language chosen with
        # ?lang=) to everyone; the next request, carrying it, gets the public copy.
        or "Set-Cookie" in response.headers
    ):
        return response
    _mark_public(response)
    if response.get_etag()[0] is None and not response.is_streamed:
        response.add_etag()
    if not (request.if_none_match or request.if_modified_since):
        return response  # nothing to compare: no need to parse ranges and dates
    return response.make_conditional(request)


def read_static_files_whole(response: Response) -> Response:
    """A stylesheet or script is streamed from its file; read it into the response (they
    are small) so that Flask-Compress, which leaves streams alone, compresses it, and the
    file is closed when the response is."""
    if (
        request.endpoint == "static"
        and response.status_code == 200
        and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]
        and response.is_streamed
    ):
        response.direct_passthrough = False
        response.make_sequence()
    return response


class LeanCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, but a request without the cookie (most readers of
    public pages) gets an empty session without building the signing serializer (a key
    derivation) first."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, built once per set of keys rather than for every request that
        reads or writes the cookie (a signer's form page and its POST both do)."""
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        return self._serializer(keys)

    @functools.lru_cache(maxsize=4)  # noqa: B019 - one interface per app, a few key sets
    def _serializer(self, keys: tuple[str | bytes, ...]) -> URLSafeTimedSerializer | None:
        return URLSafeTimedSerializer(
            list(keys),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )


class QueryArgs(ImmutableMultiDict):
    """Werkzeug's query and form values, but ``get`` of a name that is absent answers at
    once: Werkzeug's builds and catches a BadRequestKeyError (an HTTP exception) first, and
    a wall hit or a 304 asks for half a dozen parameters a shared link does not carry."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        if key not in self:
            return default
        return super().get(key, default, type)


class LeanRequest(Request):
    parameter_storage_class = QueryArgs


def init_app(app: Flask) -> None:
    """Register before every other after-request hook, so that this one runs last."""
    app.request_class = LeanRequest
    app.session_interface = LeanCookieSessionInterface()
    app.after_request(mark_public_responses)


#: Stands in for the visitor's CSRF token in a form page rendered once for everyone.
CSRF_PLACEHOLDER = "csrf-token-of-this-visitor"


def render_for_everyone(render: Callable[[], str]) -> str:
    """Render a page with a form (the sign form) once for every visitor: the CSRF token is
    a placeholder that ``fill_csrf_token`` replaces with each visitor's own."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    # Flask-WTF hands out the token it finds on ``g`` (flask_wtf.csrf.generate_csrf).
    setattr(g, field, CSRF_PLACEHOLDER)
    try:
        return render()
    finally:
        g.pop(field, None)


def fill_csrf_token(page: str) -> str:
    """A page from ``render_for_everyone`` with this visitor's CSRF token in place."""
    return page.replace(CSRF_PLACEHOLDER, generate_csrf())
