"""Abuse protection: rate limits that hit and recover, honeypot, throwaway addresses,
address aliases, and IP addresses kept only as expiring hashes."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from pledges.domain.signers import normalize_email
from pledges.extensions import db
from pledges.infrastructure.abuse import hash_ip, purge_ip_hashes
from pledges.infrastructure.database import utcnow
from pledges.models import OutboxEmail, Report, Signature
from tests.conftest import REDIS_URL
from tests.factories import confirmed_signature, make_pledge
from tests.helpers import csrf_token, deliver_and_read, links_in, sign_via_form

STORAGES = ["memory://", REDIS_URL] if REDIS_URL else ["memory://"]


@pytest.fixture
def app_config(app_config, request):
    """Tests parametrized with ``storage`` get the limiter on that storage."""
    callspec = getattr(request.node, "callspec", None)
    storage = callspec.params.get("storage") if callspec else None
    return {**app_config, "RATELIMIT_STORAGE_URI": storage} if storage else app_config


def signatures() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


@pytest.mark.parametrize("storage", STORAGES)
def test_signing_limit_per_address_hits_and_recovers(app, client, storage):
    app.config.update(SIGN_LIMIT_PER_IP="2 per 1 second")
    with app.app_context():
        pledge = make_pledge()
        assert sign_via_form(client, pledge, email="a@example.org").status_code == 302
        assert sign_via_form(client, pledge, email="b@example.org").status_code == 302
        blocked = sign_via_form(client, pledge, email="c@example.org", name="Third Person")
        assert blocked.status_code == 429
        assert "pausing for a moment" in blocked.text
        assert 'value="Third Person"' in blocked.text  # nothing typed is lost
        assert blocked.headers.get("Retry-After")
        assert signatures() == 2
        # Reading the pledge is never limited.
        assert client.get(f"/p/{pledge.slug}").status_code == 200
        time.sleep(1.1)  # the window is one second: it recovers
        assert sign_via_form(client, pledge, email="c@example.org").status_code == 302
        assert signatures() == 3


def test_signing_limit_per_email_domain_spares_big_providers(app, client):
    app.config.update(SIGN_LIMIT_PER_DOMAIN="2 per minute", SIGN_LIMIT_PER_IP="100 per minute")
    with app.app_context():
        pledge = make_pledge()
        for n in range(2):
            sign_via_form(client, pledge, email=f"bot{n}@flood.example")
        assert sign_via_form(client, pledge, email="bot3@flood.example").status_code == 429
        # Another domain, and a big webmail provider, are not held back.
        assert sign_via_form(client, pledge, email="someone@other.example").status_code == 302
        for n in range(3):
            response = sign_via_form(client, pledge, email=f"person{n}@gmail.com")
            assert response.status_code == 302
        assert signatures() == 6


def test_api_and_confirm_limits_answer_in_kind(app, client, outbox_dir):
    app.config.update(API_LIMIT_PER_IP="2 per minute", CONFIRM_LIMIT_PER_IP="2 per minute")
    with app.app_context():
        pledge = make_pledge()
        sign_via_form(client, pledge)
        confirm = links_in(deliver_and_read(outbox_dir)[0])["confirm"]
        token = csrf_token(client.get(confirm).text)
        assert client.post(confirm, data={"csrf_token": token}).status_code == 302
        assert client.post(confirm, data={"csrf_token": token}).status_code == 200  # harmless
        assert client.post(confirm, data={"csrf_token": token}).status_code == 429
        assert client.get(confirm).status_code == 200  # looking is not limited
        assert client.get("/api/v1/pledges").status_code == 200
        assert client.get("/api/v1/pledges").status_code == 200
        limited = client.get("/api/v1/pledges")
        assert limited.status_code == 429
        assert limited.json["error"]["status"] == 429
        page = client.get("/no-such-page")  # HTML pages other than the API are not limited
        assert page.status_code == 404


def test_the_honeypot_catches_bots_and_stores_nothing(client, app_ctx):
    pledge = make_pledge()
    page = client.get(f"/p/{pledge.slug}").text
    assert 'class="hp" aria-hidden="true"' in page and 'tabindex="-1"' in page
    response = sign_via_form(client, pledge, website="http://spam.example")
    assert response.status_code == 400
    assert "must stay empty" in response.text
    assert signatures() == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


@pytest.mark.parametrize(
    "address", ["x@mailinator.com", "y@sub.mailinator.com", "z@10minutemail.com"]
)
def test_throwaway_addresses_are_refused_with_a_reason(client, address, app_ctx):
    pledge = make_pledge()
    response = sign_via_form(client, pledge, email=address)
    assert response.status_code == 400
    assert "Please use a permanent address" in response.text
    assert signatures() == 0


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Amina.Odhiambo+peace@GoogleMail.com", "aminaodhiambo@gmail.com"),
        ("a.m.i.n.a@gmail.com", "amina@gmail.com"),
        ("Ali+news@outlook.com", "ali@outlook.com"),
        ("first.last+tag@example.org", "first.last+tag@example.org"),
    ],
)
def test_aliases_of_one_inbox_are_one_signer(typed, key):
    assert normalize_email(typed) == key


def test_an_alias_signs_only_once(client, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge, email="amina.odhiambo@gmail.com")
    sign_via_form(client, pledge, email="AminaOdhiambo+again@googlemail.com")
    assert signatures() == 1


def test_ip_addresses_are_kept_only_as_hashes_for_a_while(client, app_ctx):
    pledge = make_pledge()
    sign_via_form(client, pledge, email="a@example.org")
    stored = db.session.scalar(select(Signature.ip_hash))
    assert stored == hash_ip("127.0.0.1") and "127.0.0.1" not in stored
    assert len(stored) == 64
    with time_machine.travel(utcnow() + timedelta(days=29)):
        assert purge_ip_hashes() == 0
    with time_machine.travel(utcnow() + timedelta(days=31)):
        assert purge_ip_hashes() == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(Signature.ip_hash)) is None


def test_purge_command_forgets_old_ip_hashes(app, client, runner):
    with app.app_context():
        pledge = make_pledge()
        sign_via_form(client, pledge, email="a@example.org")
    with time_machine.travel(utcnow() + timedelta(days=31)):
        result = runner.invoke(args=["purge-ip-hashes"])
    assert result.exit_code == 0
    assert "1 IP hash forgotten" in result.output
    with app.app_context():
        assert db.session.scalar(select(Signature.ip_hash)) is None


def test_report_ip_hashes_are_forgotten_with_the_signatures(app, client, runner):
    from pledges.moderation.service import file_report

    with app.app_context():
        pledge = make_pledge()
        signature = confirmed_signature(pledge)
        file_report(signature, "spam", "", "198.51.100.7")
        db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=29)):
        assert "0 IP hashes forgotten" in runner.invoke(args=["purge-ip-hashes"]).output
    with time_machine.travel(utcnow() + timedelta(days=31)):
        result = runner.invoke(args=["purge-ip-hashes"])
    assert result.exit_code == 0, result.output
    assert "1 IP hash forgotten" in result.output  # the factory's signature had none
    with app.app_context():
        assert db.session.scalar(select(Report.ip_hash)) is None
        assert db.session.scalar(select(func.count()).select_from(Report)) == 1  # the report stays
