"""Sharing a pledge: card metadata, share links and the embed snippet (the Atom feed is the
wall's: pledges/wall/feed.py).

Everything here points at the public pledge page, built on BASE_URL: a shared link never
carries a signer's private token, whatever page it was shared from. No third-party script or
image is loaded; a share link is a plain link to the other site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from flask_babel import gettext
from markupsafe import Markup, escape

from pledges.infrastructure.urls import external_url
from pledges.models import Pledge

DESCRIPTION_LIMIT = 200
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class ShareLink:
    network: str  # "Share on <network>" is the link's accessible name
    href: str
    external: bool = True  # opens another site in a new tab; email stays in place

    @property
    def label(self) -> str:
        if self.external:
            return gettext("Share on %(network)s", network=self.network)
        return gettext("Share by email")


@dataclass(frozen=True)
class ShareMeta:
    title: str
    description: str
    url: str
    image: str


def summary(text: str | None, limit: int = DESCRIPTION_LIMIT) -> str:
    """The first sentence(s) of a text as one plain line of at most ``limit`` characters."""
    flat = " ".join((text or "").split())
    if not flat:
        return ""
    kept = ""
    for sentence in SENTENCE_END.split(flat):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    # A first sentence longer than the limit: cut at a word and say so.
    cut = flat[: limit - 1].rsplit(" ", 1)[0] if " " in flat[: limit - 1] else flat[: limit - 1]
    return f"{cut}…"


def pledge_url(pledge: Pledge) -> str:
    """The public address of a pledge: the only one we ever share."""
    return external_url("signing.sign", slug=pledge.slug)


def pledge_qr_code(pledge: Pledge) -> Markup:
    """A QR code of the public pledge address, as inline SVG (drawn as vectors, with
    presentation attributes only, so the Content-Security-Policy needs no exception)."""
    url = pledge_url(pledge)
    # segno escapes the title it writes, and the address is only ever path data.
    svg = segno.make(url, error="m").svg_inline(
        scale=4, border=4, svgclass="qr-code", title=gettext("QR code of %(url)s", url=url)
    )
    return Markup(svg)  # noqa: S704


def share_meta(pledge: Pledge) -> ShareMeta:
    return ShareMeta(
        title=pledge.title,
        description=summary(pledge.preamble),
        url=pledge_url(pledge),
        image=external_url("static", filename="img/share.png"),
    )


def _query(**params: str) -> str:
    # quote (%20), not quote_plus: mail clients do not read "+" as a space.
    return urlencode(params, quote_via=quote)


def share_links(pledge: Pledge) -> list[ShareLink]:
    url = pledge_url(pledge)
    text = gettext("I support “%(title)s” on Joining Forces.", title=pledge.title)
    body = text + "\n\n" + gettext("Sign it too: %(url)s", url=url)
    return [
        ShareLink("WhatsApp", f"https://wa.me/?{_query(text=f'{text} {url}')}"),
        ShareLink("X", f"https://twitter.com/intent/tweet?{_query(text=text, url=url)}"),
        ShareLink("Facebook", f"https://www.facebook.com/sharer/sharer.php?{_query(u=url)}"),
        ShareLink("Telegram", f"https://t.me/share/url?{_query(url=url, text=text)}"),
        ShareLink("email", f"mailto:?{_query(subject=pledge.title, body=body)}", external=False),
    ]


def embed_snippet(pledge: Pledge) -> str:
    """The HTML a partner site pastes to show the counter (shown escaped on the wall)."""
    src = external_url("wall.embed", slug=pledge.slug)
    title = f"Joining Forces: {pledge.title}"
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" '
        'width="320" height="180" loading="lazy"></iframe>'
    )
