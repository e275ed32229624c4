"""Sharing a pledge: card metadata, share links, the Atom feed, the embed widget, About."""

from __future__ import annotations

import html
import re
import struct
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

from pledges.models import PledgeStatus
from pledges.presentation.sharing import summary
from pledges.wall.feed import atom_feed
from pledges.wall.service import public_pledge_or_404
from tests.factories import confirmed_signature, make_pledge
from tests.helpers import (
    CSP,
    INLINE_OR_FOREIGN,
    action_form_data,
    assert_security_headers,
    csrf_token,
    signer_page,
)

ATOM = "{http://www.w3.org/2005/Atom}"
NASTY_TITLE = '<script>alert("x")</script> Allies & friends'


def meta(page_html: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', page_html)
    assert match, f"no {key}"
    return html.unescape(match.group(1))


def share_anchors(page_html: str) -> list[tuple[str, str]]:
    """(raw tag, accessible name) of every share link."""
    return re.findall(r'(<a class="share-link" href="[^"]*"[^>]*>)([^<]*)</a>', page_html)


def href_of(tag: str) -> str:
    return html.unescape(re.search(r'href="([^"]*)"', tag).group(1))


def test_pledge_and_wall_pages_carry_card_metadata_escaped(app, client):
    with app.app_context():
        pledge = make_pledge(title=NASTY_TITLE)
        slug = pledge.slug
    for path in (f"/p/{slug}", f"/p/{slug}/wall"):
        page = client.get(path).text
        assert "<script>" not in page, path  # the title's script, escaped
        assert NASTY_TITLE not in page, path
        assert meta(page, "og:title") == NASTY_TITLE
        assert meta(page, "og:description") == "Men and women, together. Without paternalism."
        assert meta(page, "og:url") == f"http://pledges.test/p/{slug}"
        assert meta(page, "og:type") == "website"
        assert meta(page, "og:image") == "http://pledges.test/static/img/share.png"
        assert meta(page, "twitter:card") == "summary_large_image"
        assert (
            f'<link rel="alternate" type="application/atom+xml" title="New signatures and actions: '
            f'{html.escape(NASTY_TITLE, quote=False)}"' in page.replace("&#34;", '"')
        )
        assert f'href="/p/{slug}/feed.atom">' in page

    image = client.get("/static/img/share.png")
    assert image.status_code == 200 and image.content_type == "image/png"
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", image.data[16:24]) == (1200, 630)
    image.close()


def test_description_is_the_first_sentences_in_plain_text_and_short():
    assert summary("One.  Two\nlines.\n\nThree.") == "One. Two lines. Three."
    long_sentences = "A short first one. " + "word " * 60 + "end."
    assert summary(long_sentences) == "A short first one."
    one_long = "word " * 80
    cut = summary(one_long)
    assert len(cut) <= 200 and cut.endswith("…") and "  " not in cut
    assert summary(None) == ""


def test_share_links_encode_the_public_url_and_never_a_private_one(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge(title="Peace & care: 100% together?")
        slug = pledge.slug
        me = signer_page(client, outbox_dir, pledge)  # this browser holds a private link
    public_url = f"http://pledges.test/p/{slug}"
    for path in (f"/p/{slug}", f"/p/{slug}/wall"):
        page = client.get(path).text
        anchors = share_anchors(page)
        names = [name for _, name in anchors]
        assert names[:5] == [
            "Share on WhatsApp",
            "Share on X",
            "Share on Facebook",
            "Share on Telegram",
            "Share by email",
        ]
        for tag, name in anchors[:5]:
            href = href_of(tag)
            assert "/me/" not in href and "/confirm/" not in href, name
            assert me.rsplit("/", 1)[1] not in href, name
            assert " " not in href and "&amp;" not in href and "+" not in href, name
            params = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
            assert any(public_url in value for value in params.values()), name
            if href.startswith("mailto:"):
                assert 'target="_blank"' not in tag
                assert params["subject"] == "Peace & care: 100% together?"
                assert params["body"].endswith(f"\n\nSign it too: {public_url}")
            else:
                assert 'target="_blank"' in tag and 'rel="noopener noreferrer"' in tag
        by_name = {name: href_of(tag) for tag, name in anchors}
        assert by_name["Share on Facebook"] == (
            "https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2Fpledges.test%2Fp%2F" + slug
        )
        assert by_name["Share on X"].startswith("https://twitter.com/intent/tweet?text=")
        assert "%26%20care%3A%20100%25%20together%3F" in by_name["Share on X"]
        assert by_name["Share on WhatsApp"].startswith("https://wa.me/?text=")
        assert by_name["Share on Telegram"].startswith("https://t.me/share/url?url=")
        assert me not in page


def feed_entries(xml_bytes: bytes) -> list[tuple[str, str]]:
    root = ET.fromstring(xml_bytes)  # noqa: S314 -- our own feed, not untrusted input
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    return [
        (e.findtext(f"{ATOM}title"), e.findtext(f"{ATOM}content"))
        for e in root.findall(f"{ATOM}entry")
    ]


def test_feed_shows_signatures_and_public_actions_as_the_wall_does(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        slug = pledge.slug
        confirmed_signature(pledge, name="Amina Wanjiru Odhiambo", visibility="initial")
        confirmed_signature(
            pledge, name="Hidden Person", organization="Peace Org", visibility="organization"
        )
        confirmed_signature(pledge, name="Secret Name", visibility="anonymous", country="PK")
        me = signer_page(
            client,
            outbox_dir,
            pledge,
            name="Jens Visible",
            email="jens@example.org",
            country="NL",
            role="man",
        )
        for visibility, text in (("public", "Ran a dialogue for men."), ("private", "Diary.")):
            token = csrf_token(client.get(f"{me}/actions/new").text)
            client.post(
                f"{me}/actions/new",
                data={
                    **action_form_data(pledge, visibility=visibility, description=text),
                    "csrf_token": token,
                },
            )
        signer_page(
            client,
            outbox_dir,
            pledge,
            confirm=False,
            name="Not Confirmed",
            email="pending@example.org",
        )

    response = client.get(f"/p/{slug}/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    entries = feed_entries(response.data)
    titles = [title for title, _ in entries]
    # All on one day, which is all the feed tells of when (within it, no order to read).
    # Unnamed signers are too few in their countries for the country to show.
    assert sorted(titles) == [
        "A member of Peace Org signed",
        "Amina O., Kenya signed",
        "Anonymous ally signed",
        "Jens Visible, Netherlands signed",
        "Jens Visible, Netherlands: Conversation or dialogue",
    ]
    assert dict(entries)["Jens Visible, Netherlands: Conversation or dialogue"] == (
        "Ran a dialogue for men."
    )
    text = response.text
    for secret in (
        "Diary.",
        "Not Confirmed",
        "Secret Name",
        "Hidden Person",
        "Odhiambo",
        "Wanjiru",
        "/me/",
        "/confirm/",
        me.rsplit("/", 1)[1],
    ):
        assert secret not in text
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text), "an email address in the feed"
    assert_security_headers(response)

    with app.app_context():
        assert len(feed_entries(atom_feed(public_pledge_or_404(slug), limit=2))) == 2


def test_feed_and_embed_only_for_public_pledges(app, client):
    with app.app_context():
        draft_slug = make_pledge(status=PledgeStatus.DRAFT).slug
        empty_slug = make_pledge().slug
    assert client.get(f"/p/{draft_slug}/feed.atom").status_code == 404
    assert client.get(f"/p/{draft_slug}/embed").status_code == 404
    assert feed_entries(client.get(f"/p/{empty_slug}/feed.atom").data) == []


def test_embed_widget_may_be_framed_and_nothing_else_may(app, client):
    with app.app_context():
        pledge = make_pledge(goal=10, title=NASTY_TITLE)
        slug = pledge.slug
        for _ in range(3):
            confirmed_signature(pledge)
    widget = client.get(f"/p/{slug}/embed")
    assert widget.status_code == 200
    assert "X-Frame-Options" not in widget.headers
    assert widget.headers["Content-Security-Policy"] == CSP.replace(
        "frame-ancestors 'none'", "frame-ancestors *"
    )
    page = widget.text
    assert html.escape(NASTY_TITLE, quote=False) in page.replace("&#34;", '"')
    assert "<strong>3</strong> of 10 signatures" in page
    assert '<progress max="10" value="3"' in page
    assert re.search(rf'href="/p/{slug}#sign" target="_blank" rel="noopener">Sign', page)
    assert "/static/css/embed.css" in page
    sheet = client.get("/static/css/embed.css")
    assert sheet.status_code == 200 and sheet.mimetype == "text/css"
    sheet.close()

    wall = client.get(f"/p/{slug}/wall")
    assert wall.headers["X-Frame-Options"] == "DENY"
    assert_security_headers(wall)
    snippet = html.unescape(re.search(r"<pre><code>(.*?)</code></pre>", wall.text).group(1))
    assert snippet.startswith(
        f'<iframe src="http://pledges.test/p/{slug}/embed" title="Joining Forces: '
    )
    assert snippet.endswith('width="320" height="180" loading="lazy"></iframe>')
    assert "<script" not in snippet  # the title is escaped inside the snippet too
    assert "<summary>Embed this counter</summary>" in wall.text


def test_about_page_explains_the_why_and_the_privacy(client):
    response = client.get("/about")
    assert response.status_code == 200
    assert_security_headers(response)
    page = response.text
    for heading in (
        "About Joining Forces",
        "Why men and women, as allies",
        "What the dialogue recommended",
        "How to choose your commitments",
        "How we protect the people who sign",
        "Where this comes from",
    ):
        assert f">{heading}</h" in page, heading
    # The promise matches what the wall does (issue #13).
    for promise in (
        "Your role only if you want.",
        "When you appear.",
        "Small numbers stay hidden.",
        "fewer than 5",
        "Days, not times.",
        "Off the wall in one click.",
        "Leave quickly.",
        "Discreet emails.",
    ):
        assert promise in page, promise
    assert "Women Peacemakers Program" in page and "New Tactics" in page and "2011" in page
    assert '<a href="/about">About</a>' in client.get("/").text


def test_new_pages_have_no_inline_script_or_style_nor_foreign_resources(app, client):
    with app.app_context():
        pledge = make_pledge(title=NASTY_TITLE)
        slug = pledge.slug
        confirmed_signature(pledge, visibility="anonymous")
    for path in (
        "/about",
        f"/p/{slug}",
        f"/p/{slug}/wall",
        f"/p/{slug}/embed",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        for what, pattern in INLINE_OR_FOREIGN:
            assert not pattern.search(response.text), f"{path} has {what}"
