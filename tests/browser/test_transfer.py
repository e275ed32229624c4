"""What a signer on a slow mobile network downloads to reach the sign form."""

from __future__ import annotations

from tests.browser.conftest import PHONE

FIRST_VISIT_BUDGET = 60_000  # bytes: HTML, stylesheet, fonts, images, scripts, headers


def test_the_pledge_pages_first_visit_fits_in_60_kb_compressed(open_page, live_server):
    pledge = live_server.pledge()
    page = open_page(**PHONE)
    loaded = []
    page.on("requestfinished", lambda request: loaded.append(request))
    response = page.goto(pledge.path)
    page.wait_for_load_state("load")

    # The browser asked for brotli and got it, for the page and its stylesheet.
    assert response.headers["content-encoding"] == "br"
    stylesheets = [r for r in loaded if r.resource_type == "stylesheet"]
    assert stylesheets
    assert all(r.response().headers.get("content-encoding") == "br" for r in stylesheets)
    # Every request of the first visit, on the wire (bodies as sent, compressed).
    sizes = {r.url: r.sizes() for r in loaded}
    transferred = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes.values())
    print(f"first visit: {len(loaded)} requests, {transferred:,} bytes on the wire")
    assert transferred <= FIRST_VISIT_BUDGET, sizes
    # Compressed, the page is a fraction of what it would be without.
    html = next(s for url, s in sizes.items() if url.endswith(pledge.path))
    assert html["responseBodySize"] < len(page.content().encode()) / 3
