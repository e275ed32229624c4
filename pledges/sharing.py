"""Sharing a pledge: card metadata, share links, the Atom feed and the embed snippet.

Everything here points at the public pledge page, built on BASE_URL: a shared link never
carries a signer's private token, whatever page it was shared from. No third-party script or
image is loaded; a share link is a plain link to the other site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode, urlsplit

from feedgen.feed import FeedGenerator
from flask_babel import gettext
from markupsafe import escape

from pledges.content import pledge_content
from pledges.models import Pledge
from pledges.presentation import ACTION_KIND_LABELS
from pledges.urls import external_url
from pledges.wall.service import public_actions, wall_page

DESCRIPTION_LIMIT = 200
FEED_ENTRIES = 50
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# What XML 1.0 cannot carry: controls other than tab and line ends, surrogates, U+FFFE/U+FFFF.
NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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


def xml_text(text: str) -> str:
    """``text`` without the characters XML cannot hold, which the forms now refuse but older
    rows may still carry: one such signer must not break the feed for everyone."""
    return NOT_XML.sub("", text)


def atom_feed(pledge: Pledge, limit: int = FEED_ENTRIES) -> bytes:
    """New confirmed signatures and public actions, newest first, as Atom 1.0.

    Signers appear exactly as on the wall (``public_signer``): no email, no token, no name
    beyond what their visibility choice shows.
    """
    content = pledge_content(pledge)  # the reader's language where the pledge has it
    page_url = pledge_url(pledge)
    wall_url = external_url("wall.wall", slug=pledge.slug)
    actions_url = external_url("wall.actions", slug=pledge.slug)
    tag = f"tag:{urlsplit(page_url).hostname},{pledge.created_at:%Y-%m-%d}:pledge/{pledge.id}"

    entries: list[tuple[datetime, str, str, str, str]] = []  # (at, id, title, content, link)
    for signer in wall_page(pledge, limit).signers:
        assert signer.confirmed_at is not None
        entries.append(
            (
                signer.confirmed_at,
                f"{tag}/signature/{signer.id}",
                gettext("%(name)s signed", name=signer.label),
                signer.note
                or gettext("%(name)s signed “%(title)s”.", name=signer.label, title=content.title),
                wall_url,
            )
        )
    for action in public_actions(pledge, limit).actions:
        kind = ACTION_KIND_LABELS.get(action.kind, action.kind)
        entries.append(
            (
                action.logged_at,
                f"{tag}/action/{int(action.logged_at.timestamp() * 1e6)}-{action.signer.id}",
                f"{action.signer.label}: {kind}",
                action.description,
                actions_url,
            )
        )
    entries.sort(key=lambda entry: entry[0], reverse=True)
    entries = entries[:limit]

    feed = FeedGenerator()
    feed.id(tag)
    feed.title(xml_text(f"{content.title} · Joining Forces"))
    feed.subtitle(xml_text(summary(content.preamble)))
    feed.language(content.html_lang)
    feed.author({"name": "Joining Forces"})
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.link(href=external_url("wall.feed", slug=pledge.slug), rel="self")
    feed.updated(entries[0][0] if entries else pledge.created_at)
    # feedgen writes the entries in the reverse order of adding them.
    for at, entry_id, title, content, link in reversed(entries):
        entry = feed.add_entry()
        entry.id(entry_id)
        entry.title(xml_text(title))
        entry.content(xml_text(content), type="text")
        entry.link(href=link, rel="alternate", type="text/html")
        entry.updated(at)
        entry.published(at)
    return feed.atom_str(pretty=True)
