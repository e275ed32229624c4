"""Public pages tell browsers and proxies how long to keep them (Cache-Control, ETag, 304),
never vary on a cookie they do not read, and are compressed for clients that accept it."""

from __future__ import annotations

import gzip
import time

import brotli
import pytest
from flask import g
from sqlalchemy import update

from pledges import create_app
from pledges.extensions import db
from pledges.infrastructure.http_cache import CSRF_PLACEHOLDER
from pledges.me import service
from pledges.models import Pledge, Signature
from tests.factories import confirmed_signature, make_pledge
from tests.helpers import csrf_token, sign_via_form, signer_page

PUBLIC_PAGES = [
    "/p/{slug}/wall",
    "/p/{slug}/actions",
    "/p/{slug}/feed.atom",
    "/p/{slug}/embed",
    "/about",
    "/",
    "/api/v1/pledges",
    "/api/v1/pledges/{slug}",
    "/api/v1/pledges/{slug}/signatures",
    "/api/v1/openapi.json",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.config(HTTP_CACHE_SECONDS=15, HTTP_STALE_SECONDS=90)
def test_public_pages_may_be_kept_by_shared_caches_and_revalidated(client, app_ctx, path):
    pledge = make_pledge()
    confirmed_signature(pledge, name="Dorothy Attema")
    url = path.format(slug=pledge.slug) + "?lang=en"

    # The first answer to ?lang= sets the language cookie: never a shared cache's to keep.
    chosen = client.get(url)
    assert "lang=en" in chosen.headers["Set-Cookie"]
    assert "public" not in chosen.headers.get("Cache-Control", "")

    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=15, stale-while-revalidate=90"
    etag, weak = first.get_etag()
    assert etag and not weak
    assert "Cookie" not in first.vary

    again = client.get(url, headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304 and again.data == b""
    assert again.get_etag() == (etag, False)
    assert again.headers["Cache-Control"].startswith("public, max-age=15")

    other = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data


def test_a_change_on_the_wall_changes_its_etag(client, app_ctx):
    pledge = make_pledge()
    signature = confirmed_signature(pledge, name="Dorothy Attema")
    wall = f"/p/{pledge.slug}/wall?lang=en"
    etag = client.get(wall).get_etag()[0]
    # Revalidated once: this process now remembers the ETag as current...
    assert client.get(wall, headers={"If-None-Match": f'"{etag}"'}).status_code == 304

    # ...and forgets it when it commits a change to the wall.
    service.change_visibility(signature, "anonymous", "")
    db.session.commit()
    fresh = client.get(wall, headers={"If-None-Match": f'"{etag}"'})
    assert fresh.status_code == 200
    assert fresh.get_etag()[0] != etag
    assert "Dorothy Attema" not in fresh.text


def revalidate(client, url: str, etag: str):
    return client.get(url, headers={"If-None-Match": f'"{etag}"'})


# A memo entry lasts between its seconds less one and its seconds (cachelib counts whole
# seconds): 3 leaves the test two seconds, however busy the machine, to see it still held.
MEMO_SETTINGS = [
    {"REVALIDATION_MEMO_SECONDS": 3, "HTTP_CACHE_SECONDS": 10},
    {"REVALIDATION_MEMO_SECONDS": 0, "HTTP_CACHE_SECONDS": 10},  # off
    {"REVALIDATION_MEMO_SECONDS": 3, "HTTP_CACHE_SECONDS": 0},  # never beyond max-age
]


@pytest.mark.parametrize(
    "settings", [pytest.param(each, marks=pytest.mark.config(**each)) for each in MEMO_SETTINGS]
)
def test_another_process_s_change_is_confirmed_as_current_for_the_memo_s_lifetime_at_most(
    app, app_config, settings
):
    memo = min(settings["REVALIDATION_MEMO_SECONDS"], settings["HTTP_CACHE_SECONDS"])
    # Two processes serving one database: each app keeps its own memo, as a process does.
    other = create_app({**app_config, **settings})
    try:
        with app.app_context():
            pledge = make_pledge()
            signature = confirmed_signature(pledge, name="Dorothy Attema")
            signature_id = signature.id
            wall = f"/p/{pledge.slug}/wall?lang=en"
        here, there = app.test_client(), other.test_client()
        etag = here.get(wall).get_etag()[0]
        assert etag == there.get(wall).get_etag()[0]
        for client in (here, there):  # both remember the ETag as current (where they may)
            assert revalidate(client, wall, etag).status_code == 304

        with other.app_context():  # the other process withdraws her signature
            service.withdraw(db.session.get(Signature, signature_id))
            db.session.commit()

        # The process that made the change knows at once; a new reader is never served the
        # old page; only a copy already held may be confirmed, and only while the memo lasts.
        assert revalidate(there, wall, etag).status_code == 200
        fresh = here.get(wall)
        assert fresh.status_code == 200 and "Dorothy Attema" not in fresh.text
        assert revalidate(here, wall, etag).status_code == (304 if memo else 200)
        time.sleep(memo + 0.1)
        later = revalidate(here, wall, etag)
        assert later.status_code == 200 and "Dorothy Attema" not in later.text
    finally:
        with other.app_context():  # its connections closed, as a process's would be
            db.session.remove()
            db.engine.dispose()


def test_the_etag_follows_the_language(client, app_ctx):
    pledge = make_pledge()
    english = client.get(f"/p/{pledge.slug}/wall?lang=en")
    french = client.get(
        f"/p/{pledge.slug}/wall?lang=fr", headers={"If-None-Match": english.headers["ETag"]}
    )
    assert french.status_code == 200 and french.get_etag() != english.get_etag()


def test_a_negotiated_language_says_what_it_varies_on(client, app_ctx):
    pledge = make_pledge()
    page = client.get(f"/p/{pledge.slug}/wall", headers={"Accept-Language": "fr"})
    # The language came from a header or the language cookie: caches must key on both.
    assert {"Accept-Language", "Cookie", "Accept-Encoding"} <= set(page.vary)


def test_a_visitor_with_a_session_cookie_but_nothing_in_it_gets_the_public_page(client, app_ctx):
    pledge = make_pledge()
    # Opening the sign form puts a CSRF token in the session: the wall is still everyone's.
    assert client.get(f"/p/{pledge.slug}?lang=en").status_code == 200
    assert client.get_cookie("session") is not None
    wall = client.get(f"/p/{pledge.slug}/wall?lang=en")
    assert wall.headers["Cache-Control"].startswith("public")
    assert "Cookie" not in wall.vary and "Set-Cookie" not in wall.headers


def test_a_page_with_a_message_for_this_visitor_is_not_shared(client, app_ctx):
    pledge = make_pledge()
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Only for you")]
    page = client.get(f"/p/{pledge.slug}/wall?lang=en")
    assert "Only for you" in page.text
    assert "public" not in page.headers.get("Cache-Control", "")
    assert page.get_etag() == (None, None)


def test_pages_that_are_someones_own_are_never_public(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    page = client.get(me)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.get_etag() == (None, None)

    # Nor is a PDF compressed a second time.
    pdf = client.get(f"{me}/pledge.pdf", headers={"Accept-Encoding": "br, gzip"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Content-Encoding" not in pdf.headers


@pytest.mark.parametrize(
    ("coding", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)]
)
def test_pages_are_compressed_for_clients_that_accept_it(client, app_ctx, coding, decode):
    pledge = make_pledge()
    for n in range(5):
        confirmed_signature(pledge, name=f"Signer Number{n}")
    wall = f"/p/{pledge.slug}/wall?lang=en"
    plain = client.get(wall)
    packed = client.get(wall, headers={"Accept-Encoding": coding})
    assert packed.headers["Content-Encoding"] == coding
    assert decode(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 3
    assert "Accept-Encoding" in packed.vary

    # One strong ETag per representation, and each revalidates.
    etag = packed.get_etag()[0]
    assert etag == f"{plain.get_etag()[0]}:{coding}"
    again = client.get(wall, headers={"Accept-Encoding": coding, "If-None-Match": f'"{etag}"'})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/static/css/app.css", "/api/v1/openapi.json"])
def test_stylesheets_and_json_are_compressed(client, app_ctx, path):
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.get_data())
    response.close()


def test_the_sign_page_is_rendered_once_and_each_visitor_gets_their_own_token(app, app_ctx):
    pledge = make_pledge()
    first, second = app.test_client(), app.test_client()
    page_one = first.get(f"/p/{pledge.slug}?lang=en").text
    # Requests made inside the test's app context share its ``g``, where Flask-WTF keeps
    # the token it handed out; a real request has a ``g`` of its own.
    g.pop("csrf_token")
    page_two = second.get(f"/p/{pledge.slug}?lang=en").text
    token_one, token_two = csrf_token(page_one), csrf_token(page_two)
    assert token_one != token_two and CSRF_PLACEHOLDER not in page_one
    # The rest of the page is the one copy from the cache.
    assert page_one.replace(token_one, "") == page_two.replace(token_two, "")

    # A change behind the services' back is not seen: the page came from the cache.
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(title="Changed"))
    db.session.commit()
    assert "Changed" not in first.get(f"/p/{pledge.slug}?lang=en").text

    # Each visitor's token is theirs: one visitor's fails in the other's session.
    g.pop("csrf_token")
    assert sign_via_form(second, pledge, csrf_token=token_one).status_code == 400
    g.pop("csrf_token")
    assert sign_via_form(first, pledge, csrf_token=token_one).status_code == 302

    # A signature the wall shows renews the cached page (its count).
    confirmed_signature(pledge, name="Dorothy Attema")
    assert "Changed" in first.get(f"/p/{pledge.slug}?lang=en").text


def test_the_session_cookie_s_serializer_follows_the_secret_key_and_its_fallbacks(app):
    """The serializer is built once per set of keys, not once per process: a new key stops
    old cookies, and listing the old key in SECRET_KEY_FALLBACKS accepts them again."""
    from itsdangerous import BadSignature

    interface = app.session_interface
    old_key = app.secret_key
    cookie = interface.get_signing_serializer(app).dumps({"csrf_token": "abc"})
    assert interface.get_signing_serializer(app).loads(cookie) == {"csrf_token": "abc"}

    app.secret_key = app.config["SECRET_KEY"] = "another-secret-key-" + "x" * 40
    with pytest.raises(BadSignature):
        interface.get_signing_serializer(app).loads(cookie)

    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    rotated = interface.get_signing_serializer(app)
    assert rotated.loads(cookie) == {"csrf_token": "abc"}
    # New cookies are signed with the new key: they read without the fallback too.
    fresh = rotated.dumps({"csrf_token": "def"})
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert interface.get_signing_serializer(app).loads(fresh) == {"csrf_token": "def"}
