"""Logs: one line per event on stderr, a line per request, and never a token or an email."""

from __future__ import annotations

import json
import logging
import re

import pytest

from pledges import create_app
from pledges.config import ConfigurationError
from tests.factories import make_pledge
from tests.helpers import deliver_and_read, links_in, sign_via_form, signer_page


def json_lines(err: str) -> list[dict]:
    """Every line on stderr, parsed: a line that is not JSON fails the test."""
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def request_lines(err: str) -> list[dict]:
    return [line for line in json_lines(err) if line["logger"] == "pledges.requests"]


@pytest.mark.config(LOG_FORMAT="json")
def test_each_request_is_one_json_line_with_its_id(app, client, capsys):
    with app.app_context():
        slug = make_pledge().slug
    capsys.readouterr()
    response = client.get(f"/p/{slug}/wall?country=KE", headers={"X-Request-ID": "lb-42.a"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lb-42.a"
    [line] = request_lines(capsys.readouterr().err)
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["path"] == f"/p/{slug}/wall"  # no query string
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and 0 <= line["duration_ms"] < 10_000
    assert line["request_id"] == "lb-42.a"
    assert line["message"] == f"GET /p/{slug}/wall 200 {line['duration_ms']}ms"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])


@pytest.mark.config(LOG_FORMAT="json")
@pytest.mark.parametrize("incoming", [None, "", "two words", "x" * 129, '", "status": 200'])
def test_a_missing_or_odd_request_id_is_replaced(client, capsys, incoming):
    headers = {} if incoming is None else {"X-Request-ID": incoming}
    response = client.get("/no/such/page", headers=headers)
    assert response.status_code == 404
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = request_lines(capsys.readouterr().err)
    assert (line["status"], line["request_id"]) == (404, request_id)
    assert client.get("/").headers["X-Request-ID"] != request_id  # one per request


@pytest.mark.config(LOG_FORMAT="json")
def test_tokens_and_emails_never_reach_the_logs(app, client, outbox_dir, capsys):
    with app.app_context():
        pledge = make_pledge()
        me = signer_page(client, outbox_dir, pledge, email="amina@example.org")
        sign_via_form(client, pledge, email="juma@example.org")
        confirm = links_in(deliver_and_read(outbox_dir)[-1])["confirm"]
        slug = pledge.slug
    client.get(f"{me}?utm_source=mail")
    client.get(f"{me}/data.json")
    client.get(confirm)
    client.get("/partner/a-guessed-token")
    reset = client.get("/password/reset/eyJ1IjoxLCJoIjoiYWJjIn0.a-reset-token")
    err = capsys.readouterr().err
    secrets = [me.split("/")[2], confirm.split("/")[2], "a-guessed-token", "a-reset-token"]
    for secret in [*secrets, "amina@example.org", "juma@example.org", "utm_source"]:
        assert secret not in err
    paths = {(line["method"], line["path"], line["status"]) for line in request_lines(err)}
    assert ("GET", "/me/…", 200) in paths
    assert ("GET", "/me/…/data.json", 200) in paths
    assert ("GET", "/confirm/…", 200) in paths
    assert ("POST", "/confirm/…", 302) in paths
    assert ("GET", "/partner/…", 404) in paths
    assert ("GET", "/password/reset/…", reset.status_code) in paths
    # A reset link is as private as a signer's: no Referer carries it off, no cache keeps it.
    assert reset.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in reset.headers["Cache-Control"]
    assert ("POST", f"/p/{slug}", 302) in paths


@pytest.mark.config(LOG_FORMAT="json")
def test_app_logs_carry_the_request_id_and_are_scrubbed(app, client, capsys):
    @app.get("/me/<token>/test-only/boom")
    def boom(token: str):
        logging.getLogger("pledges.test").warning(
            "about to fail for %s at /me/%s", "amina@example.org", token
        )
        raise RuntimeError(f"failed for amina@example.org on /me/{token}")

    response = client.get("/me/SeCrEt-ToKeN_123/test-only/boom", headers={"X-Request-ID": "r-1"})
    assert response.status_code == 500
    err = capsys.readouterr().err
    assert "SeCrEt-ToKeN_123" not in err and "amina@example.org" not in err
    by_logger = {line["logger"]: line for line in json_lines(err)}
    warning = by_logger["pledges.test"]
    assert warning["level"] == "WARNING"
    assert warning["message"] == "about to fail for [email] at /me/…"
    assert warning["request_id"] == "r-1"
    error = by_logger["pledges.errors"]  # the 500 handler's own log, with the traceback
    assert error["level"] == "ERROR"
    assert error["message"] == "unhandled error on GET /me/…/test-only/boom"
    assert "RuntimeError: failed for [email] on /me/…" in error["exception"]
    assert error["request_id"] == "r-1"
    assert by_logger["pledges.requests"]["status"] == 500


def test_development_logs_text_lines(app, client, capsys):
    assert app.config["LOG_FORMAT"] == "text"
    client.get("/no/such/page?q=1", headers={"X-Request-ID": "dev-1"})
    [line] = [line for line in capsys.readouterr().err.splitlines() if "pledges.requests" in line]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO \[dev-1\] pledges\.requests: "
        r"GET /no/such/page 404 \d+\.\dms",
        line,
    )


@pytest.mark.config(PLEDGES_ENV="production")
def test_production_logs_json_by_default(app, client, capsys):
    assert app.config["LOG_FORMAT"] == "json"
    client.get("/")
    assert request_lines(capsys.readouterr().err)[0]["path"] == "/"


@pytest.mark.config(LOG_FORMAT="json", LOG_LEVEL="WARNING")
def test_log_level_quiets_request_lines(client, capsys):
    client.get("/")
    assert request_lines(capsys.readouterr().err) == []


@pytest.mark.config(LOG_FORMAT="json")
def test_health_checks_are_logged_only_when_they_fail(client, capsys):
    assert client.get("/healthz").status_code == 200
    assert request_lines(capsys.readouterr().err) == []


@pytest.mark.config(LOG_FORMAT="json", LOG_LEVEL="debug")
def test_health_checks_show_at_debug(client, capsys):
    client.get("/healthz")
    [line] = request_lines(capsys.readouterr().err)
    assert (line["level"], line["path"], line["status"]) == ("DEBUG", "/healthz", 200)


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")])
def test_bad_log_settings_are_named(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        create_app(
            {"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}
        )


def test_creating_apps_again_keeps_one_line_per_event(tmp_path, capsys):
    config = {
        "SECRET_KEY": "x" * 40,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
        "LOG_FORMAT": "json",
        # No delivery thread: it would outlive the test, polling a database with no tables.
        "MAIL_DISPATCH": "worker",
    }
    create_app(config)
    app = create_app(config)
    capsys.readouterr()
    app.test_client().get("/no/such/page")
    assert len(request_lines(capsys.readouterr().err)) == 1
