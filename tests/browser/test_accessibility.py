"""axe-core on every page a signer or visitor meets, in Chromium, with the real CSP in force.

No violation of impact "serious" or "critical" is allowed; "moderate" and "minor" ones are
listed in the message when a page fails, so they are fixed on the way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, LiveServer, SeededPledge, SeededSigner

BLOCKING = {"serious", "critical"}
AXE_OPTIONS = {
    # WCAG 2.2 A and AA (target sizes included: signers tap with thumbs) and axe's best
    # practices (landmarks, heading order, one main).
    "runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    "resultTypes": ["violations"],
}


@dataclass(frozen=True)
class Site:
    pledge: SeededPledge
    signer: SeededSigner
    pending: SeededSigner


@pytest.fixture(scope="module")
def site(live_server: LiveServer) -> Site:
    """A pledge with a few signers, public actions, and one signer yet to confirm."""
    pledge = live_server.pledge(title="Allies for peace in the Great Lakes")
    signer = live_server.signer(pledge.slug, actions=2, visibility="initial")
    for visibility in ("full", "anonymous"):
        live_server.signer(pledge.slug, visibility=visibility, personal_note="For my sisters.")
    pending = live_server.signer(pledge.slug, confirmed=False)
    return Site(pledge=pledge, signer=signer, pending=pending)


def sign_with_errors(page, site: Site) -> None:
    page.goto(site.pledge.path)
    page.get_by_role("button", name="Sign the pledge").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the form")


def confirmed(page, site: Site) -> None:
    page.goto(site.pending.confirm)
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature is confirmed")


def goto(path_of: Callable[[Site], str]) -> Callable[..., None]:
    return lambda page, site: page.goto(path_of(site))


#: How to reach each page: a function of (page, site) that leaves the browser on it.
PAGES: dict[str, Callable[..., None]] = {
    "home": goto(lambda site: "/"),
    "pledge": goto(lambda site: site.pledge.path),
    "pledge with errors": sign_with_errors,
    "check your inbox": goto(lambda site: f"{site.pledge.path}/thanks"),
    "confirm": goto(lambda site: site.pending.confirm),
    "confirmed": confirmed,
    "wall": goto(lambda site: f"{site.pledge.path}/wall"),
    "actions feed": goto(lambda site: f"{site.pledge.path}/actions"),
    "private page": goto(lambda site: site.signer.me),
    "log an action": goto(lambda site: f"{site.signer.me}/actions/new"),
    "verify lookup": goto(lambda site: "/verify"),
    "verify": goto(lambda site: f"/verify/{site.signer.verification_code}"),
    "about": goto(lambda site: "/about"),
    "login": goto(lambda site: "/login"),
    "not found": goto(lambda site: "/no-such-page"),
}


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


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violations(name, axe_page, site):
    """Checked at desktop and phone widths: the layouts differ (wall columns, wrapping)."""
    page = axe_page
    PAGES[name](page, site)
    violations = []
    for viewport in (DESKTOP["viewport"], PHONE["viewport"]):
        page.set_viewport_size(viewport)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        violations += [{**v, "width": viewport["width"]} for v in results["violations"]]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {name} ({page.url}):\n{describe(violations)}"
