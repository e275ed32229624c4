"""Security headers on every response; pages that a strict Content-Security-Policy allows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import request
from sqlalchemy import select

from pledges import PROJECT_ROOT, create_app
from pledges.config import ConfigurationError
from pledges.extensions import db
from pledges.infrastructure.headers import allow_framing
from pledges.models import Pledge
from tests.factories import confirmed_signature, make_pledge, make_user, run_by
from tests.helpers import (
    CSP,
    INLINE_OR_FOREIGN,
    PARTNER_LINK_RE,
    action_form_data,
    assert_security_headers,
    csrf_token,
    deliver_and_read,
    links_in,
    log_in,
    organizer_urls,
    sign_via_form,
    text_of,
)


@dataclass
class Site:
    """A pledge with signers, an action and a partner: every kind of page has content."""

    slug: str
    confirm: str
    me: str
    partner: str


@pytest.fixture
def site(app, client, outbox_dir) -> Site:
    with app.app_context():
        pledge = make_pledge()
        confirmed_signature(pledge, visibility="initial")
        confirmed_signature(pledge, visibility="anonymous", country="PK")
        sign_via_form(client, pledge, email="amina@example.org")
        links = links_in(deliver_and_read(outbox_dir)[-1])
        confirm_page = client.get(links["confirm"])
        client.post(links["confirm"], data={"csrf_token": csrf_token(confirm_page.text)})
        me = links["me"]
        token = csrf_token(client.get(f"{me}/actions/new").text)
        client.post(f"{me}/actions/new", data={**action_form_data(pledge), "csrf_token": token})
        invite = client.post(
            f"{me}/partners",
            data={
                "pt-csrf_token": csrf_token(client.get(me).text),
                "pt-name": "Grace Mukami",
                "pt-email": "grace@example.org",
            },
        )
        assert invite.status_code == 302
        to_partner = [m for m in deliver_and_read(outbox_dir) if m["To"] == "grace@example.org"]
        partner = PARTNER_LINK_RE.search(text_of(to_partner[-1])).group(1)
        return Site(pledge.slug, links["confirm"], me, partner)


def test_pages_errors_api_static_and_redirects_all_carry_the_headers(failing_app, site):
    client = failing_app.test_client()
    with failing_app.app_context():
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == site.slug))
        signed = sign_via_form(client, pledge, email="new@example.org")
    responses = {
        "page": (client.get(f"/p/{site.slug}"), 200),
        "not found page": (client.get("/no/such/page"), 404),
        "server error page": (client.get("/boom"), 500),
        "csrf error page": (client.post(site.confirm), 400),
        "api": (client.get("/api/v1/pledges"), 200),
        "api error": (client.get("/api/v1/pledges/missing"), 404),
        "health": (client.get("/healthz"), 200),
        "static": (client.get("/static/css/app.css"), 200),
        "redirect": (signed, 302),
    }
    for kind, (response, status) in responses.items():
        assert response.status_code == status, kind
        private = response.request.path.startswith("/confirm/")
        assert_security_headers(
            response, referrer="no-referrer" if private else "strict-origin-when-cross-origin"
        )
        response.close()
    assert responses["api"][0].headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("kind", ["confirm", "me", "partner"])
def test_private_pages_never_send_their_address_as_referrer(client, site, kind):
    path = getattr(site, kind)
    response = client.get(path)
    assert response.status_code == 200
    assert_security_headers(response, referrer="no-referrer")
    assert response.headers["Cache-Control"] == "no-store"
    # Unknown tokens and pages below them too: the address is the secret, found or not.
    assert client.get(f"/{kind}/not-a-token").headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"{path}/no-such-page").headers["Referrer-Policy"] == "no-referrer"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://pledges.test")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_forwarded_headers_are_ignored_unless_a_proxy_is_trusted(app, client):
    @app.get("/test-only/peer")
    def peer():
        return {"scheme": request.scheme, "addr": request.remote_addr}

    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    response = client.get("/test-only/peer", headers=forged)
    assert response.json == {"scheme": "http", "addr": "127.0.0.1"}
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.config(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
def test_a_trusted_proxy_tells_the_scheme_and_the_client(app, client):
    @app.get("/test-only/peer")
    def peer():
        return {"scheme": request.scheme, "addr": request.remote_addr}

    # The proxy appends the address it saw; only its own (last) entry is believed.
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    response = client.get("/test-only/peer", headers=forwarded)
    assert response.json == {"scheme": "https", "addr": "203.0.113.9"}
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_a_negative_proxy_count_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="PROXY_FIX"):
        create_app(
            {
                "SECRET_KEY": "x" * 40,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                "PROXY_FIX_X_FOR": -1,
            }
        )


def test_allow_framing_lifts_only_the_framing_ban(app, client):
    @app.get("/test-only/widget")
    @allow_framing
    def widget():
        return "<p>embeddable</p>"

    response = client.get("/test-only/widget")
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Content-Security-Policy"] == CSP.replace(
        "frame-ancestors 'none'", "frame-ancestors *"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Every other page still refuses to be framed.
    assert client.get("/").headers["X-Frame-Options"] == "DENY"


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[0]


def test_session_cookie_is_httponly_and_lax_in_development(app, client):
    with app.app_context():
        slug = make_pledge().slug
    cookie = session_cookie(client.get(f"/p/{slug}"))  # the form's CSRF token
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


@pytest.mark.config(PLEDGES_ENV="production")
def test_production_cookies_are_secure_by_default(app):
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        slug = make_pledge().slug
    client = app.test_client()
    cookie = session_cookie(client.get(f"/p/{slug}", base_url="https://pledges.test"))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.config(PLEDGES_ENV="production", SESSION_COOKIE_SECURE=False)
def test_production_may_turn_secure_cookies_off_explicitly(app):
    assert app.config["SESSION_COOKIE_SECURE"] is False


# --- what the policy allows: nothing inline, nothing from elsewhere -------------------------


def test_pages_have_no_inline_script_or_style_nor_foreign_resources(failing_app, site):
    client = failing_app.test_client()
    pages = {
        "/": 200,
        f"/p/{site.slug}": 200,
        f"/p/{site.slug}/thanks": 200,
        f"/p/{site.slug}/wall": 200,
        f"/p/{site.slug}/actions": 200,
        site.confirm: 200,
        site.me: 200,
        f"{site.me}/actions/new": 200,
        f"{site.me}/partners": 200,
        f"{site.me}/reminders": 200,
        site.partner: 200,
        "/no/such/page": 404,
        "/boom": 500,
    }
    for path, status in pages.items():
        response = client.get(path)
        assert response.status_code == status, path
        assert response.content_type.startswith("text/html"), path
        for what, pattern in INLINE_OR_FOREIGN:
            assert not pattern.search(response.text), f"{path} has {what}"
    csrf_error = client.post(site.confirm)
    assert csrf_error.status_code == 400
    assert not any(pattern.search(csrf_error.text) for _, pattern in INLINE_OR_FOREIGN)


def test_stylesheets_load_nothing_from_elsewhere():
    for sheet in Path(PROJECT_ROOT, "static").rglob("*.css"):
        text = sheet.read_text()
        assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", text), sheet
        assert "@import" not in text, sheet


def test_every_organizer_page_is_kept_out_of_every_cache(app, client):
    with app.app_context():
        admin = make_user("me@example.org", role="admin")
        pledge = run_by(make_pledge(), admin)
        confirmed_signature(pledge, name="Ada Lovelace")
        urls = organizer_urls(app, pledge.slug, ("/organize", "/admin", "/account"))
    log_in(client, "me@example.org")
    checked = 0
    for method, url, endpoint in urls:
        if method != "GET":
            continue
        response = client.get(url)
        if response.status_code == 200:
            checked += 1
        assert "no-store" in response.headers.get("Cache-Control", ""), (url, endpoint)
    assert checked >= 10  # the walk reached real pages, not only 404s
    # A public page rendered for a logged-in organizer is not cached either; for anyone
    # else it may be, and it does not vary on a cookie they did not send.
    assert client.get(f"/p/{pledge.slug}/wall").headers["Cache-Control"] == "no-store"
    public = app.test_client().get(f"/p/{pledge.slug}/wall")
    assert "no-store" not in public.headers.get("Cache-Control", "")
