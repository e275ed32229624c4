"""What is shared through Redis, checked on a real Redis server.

Every test here takes ``redis_url``: it runs against a server that answered PING, with
the limiter's in-memory fallback and error swallowing switched off (tests/conftest.py), so
a Redis that is down fails the test instead of passing it on memory. Where a count must
live in Redis, the test deletes the app's keys from the server and sees the limit lifted:
a count kept anywhere else would survive that.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select, update

from pledges import create_app
from pledges.dossier import service as dossier_service
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import Dossier, DossierStatus, Signature
from tests.conftest import redis_settings
from tests.factories import confirmed_signature, make_pledge, make_user
from tests.helpers import csrf_token, deliver_and_read, links_in, log_in, sign_via_form


@pytest.fixture
def app_config(app_config: dict, redis_url: str) -> dict:
    return {**app_config, **redis_settings(redis_url)}


@pytest.fixture
def other_host(app: Flask, app_config: dict, request) -> Iterator[Flask]:
    """A second app on the same database and the same Redis, as a second web host."""
    marker = request.node.get_closest_marker("config")
    host = create_app({**app_config, **(marker.kwargs if marker else {})})
    yield host
    with host.app_context():
        db.session.remove()
        db.engine.dispose()


def limit_keys(app: Flask) -> list[bytes]:
    """The rate-limit and lock-out counters the app holds in Redis."""
    server = redis.Redis.from_url(app.config["REDIS_URL"])
    try:
        return list(server.scan_iter(match=f"*{app.config['RATELIMIT_KEY_PREFIX']}*"))
    finally:
        server.close()


def forget_limits(app: Flask) -> None:
    """Delete the app's counters from Redis: a limit held only there is lifted."""
    keys = limit_keys(app)
    assert keys, "no rate-limit counters in Redis"
    server = redis.Redis.from_url(app.config["REDIS_URL"])
    try:
        server.delete(*keys)
    finally:
        server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_limiter_on_an_unreachable_redis_fails_instead_of_falling_back(app, app_config):
    """The guard for every other test here: the test settings do not fall back to memory."""
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    host = create_app({**app_config, **redis_settings(dead)})
    try:
        with host.app_context():
            pledge = make_pledge()
            # Production would let the signature through on the in-memory stand-in.
            assert sign_via_form(host.test_client(), pledge).status_code == 500
            assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    finally:
        with host.app_context():
            db.session.remove()
            db.engine.dispose()


def test_signing_limit_per_address_is_counted_in_redis(app, client):
    app.config.update(SIGN_LIMIT_PER_IP="2 per minute")
    with app.app_context():
        pledge = make_pledge()
        for n in range(2):
            assert sign_via_form(client, pledge, email=f"s{n}@example.org").status_code == 302
        assert sign_via_form(client, pledge, email="s3@example.org").status_code == 429
        forget_limits(app)
        assert sign_via_form(client, pledge, email="s3@example.org").status_code == 302


def test_signing_limit_per_email_domain_is_counted_in_redis(app, client):
    app.config.update(SIGN_LIMIT_PER_DOMAIN="2 per minute", SIGN_LIMIT_PER_IP="100 per minute")
    with app.app_context():
        pledge = make_pledge()
        for n in range(2):
            assert sign_via_form(client, pledge, email=f"b{n}@flood.example").status_code == 302
        assert sign_via_form(client, pledge, email="b3@flood.example").status_code == 429
        assert sign_via_form(client, pledge, email="x@other.example").status_code == 302
        forget_limits(app)
        assert sign_via_form(client, pledge, email="b3@flood.example").status_code == 302


def test_confirm_and_api_limits_are_counted_in_redis(app, client, outbox_dir):
    app.config.update(API_LIMIT_PER_IP="2 per minute", CONFIRM_LIMIT_PER_IP="2 per minute")
    with app.app_context():
        pledge = make_pledge()
        sign_via_form(client, pledge)
        confirm = links_in(deliver_and_read(outbox_dir)[0])["confirm"]
    token = csrf_token(client.get(confirm).text)
    for expected in (302, 200, 429):
        assert client.post(confirm, data={"csrf_token": token}).status_code == expected
    for expected in (200, 200, 429):
        assert client.get("/api/v1/pledges").status_code == expected
    forget_limits(app)
    assert client.post(confirm, data={"csrf_token": token}).status_code == 200
    assert client.get("/api/v1/pledges").status_code == 200


def test_report_limit_is_counted_in_redis(app, client):
    app.config.update(REPORT_LIMIT_PER_IP="2 per hour")
    with app.app_context():
        pledge = make_pledge()
        signature = confirmed_signature(pledge)
        url = f"/p/{pledge.slug}/report/{signature.public_id}"

    def report():
        token = csrf_token(client.get(url).text)
        return client.post(url, data={"csrf_token": token, "reason": "unsafe"})

    assert [report().status_code for _ in range(3)] == [302, 302, 429]
    forget_limits(app)
    assert report().status_code == 302


@pytest.mark.config(LOGIN_FAILURES_BEFORE_LOCKOUT="3 per 15 minutes")
def test_login_lock_out_is_shared_by_every_host(app, client, other_host):
    with app.app_context():
        make_user("me@example.org")
    for _ in range(2):
        log_in(client, "me@example.org", "wrong password 123")
    # The third failure, on another host, locks the address on both.
    assert "locked for" in log_in(other_host.test_client(), "me@example.org", "wrong 1234").text
    assert "locked for" in log_in(app.test_client(), "me@example.org").text
    forget_limits(app)
    assert log_in(app.test_client(), "me@example.org").status_code == 302


@pytest.mark.config(LOGIN_LIMIT_PER_IP="2 per minute")
def test_login_limit_per_address_is_counted_in_redis(app, client):
    for _ in range(2):
        assert log_in(client, "x@example.org", "wrong password 123").status_code == 422
    assert log_in(client, "x@example.org", "wrong password 123").status_code == 429
    forget_limits(app)
    assert log_in(client, "x@example.org", "wrong password 123").status_code == 422


def test_a_wall_cached_by_one_host_is_served_by_the_other_until_a_change(app, other_host):
    with app.app_context():
        pledge = make_pledge()
        signature = confirmed_signature(pledge, name="Merle Gosewinkel")
        slug, signature_id = pledge.slug, signature.id
    wall, feed = f"/p/{slug}/wall", f"/p/{slug}/feed.atom"
    assert "Merle Gosewinkel" in app.test_client().get(wall).text
    first_feed = app.test_client().get(feed).data

    # Changed behind the services' back: the other host still serves the first host's
    # pages, which it can only have read from Redis.
    with app.app_context():
        db.session.execute(
            update(Signature).where(Signature.id == signature_id).values(full_name="Changed")
        )
        db.session.commit()
    assert "Merle Gosewinkel" in other_host.test_client().get(wall).text
    assert other_host.test_client().get(feed).data == first_feed

    # A change through the services on the other host is seen at once on the first.
    with other_host.app_context():
        confirmed_signature(db.session.merge(pledge), name="Isabelle Geuskens")
    for host in (app, other_host):
        page = host.test_client().get(wall).text
        assert "Isabelle Geuskens" in page and "Changed" in page
        assert b"Isabelle Geuskens" in host.test_client().get(feed).data


@pytest.mark.config(DOSSIER_MAX_BUILDS=2)
def test_dossier_build_slots_are_counted_across_hosts(app, other_host):
    """Builds running on one host hold the slots for the other (they are counted in the
    shared database, the only store every host of a production setup has in common)."""
    with app.app_context():
        for _ in range(2):
            dossier = dossier_service.request_dossier(make_pledge(), "officials")
            dossier.status = DossierStatus.BUILDING
        db.session.commit()
        waiting = make_pledge()
    with other_host.app_context():
        pledge = db.session.merge(waiting)
        with pytest.raises(dossier_service.DossierError, match="Other dossiers are being built"):
            dossier_service.request_dossier(pledge, "officials", limit_builds=True)
        db.session.rollback()
    with app.app_context():
        db.session.execute(update(Dossier).values(updated_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    with other_host.app_context():
        pledge = db.session.merge(waiting)
        dossier = dossier_service.request_dossier(pledge, "funders", limit_builds=True)
        assert dossier.status == DossierStatus.QUEUED
        db.session.rollback()


def test_a_page_cache_that_does_not_answer_costs_a_render_not_the_page(app, app_config):
    """Readers still get the wall and the sign form while the shared cache is down."""
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    host = create_app(
        {
            **app_config,
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": dead,
            "RATELIMIT_ENABLED": False,
        }
    )
    try:
        with host.app_context():
            pledge = make_pledge()
            confirmed_signature(pledge, name="Dorothy Attema")
            client = host.test_client()
            assert "Dorothy Attema" in client.get(f"/p/{pledge.slug}/wall").text
            assert sign_via_form(client, pledge).status_code == 302
    finally:
        with host.app_context():
            db.session.remove()
            db.engine.dispose()
