"""The wall as an Atom feed: new confirmed signatures, public actions and organizers' updates,
newest first."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from flask_babel import gettext

from pledges.domain.content import pledge_content
from pledges.infrastructure.urls import external_url
from pledges.models import Pledge
from pledges.presentation.display import ACTION_KIND_LABELS
from pledges.presentation.sharing import pledge_url, summary
from pledges.updates.service import published_updates
from pledges.wall.service import public_actions, wall_page

FEED_ENTRIES = 50
# What XML 1.0 cannot carry: controls other than tab and line ends, surrogates, U+FFFE/U+FFFF.
NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML cannot hold, which the forms now refuse but older
    rows may still carry: one such signer must not break the feed for everyone."""
    return NOT_XML.sub("", text)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def atom_feed(pledge: Pledge, limit: int = FEED_ENTRIES) -> bytes:
    """New confirmed signatures, public actions and the organizers' published updates,
    newest first, as Atom 1.0.

    Signers appear exactly as on the wall (``public_signer``): no email, no token, no name
    beyond what their visibility choice shows.
    """
    content = pledge_content(pledge)  # the reader's language where the pledge has it
    page_url = pledge_url(pledge)
    wall_url = external_url("wall.wall", slug=pledge.slug)
    actions_url = external_url("wall.actions", slug=pledge.slug)
    tag = f"tag:{urlsplit(page_url).hostname},{pledge.created_at:%Y-%m-%d}:pledge/{pledge.id}"

    # Entries carry their public day (as 00:00 UTC, Atom wants a date-time), never a time
    # of day, and ids made of public ids only.
    entries: list[tuple[datetime, str, str, str, str]] = []  # (at, id, title, content, link)
    for signer in wall_page(pledge, limit).signers:
        assert signer.since is not None
        entries.append(
            (
                _midnight(signer.since),
                f"{tag}/signature/{signer.public_id}",
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
                _midnight(action.logged_on),
                f"{tag}/action/{action.public_ref}",
                f"{action.signer.label}: {kind}",
                action.description,
                actions_url,
            )
        )
    for update in published_updates(pledge, content.language, limit):
        entries.append(
            (
                _midnight(update.published_on.date()),
                f"{tag}/update/{update.id}",
                update.title,
                update.body,
                external_url("updates.public_update", slug=pledge.slug, update_id=update.id),
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
    feed.updated(entries[0][0] if entries else _midnight(pledge.created_at.date()))
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
