"""Real browsers against a real server: Debian's Chromium, driven by Playwright.

One live server and one browser per session; each test gets a fresh browser context (no
cookies, no cache) and seeds a pledge of its own, so tests never see each other's signers.

These tests run wherever the suite runs, CI included: without Chromium or axe-core they
fail and say what to install. Only ``PLEDGES_BROWSER_TESTS=0``, set by hand, skips them.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from pledges import create_app
from pledges.actions.service import ActionInput, log_action
from pledges.checkins.service import unsubscribe_token
from pledges.domain.signers import normalize_email
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.mail.delivery import deliver_due
from pledges.models import Pledge, Signature
from pledges.partners import service as partners
from pledges.signing import service
from tests.conftest import _base_config
from tests.factories import (
    PASSWORD,
    confirmed_signature,
    make_pledge,
    make_user,
    run_by,
    signature_input,
)
from tests.helpers import assert_valid_html, read_outbox, text_of

REPO = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("PLEDGES_CHROMIUM", "/usr/bin/chromium")
# Without the networking switches Chromium phones home at start, and this closed network
# refuses it many times over.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WALL_PAGE_SIZE = 5

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

# Any WCAG A/AA violation fails, whatever its impact; axe's best practices only when serious.
WCAG_TAGS = {"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}
BLOCKING = {"serious", "critical"}
AXE_OPTIONS = {
    # WCAG 2.2 A and AA (target sizes included: signers tap with thumbs) and axe's best
    # practices (landmarks, heading order, one main).
    "runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    "resultTypes": ["violations"],
}


def pytest_collection_modifyitems(config, items) -> None:
    if os.environ.get("PLEDGES_BROWSER_TESTS") != "0":
        return
    skip = pytest.mark.skip(reason="PLEDGES_BROWSER_TESTS=0: browser tests switched off")
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(skip)


@dataclass
class LiveServer:
    app: Flask
    url: str
    outbox_dir: Path

    def inbox(self, address: str) -> list[EmailMessage]:
        """Deliver what is due, then every email sent to ``address``, oldest first."""
        with self.app.app_context():
            deliver_due()
        return [m for m in read_outbox(self.outbox_dir) if address in m["To"]]

    def links(self, address: str) -> dict[str, str]:
        """{"confirm": url, "me": url, "hide": url} from the newest email to ``address``."""
        messages = self.inbox(address)
        assert messages, f"no email for {address}"
        pattern = re.escape(self.url) + r"/(confirm|me/hide|me)/[\w-]+"
        kinds = {"confirm": "confirm", "me": "me", "me/hide": "hide"}
        return {kinds[m.group(1)]: m.group(0) for m in re.finditer(pattern, text_of(messages[-1]))}

    def unsubscribe_link(self, address: str) -> str:
        """The one-click unsubscribe path a reminder to ``address`` would carry."""
        with self.app.app_context():
            signature = db.session.execute(
                db.select(Signature).filter_by(email=address)
            ).scalar_one()
            return f"/reminders/unsubscribe/{unsubscribe_token(signature)}"

    def update_unsubscribe_link(self, address: str) -> str:
        """The one-click unsubscribe path an update email to ``address`` carries."""
        from pledges.updates.service import unsubscribe_token as update_token

        with self.app.app_context():
            signature = db.session.execute(
                db.select(Signature).filter_by(email=address)
            ).scalar_one()
            return f"/updates/unsubscribe/{update_token(signature)}"

    def published_update(self, slug: str, title: str, body: str) -> str:
        """Publish an update on ``slug``; its public path."""
        from pledges.updates import service as updates

        with self.app.app_context():
            pledge = self._pledge_by_slug(slug)
            update = updates.save_update(pledge, {pledge.language: updates.UpdateText(title, body)})
            updates.publish(update)
            db.session.commit()
            return f"/p/{slug}/updates/{update.id}"

    @staticmethod
    def _pledge_by_slug(slug: str) -> Pledge:
        return db.session.execute(db.select(Pledge).filter_by(slug=slug)).scalar_one()

    def partner_link(self, address: str) -> str:
        """The private partner page in the newest email to ``address``."""
        messages = self.inbox(address)
        assert messages, f"no email for {address}"
        match = re.search(re.escape(self.url) + r"/partner/[\w-]+", text_of(messages[-1]))
        assert match, f"no partner link in the email to {address}"
        return match.group(0)

    def partner(self, signer_email: str, email: str, name: str = "Grace Mukami") -> str:
        """Invite ``email`` as the signer's accountability partner (as their form does);
        returns the private partner page from the invitation."""
        with self.app.app_context():
            signature = db.session.execute(
                db.select(Signature).filter_by(email=signer_email)
            ).scalar_one()
            partners.invite(signature, name, email)
            db.session.commit()
        return self.partner_link(email)

    def endpoint(self, url: str) -> str:
        """The endpoint that serves ``url`` on this server."""
        path = urlsplit(url).path
        return self.app.url_map.bind("127.0.0.1").match(path, method="GET")[0]

    def user(self, email: str, role: str = "organizer", runs: tuple[str, ...] = ()) -> str:
        """An account (password: tests.factories.PASSWORD) running the pledges ``runs``."""
        with self.app.app_context():
            user = make_user(email, role=role)
            for slug in runs:
                run_by(self._pledge_by_slug(slug), user)
        return email

    def pledge(self, preamble: str | None = None, **fields) -> SeededPledge:
        """A pledge of the test's own (the factories' three commitments, one required)."""
        with self.app.app_context():
            pledge = make_pledge(**fields)
            if preamble is not None:
                pledge.preamble = preamble
                db.session.commit()
            return SeededPledge(
                slug=pledge.slug,
                title=pledge.title,
                commitments=[c.text for c in pledge.commitments],
            )

    def signer(self, slug: str, actions: int = 0, confirmed: bool = True, **fields) -> SeededSigner:
        """A signer of ``slug`` with ``actions`` public actions, and the links in their email."""
        with self.app.app_context():
            pledge = self._pledge_by_slug(slug)
            if confirmed:
                signature = confirmed_signature(pledge, **fields)
            else:
                data = signature_input(pledge, **fields)
                service.sign(pledge, data)
                db.session.commit()
                signature = service._signature_by_email(pledge, normalize_email(data.email))
            for n in range(actions):
                log_action(
                    signature,
                    ActionInput(
                        commitment_id=pledge.commitments[0].id,
                        kind="conversation",
                        done_on=utcnow().date(),
                        description=f"Talked with my neighbours about shared care, time {n + 1}.",
                        people_reached=4,
                        evidence_url=None,
                        visibility="public",
                    ),
                )
            db.session.commit()
            address, code = signature.email, signature.verification_code
        return SeededSigner(email=address, verification_code=code, **self.links(address))


def goto(path_of: Callable[[Any], str]) -> Callable[..., None]:
    """A way to reach a page: open the path that ``path_of`` finds in the test's site."""
    return lambda page, site: page.goto(path_of(site))


def log_in(page, email: str, password: str = PASSWORD) -> None:
    """Log in through the form at /login, as an organizer would."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(
            f"[{v['impact']}] {v['id']} at {v['width']}px: {v['help']} ({len(v['nodes'])} elements)"
        )
        for node in v["nodes"][:3]:
            lines.append(
                f"    {' '.join(node['target'])}: {node['failureSummary'].splitlines()[-1]}"
            )
    return "\n".join(lines)


def assert_accessible(page, name: str, status: int = 200) -> None:
    """The page came with the HTTP ``status`` expected (an error page in place of the one
    meant must not pass), its HTML as served has no Nu Html Checker error, then axe-core at
    desktop and phone widths (the layouts differ: columns, wrapping): no WCAG 2.2 A/AA
    violation at all, and no serious best-practice one; the messages list every finding."""
    assert page.statuses, f"{name}: no page was loaded"
    assert page.statuses[-1] == status, (
        f"{name} ({page.url}) answered {page.statuses[-1]}, not {status}"
    )
    assert_valid_html(page.documents[-1].text(), f"{name} ({page.url})")
    # A page reached by a click may be in the DOM before its stylesheet and fonts apply:
    # measured then, the header's links looked too close together (target-size).
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    violations = []
    for viewport in (DESKTOP["viewport"], PHONE["viewport"]):
        page.set_viewport_size(viewport)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        violations += [{**v, "width": viewport["width"]} for v in results["violations"]]
    blocking = [v for v in violations if WCAG_TAGS & set(v["tags"]) or v["impact"] in BLOCKING]
    assert not blocking, f"axe on {name} ({page.url}):\n{describe(violations)}"


@dataclass(frozen=True)
class SeededPledge:
    slug: str
    title: str
    commitments: list[str]

    @property
    def path(self) -> str:
        return f"/p/{self.slug}"


@dataclass(frozen=True)
class SeededSigner:
    email: str
    verification_code: str
    confirm: str
    me: str
    hide: str  # "take me off the public wall now"


def _closing(app: Flask) -> Callable:
    """``app`` with every response read through and closed before the server writes it.

    Werkzeug's development server closes a response (an open static file, say) only after
    draining the socket, and skips the close when a browser has reset the connection
    meanwhile: the file is then left to the garbage collector, whose ResourceWarning would
    fail whichever test happens to be running. Responses here are small pages and files.
    """

    def application(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return application


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The app served by a real WSGI server in a background thread, on a free port."""
    root = tmp_path_factory.mktemp("live")
    config = _base_config(f"sqlite:///{root / 'pledges.db'}", root)
    # Every browser comes from 127.0.0.1: the per-address limits would be the only thing tested.
    config.update(RATELIMIT_ENABLED=False, WALL_PAGE_SIZE=WALL_PAGE_SIZE)
    app = create_app(config)
    with app.app_context():
        db.create_all()
        # Every template compiled before the first browser comes: a page's first visit would
        # otherwise compile its templates (a third of a second for the private page here,
        # seconds on a loaded CI machine), longer than a navigation is given.
        for name in app.jinja_env.list_templates():
            app.jinja_env.get_template(name)
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # Links in emails lead back to this server, as they would to the real site.
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(app=app, url=url, outbox_dir=Path(config["MAIL_OUTBOX_DIR"]))
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install "
            "chromium) or point PLEDGES_CHROMIUM at one; PLEDGES_BROWSER_TESTS=0 skips these "
            "tests on a machine without it.",
            pytrace=False,
        )
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: `make install-test` installs it.", pytrace=False)
    # Assertions wait as long as actions do (open_page's default), not Playwright's 5 s.
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Console:
    """What the page said in the console: errors, CSP reports, uncaught exceptions."""

    messages: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        return [m for m in self.messages if m.startswith(("error:", "pageerror:"))]

    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]


@pytest.fixture
def open_page(browser, live_server: LiveServer):
    """Opens pages, each in a browser context of its own (``open_page(**PHONE)``).

    Every page keeps the app's CSP in force, and a test fails on any violation of it.
    """
    contexts = []

    def open_page(init_script: Path | None = None, **options):
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        if init_script is not None:
            context.add_init_script(path=str(init_script))
        contexts.append(context)
        page = context.new_page()
        console = Console()
        page.on("console", lambda msg: console.messages.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: console.messages.append(f"pageerror: {exc}"))
        page.console = console
        # The HTTP status of every document the tab loaded (redirects included), newest last,
        # and the responses themselves (their HTML as served, for the Nu Html Checker).
        page.statuses = []
        page.documents = []

        def on_response(response) -> None:
            if response.request.is_navigation_request() and response.frame == page.main_frame:
                page.statuses.append(response.status)
                page.documents.append(response)

        page.on("response", on_response)
        return page

    yield open_page
    violations = [m for c in contexts for p in c.pages for m in p.console.csp_violations()]
    for context in contexts:
        context.close()
    assert not violations, violations


@pytest.fixture
def phone(open_page):
    """A page in a phone-sized, touch browser."""
    return open_page(**PHONE)


@pytest.fixture
def desktop(open_page):
    return open_page(**DESKTOP)


@pytest.fixture(scope="session")
def axe_source() -> Path:
    if not AXE_SCRIPT.exists():
        pytest.fail(
            f"{AXE_SCRIPT.relative_to(REPO)} is missing: run `npm ci` at the repository root "
            "(`make install-test` does).",
            pytrace=False,
        )
    return AXE_SCRIPT


@pytest.fixture
def axe_page(open_page, axe_source: Path):
    """A desktop page with axe-core loaded into every document it opens.

    The app's CSP allows scripts from 'self' only. Playwright's add_script_tag(path=…) inlines
    the file into a <script> element, which that CSP blocks ("Executing inline script
    violates…"). An init script is handed to Chromium over the DevTools protocol instead and
    is not subject to the page's CSP, so the pages are checked with their real policy in
    force (no bypass_csp) and a violation still fails the test.
    """
    return open_page(init_script=axe_source, **DESKTOP)


@pytest.fixture
def open_axe_page(open_page, axe_source: Path):
    """``open_axe_page(storage_state)``: a page like ``axe_page``, opened when asked for, in
    a session saved after logging in (Playwright's storage state) or, given None, a fresh one."""
    return lambda storage_state=None: open_page(
        init_script=axe_source, storage_state=storage_state, **DESKTOP
    )
