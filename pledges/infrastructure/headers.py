"""Security headers on every response, and the transport settings they depend on.

One ``after_request`` hook sets them on pages, error pages, the API, static files and
redirects alike. The Content-Security-Policy lives here and nowhere else: the templates use
no inline script or style and nothing from other origins, and a test keeps them that way.
A view that must be embedded in other sites (a widget) opts out of the framing ban with
``@allow_framing``; an SVG chart, styled by its own ``<style>`` element, is served as a
``standalone_image`` under a policy of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from pledges.config import ConfigurationError
from pledges.infrastructure.http_cache import session_cookie_sent

CONTENT_SECURITY_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "form-action": "'self'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
}

#: An SVG image opened on its own: no script, nothing fetched, only its inline styles.
IMAGE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)

#: Pages whose URL is itself the key to someone's data: their address must never travel
#: to another site in a Referer header, not even as an origin.
PRIVATE_PATH_PREFIXES = ("/me/", "/confirm/", "/partner/", "/password/reset/")

#: Organizer and admin pages: they show people (signers, exports, audit, accounts), so no
#: shared cache, back-forward cache or disk cache may keep a copy.
ORGANIZER_PATH_PREFIXES = ("/organize", "/admin", "/account")

# A year, the figure browsers' preload lists ask for; no "preload": that is an operator's
# decision for the whole domain.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

View = TypeVar("View", bound=Callable[..., object])


def allow_framing(view: View) -> View:
    """Let any site embed this view in a frame (the CSP's frame-ancestors, X-Frame-Options)."""
    view.allow_framing = True  # type: ignore[attr-defined]
    return view


def standalone_image(response: Response) -> Response:
    """Serve ``response`` (an SVG chart) under IMAGE_CONTENT_SECURITY_POLICY: its own
    ``<style>`` element is all it may use."""
    response.standalone_image = True  # type: ignore[attr-defined]
    return response


def content_security_policy(frame_ancestors: str | None = None) -> str:
    policy = dict(CONTENT_SECURITY_POLICY)
    if frame_ancestors is not None:
        policy["frame-ancestors"] = frame_ancestors
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def is_private_path(path: str) -> bool:
    return path.startswith(PRIVATE_PATH_PREFIXES)


def is_personal_response() -> bool:
    """Whether this response may show someone's data: a private link's page, an organizer
    page, or any page rendered for a logged-in organizer."""
    if is_private_path(request.path) or request.path.startswith(ORGANIZER_PATH_PREFIXES):
        return True
    if request.endpoint == "static":
        return False
    # Read the session only if the browser sent one: reading it adds "Vary: Cookie".
    return session_cookie_sent() and "_user_id" in session


def _framing_allowed() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "allow_framing", False))


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.update(STATIC_HEADERS)
    if getattr(response, "standalone_image", False):
        headers["Content-Security-Policy"] = IMAGE_CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"
    elif _framing_allowed():
        headers["Content-Security-Policy"] = content_security_policy(frame_ancestors="*")
        headers.pop("X-Frame-Options", None)
    else:
        headers["Content-Security-Policy"] = content_security_policy()
        headers["X-Frame-Options"] = "DENY"
    if is_private_path(request.path):
        # The URL is the key to someone's signature: never leak it, never keep the page
        # in a shared cache or the back-forward cache of a borrowed phone.
        headers["Referrer-Policy"] = "no-referrer"
    else:
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if is_personal_response() and "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        # Sent over HTTP it would be ignored, and it would be wrong in development.
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return response


def init_app(app: Flask) -> None:
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["PLEDGES_ENV"] == "production"
    x_for = app.config["PROXY_FIX_X_FOR"]
    x_proto = app.config["PROXY_FIX_X_PROTO"]
    if x_for < 0 or x_proto < 0:
        raise ConfigurationError("PROXY_FIX_X_FOR and PROXY_FIX_X_PROTO count proxies: 0 or more.")
    if x_for or x_proto:
        # Only behind a proxy we were told about: otherwise any client could claim HTTPS
        # or another address by sending the headers itself.
        proxied = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto)
        app.wsgi_app = proxied  # type: ignore[method-assign]
    app.after_request(set_security_headers)
