"""Links follow the address the site is actually served at (issue 15, item 1).

`make run PORT=5102` serves through gunicorn on 5102 with no BASE_URL: every link the site
writes (the emailed confirmation link, og:url, the embed snippet, the feed's self link, the
API's servers) must point at 5102, not at a default port where nothing answers. Production
must name its address; development without one follows each request, and commands run
outside a request use http://127.0.0.1:$PORT.
"""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pledges import PROJECT_ROOT, create_app
from pledges.config import ConfigurationError
from pledges.infrastructure.urls import external_url
from tests.conftest import _base_config
from tests.helpers import GUNICORN, free_port, get_when_up, gunicorn_env

PLEDGES = str(Path(sys.executable).with_name("pledges"))


class FormInputs(HTMLParser):
    """The sign form's CSRF token and the commitments it offers, read as a browser would."""

    def __init__(self) -> None:
        super().__init__()
        self.csrf = ""
        self.commitments: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag != "input":
            return
        if attributes.get("name") == "csrf_token" and not self.csrf:
            self.csrf = attributes.get("value") or ""
        if attributes.get("name") == "commitments":
            self.commitments.append(attributes.get("value") or "")


def test_make_run_on_another_port_links_to_that_port(tmp_path):
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    # As `make run PORT=…` starts it: development, no BASE_URL, gunicorn on that port.
    env = gunicorn_env(tmp_path, PORT=str(port), BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")
    env.pop("BASE_URL", None)
    for command in (["db", "upgrade"], ["seed-demo", "--signatures", "3"]):
        done = subprocess.run(  # noqa: S603
            [PLEDGES, *command],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    server = subprocess.Popen(  # noqa: S603
        [GUNICORN, "pledges:create_app()"],
        cwd=PROJECT_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        get_when_up(f"{origin}/healthz")
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

        def read(path: str, data: dict | None = None) -> str:
            body = urllib.parse.urlencode(data, doseq=True).encode() if data else None
            with browser.open(f"{origin}{path}", data=body, timeout=20) as response:
                return response.read().decode()

        page = read("/p/joining-forces")
        assert f'<meta property="og:url" content="{origin}/p/joining-forces">' in page
        form = FormInputs()
        form.feed(page)
        read(
            "/p/joining-forces",
            {
                "csrf_token": form.csrf,
                "name": "Wanjiru Kamau",
                "email": "wanjiru@example.org",
                "country": "KE",
                "role": "woman",
                "visibility": "full",
                "publication": "now",
                "commitments": form.commitments,
                "consent": "y",
            },
        )
        # Bodies are sealed at rest: deliver, as the mail worker would, and read the message.
        delivered = subprocess.run(  # noqa: S603
            [PLEDGES, "deliver-mail"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert delivered.returncode == 0, delivered.stderr
        (message,) = [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in (tmp_path / "instance" / "outbox").glob("*.eml")
        ]
        assert message["To"] == "wanjiru@example.org"
        body = message.get_body(("plain",)).get_content()
        assert re.search(rf"{re.escape(origin)}/confirm/[\w-]+", body), body
        assert re.search(rf"{re.escape(origin)}/me/[\w-]+", body), body
        assert "5000" not in body

        wall = read("/p/joining-forces/wall")
        assert f"&lt;iframe src=&#34;{origin}/p/joining-forces/embed&#34;" in wall or (
            f'&lt;iframe src="{origin}/p/joining-forces/embed"' in wall
        ), re.findall(r"iframe src=\S+", wall)
        feed = read("/p/joining-forces/feed.atom")
        assert f'href="{origin}/p/joining-forces/feed.atom" rel="self"' in feed
        spec = json.loads(read("/api/v1/openapi.json"))
        assert spec["servers"] == [{"url": f"{origin}/api/v1"}]
    finally:
        server.terminate()
        _out, errors = server.communicate(timeout=30)
    assert "development server" not in errors


def test_production_refuses_to_start_without_base_url(tmp_path, monkeypatch):
    monkeypatch.delenv("BASE_URL", raising=False)
    config = {**_base_config(f"sqlite:///{tmp_path / 'p.db'}", tmp_path), "BASE_URL": None}
    with pytest.raises(ConfigurationError, match="Production needs BASE_URL"):
        create_app({**config, "PLEDGES_ENV": "production"})


@pytest.mark.parametrize("bad", ["pledges.example.org", "ftp://x.example", "http://x:port"])
def test_a_base_url_that_is_no_address_stops_the_app(tmp_path, bad):
    config = _base_config(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)
    with pytest.raises(ConfigurationError, match="BASE_URL="):
        create_app({**config, "BASE_URL": bad})


def development_app(tmp_path, monkeypatch, port: str | None):
    monkeypatch.delenv("BASE_URL", raising=False)
    if port is None:
        monkeypatch.delenv("PORT", raising=False)
    else:
        monkeypatch.setenv("PORT", port)
    config = {**_base_config(f"sqlite:///{tmp_path / 'p.db'}", tmp_path), "BASE_URL": None}
    return create_app(config)


def test_development_without_base_url_follows_the_request(tmp_path, monkeypatch):
    app = development_app(tmp_path, monkeypatch, "5102")
    with app.test_request_context("/", base_url="http://localhost:8123"):
        assert external_url("verify.lookup") == "http://localhost:8123/verify"
    # Outside a request (a command sending reminders): where `make run` serves.
    with app.app_context():
        assert external_url("verify.lookup") == "http://127.0.0.1:5102/verify"


def test_development_default_is_port_5000(tmp_path, monkeypatch):
    app = development_app(tmp_path, monkeypatch, None)
    with app.app_context():
        assert external_url("verify.lookup") == "http://127.0.0.1:5000/verify"


def test_a_set_base_url_wins_over_the_request(app):
    with app.test_request_context("/", base_url="http://localhost:8123"):
        assert external_url("verify.lookup") == "http://pledges.test/verify"
