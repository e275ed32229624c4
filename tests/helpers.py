"""What a signer does in a browser, done with the test client, and what lands in their inbox;
and the small checks and tools that more than one test module uses."""

from __future__ import annotations

import atexit
import email
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import event, func, select

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.mail.delivery import deliver_due
from pledges.mail.sealing import unseal
from pledges.models import Action, OutboxEmail, Pledge, PledgeTally

CSRF_RE = re.compile(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


LINK_RE = re.compile(r"http://pledges\.test(/(?:confirm|me)/(?:hide/)?[\w-]+)")
PARTNER_LINK_RE = re.compile(r"http://pledges\.test(/partner/[\w-]+)")


def sign_form_data(pledge: Pledge, **overrides) -> dict:
    data = {
        "name": "Amina Odhiambo",
        "email": "amina@example.org",
        "country": "KE",
        "role": "woman",
        "organization": "",
        "visibility": "full",
        # As the page proposes them: the role box ticked (the default visibility shows it),
        # shown at once, ordinary emails.
        "show_role": "y",
        "show_role_proposed": "on",
        "publication": "now",
        "commitments": [str(c.id) for c in pledge.commitments if c.required],
        "personal_note": "",
        "consent": "y",
    }
    data.update(overrides)
    # None: left out of the post, as a browser leaves out an unticked box.
    return {name: value for name, value in data.items() if value is not None}


def sign_via_form(client: FlaskClient, pledge: Pledge, **overrides):
    """Open the pledge page, fill the form as a person would, and send it."""
    page = client.get(f"/p/{pledge.slug}")
    data = sign_form_data(pledge, **overrides)
    data.setdefault("csrf_token", csrf_token(page.text))
    return client.post(f"/p/{pledge.slug}", data=data)


def deliver_and_read(outbox_dir: Path) -> list[EmailMessage]:
    """Deliver due outbox rows (needs an app context) and return every .eml, oldest first."""
    deliver_due()
    return read_outbox(outbox_dir)


def read_outbox(outbox_dir: Path) -> list[EmailMessage]:
    if not outbox_dir.exists():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=default)
        for path in sorted(outbox_dir.glob("*.eml"))
    ]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(message: EmailMessage) -> dict[str, str]:
    """{"confirm": path, "me": path, "hide": path} from the plain-text part."""
    links = {}
    for path in LINK_RE.findall(text_of(message)):
        kind = path.split("/")[1]
        if path.startswith("/me/hide/"):  # "take me off the public wall now"
            kind = "hide"
        links[kind] = path
    return links


def confirm_via_link(client: FlaskClient, confirm_path: str):
    page = client.get(confirm_path)
    return client.post(confirm_path, data={"csrf_token": csrf_token(page.text)})


def signer_page(
    client: FlaskClient, outbox_dir: Path, pledge: Pledge, confirm=True, **fields
) -> str:
    """Sign (and confirm), returning the path of the signer's private page."""
    sign_via_form(client, pledge, **fields)
    links = links_in(deliver_and_read(outbox_dir)[-1])
    if confirm:
        confirm_via_link(client, links["confirm"])
    return links["me"]


def action_form_data(pledge: Pledge, **overrides) -> dict:
    """The action form filled in as a signer would."""
    return {
        "commitment_id": str(pledge.commitments[0].id),
        "kind": "conversation",
        "done_on": utcnow().date().isoformat(),
        "description": "Talked with my brothers about sharing care work at home.",
        "people_reached": "3",
        "evidence_url": "",
        "visibility": "public",
        **overrides,
    }


def log_in(client: FlaskClient, email: str, password: str = "correct horse battery staple"):
    """Log in through the real form; returns the response to the POST."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
    )


def logged_in(app: Flask, email: str) -> FlaskClient:
    """A client of its own, logged in as ``email``."""
    client = app.test_client()
    log_in(client, email)
    return client


def log_action(client: FlaskClient, me: str, pledge: Pledge, **overrides) -> Action:
    """Log an action through the signer's form; returns it (needs an app context)."""
    data = action_form_data(pledge, **overrides)
    token = csrf_token(client.get(f"{me}/actions/new").text)
    assert client.post(f"{me}/actions/new", data={**data, "csrf_token": token}).status_code == 302
    return db.session.scalar(select(Action).order_by(Action.id.desc()).limit(1))


# --- the database ----------------------------------------------------------------------------


def count(model) -> int:
    """How many rows ``model`` has (needs an app context)."""
    return db.session.scalar(select(func.count()).select_from(model))


def bodies(row: OutboxEmail) -> tuple[str, str]:
    """A queued email's text and HTML bodies, decrypted (needs an app context)."""
    return unseal(row.body_text) or "", unseal(row.body_html) or ""


def outbox_rows() -> list[OutboxEmail]:
    """Every queued email, oldest first (needs an app context)."""
    return db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs meanwhile, as text (one per executemany)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()).upper())

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- PDFs ------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def assert_qpdf_valid(data: bytes, tmp_path: Path) -> None:
    qpdf = shutil.which("qpdf")
    assert qpdf, "qpdf is needed to check the PDFs (apt-get install qpdf)"
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr


# --- security headers ------------------------------------------------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'self'; frame-ancestors 'none'; object-src 'none'"
)


def assert_security_headers(response, referrer: str = "strict-origin-when-cross-origin"):
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == referrer
    assert headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
    assert "Strict-Transport-Security" not in headers  # plain HTTP


# What the policy allows: nothing inline, nothing from elsewhere.
INLINE_OR_FOREIGN = [
    # Only the app's own script files (the quick exit's): none inline, none from elsewhere.
    ("an inline or external script", re.compile(r"<script(?![^>]*\ssrc=\"/static/js/)", re.I)),
    ("a style attribute", re.compile(r"\sstyle=", re.I)),
    ("a <style> element", re.compile(r"<style", re.I)),
    ("an inline event handler", re.compile(r"\son[a-z]+=", re.I)),
    ("a javascript: URL", re.compile(r"javascript:", re.I)),
    (
        "a resource from another origin",
        re.compile(r"<(?:link|img|iframe|source|embed|object)\b[^>]*(?:src|href)=\"(?:https?:)?//"),
    ),
]


# --- ports, servers and processes ------------------------------------------------------------


def free_port() -> int:
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox(Message):
    """An SMTP server's handler that keeps every message it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[EmailMessage] = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


@contextmanager
def smtp_sink(handler) -> Iterator[Controller]:
    """A real SMTP server on a free local port, answering with ``handler`` (aiosmtpd)."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def send_mail_through(app: Flask, port: int, **settings) -> None:
    """Deliver the app's mail by SMTP, without TLS, to ``port`` on this host."""
    app.config.update(
        MAIL_TRANSPORT="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_SECURITY="none",
        **settings,
    )


GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def gunicorn_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PLEDGES_", "LOG_", "PROXY_FIX_", "DATABASE_URL", "BIND", "PORT"))
        and key not in {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"}
    }
    env.update(
        PLEDGES_INSTANCE=str(tmp_path / "instance"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'pledges.db'}",
        MAIL_DISPATCH="worker",
        **settings,
    )
    return env


def get_when_up(url: str, seconds: float = 20):
    """GET ``url`` once a server started a moment ago answers."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5)  # noqa: S310
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def organizer_urls(
    app: Flask, slug: str, prefixes: tuple[str, ...] = ("/organize", "/admin")
) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) for every route under ``prefixes``, found in the URL map."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefixes):
            continue
        values = {}
        for name in rule.arguments:
            converter = rule._converters[name].__class__.__name__
            values[name] = slug if name == "slug" else 1 if "Integer" in converter else "x"
        with app.test_request_context():
            url = app.url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, url, rule.endpoint))
    return urls


def table_counts() -> dict[str, int]:
    """How many rows every table holds (needs an app context): equal before and after a
    request means it changed nothing (a row changed in place aside)."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def counters(pledge_id: int) -> dict:
    """Every non-zero counter row, negative ones included (tally_for would hide those)."""
    return {
        (t.dimension, t.key): t.count
        for t in db.session.scalars(select(PledgeTally).where(PledgeTally.pledge_id == pledge_id))
        if t.count
    }


def known_to_unknown_time_ratio(client, path: str, token: str, known: str, unknown: str) -> float:
    """Median over rounds of the time a POST of ``known`` to ``path`` takes over that of
    ``unknown``. Each round times the two back to back, in alternating order, so a busy
    moment of a shared machine weighs on both; the first rounds warm caches and are left out."""

    def timed(email: str) -> float:
        started = time.perf_counter()
        client.post(path, data={"email": email, "csrf_token": token})
        return time.perf_counter() - started

    ratios = []
    for round_number in range(60):
        if round_number % 2:
            unknown_time = timed(unknown)
            known_time = timed(known)
        else:
            known_time = timed(known)
            unknown_time = timed(unknown)
        if round_number >= 5:
            ratios.append(known_time / unknown_time)
    return statistics.median(ratios)


# --- valid HTML: the Nu Html Checker ---------------------------------------------------------

VNU_JAR = Path(__file__).resolve().parents[1] / "node_modules/vnu-jar/build/dist/vnu.jar"


class HtmlChecker:
    """The Nu Html Checker (npm's vnu-jar, on the system's Java) as an HTTP service on a free
    local port: one JVM for the whole test process, started on first use (a few seconds),
    then each document is checked in milliseconds."""

    def __init__(self) -> None:
        java = shutil.which("java")
        assert java, "Java is needed to check HTML: `make install-test` installs it"
        assert VNU_JAR.exists(), f"{VNU_JAR} is missing: `make install-test` runs npm ci"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/?out=json&level=error"
        self.log = tempfile.TemporaryFile()
        # Ended with this process even when it is killed (util-linux's setpriv, where found).
        setpriv = shutil.which("setpriv")
        self.process = subprocess.Popen(  # noqa: S603
            [
                *([setpriv, "--pdeathsig", "TERM"] if setpriv else []),
                java,
                # Its schema compiler recurses deeply: the default stack overflows.
                "-Xss16m",
                "-Xmx512m",
                "-XX:+UseSerialGC",
                "-Dnu.validator.servlet.bind-address=127.0.0.1",
                "-cp",
                str(VNU_JAR),
                "nu.validator.servlet.Main",
                str(port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        atexit.register(self.close)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.errors("<!doctype html><html lang=en><title>up</title>")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    tail = self.log.read().decode(errors="replace")[-2000:]
                    self.close()
                    raise AssertionError(f"the Nu Html Checker did not start:\n{tail}") from None
                time.sleep(0.25)

    def errors(self, html: str) -> list[dict]:
        """Every error in ``html`` (warnings left out), as the checker's JSON messages."""
        request = urllib.request.Request(  # noqa: S310
            self.url,
            data=html.encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            messages = json.load(response)["messages"]
        return [m for m in messages if m["type"] != "info"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


_html_checker: HtmlChecker | None = None


def html_checker() -> HtmlChecker:
    """This process's one Nu Html Checker, started when first asked for."""
    global _html_checker
    if _html_checker is None:
        _html_checker = HtmlChecker()
    return _html_checker


def assert_valid_html(html: str, name: str) -> None:
    """No Nu Html Checker error in the document ``html`` (a page as served, an email's HTML
    part); the message lists each with its line and the markup around it."""
    errors = html_checker().errors(html)
    assert not errors, f"Nu Html Checker on {name}: {len(errors)} errors\n" + "\n".join(
        f"    line {m.get('lastLine', '?')}: {m['message']}\n        {m.get('extract', '')!r}"
        for m in errors[:25]
    )
