"""How things are shown to the public: a signer as they chose, labels, dates.

Every public surface (wall, API, later feeds and PDFs) goes through ``public_signer`` so a
visibility choice is honoured in one place.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import flask_babel
from flask import current_app
from flask_babel import gettext, lazy_gettext
from markupsafe import Markup, escape
from sqlalchemy.orm import load_only

from pledges.domain import signers
from pledges.domain.countries import country_name
from pledges.models import (
    ActionKind,
    AllyRole,
    PledgeStatus,
    Signature,
    SignatureStatus,
    Visibility,
)


class Labels(Mapping[str, str]):
    """Labels for stored values, each looked up in the language of the current request.

    ``labels[value]`` is a plain string; ``labels.lazy(value)`` is for what is built once
    at import time (form choices), and is translated whenever it is shown.
    """

    def __init__(self, labels: Mapping[str, flask_babel.LazyString]) -> None:
        self._labels = dict(labels)

    def __getitem__(self, key: str) -> str:
        return str(self._labels[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def lazy(self, key: str) -> flask_babel.LazyString:
        return self._labels[key]


ROLE_LABELS = Labels(
    {
        AllyRole.MAN: lazy_gettext("Man"),
        AllyRole.WOMAN: lazy_gettext("Woman"),
        AllyRole.OTHER: lazy_gettext("Another gender"),
        AllyRole.UNDISCLOSED: lazy_gettext("Prefers not to say"),
    }
)

VISIBILITY_LABELS = Labels(
    {
        Visibility.FULL: lazy_gettext("My full name"),
        Visibility.INITIAL: lazy_gettext("My first name and last initial"),
        Visibility.ORGANIZATION: lazy_gettext("Only my organization"),
        Visibility.ANONYMOUS: lazy_gettext("Anonymous (only my country)"),
    }
)

ACTION_KIND_LABELS = Labels(
    {
        ActionKind.CONVERSATION: lazy_gettext("Conversation or dialogue"),
        ActionKind.TRAINING: lazy_gettext("Training or workshop"),
        ActionKind.ADVOCACY: lazy_gettext("Advocacy"),
        ActionKind.MENTORING: lazy_gettext("Mentoring"),
        ActionKind.SPEAKING_OUT: lazy_gettext("Speaking out"),
        ActionKind.PERSONAL_PRACTICE: lazy_gettext("Personal practice"),
        ActionKind.OTHER: lazy_gettext("Other"),
    }
)

#: A pledge's status as organizers read it, in a badge or a sentence ("Status: open").
PLEDGE_STATUS_LABELS = Labels(
    {
        PledgeStatus.DRAFT: lazy_gettext("draft"),
        PledgeStatus.OPEN: lazy_gettext("open"),
        PledgeStatus.CLOSED: lazy_gettext("closed"),
    }
)

#: A signature's status as moderators read it, in a badge.
SIGNATURE_STATUS_LABELS = Labels(
    {
        SignatureStatus.PENDING: lazy_gettext("pending"),
        SignatureStatus.HELD: lazy_gettext("held"),
        SignatureStatus.CONFIRMED: lazy_gettext("confirmed"),
        SignatureStatus.HIDDEN: lazy_gettext("hidden"),
        SignatureStatus.WITHDRAWN: lazy_gettext("withdrawn"),
    }
)

#: Compared with ``PublicSigner.name`` in the same request, so in the same language.
ANONYMOUS_NAME = lazy_gettext("Anonymous ally")

#: English keeps the day-month-year the site has always shown; other languages their own
#: long form ("5 mars 2025", "5 de marzo de 2025").
DATE_PATTERNS = {"en": "d MMMM y"}


@dataclass(frozen=True)
class PublicSigner:
    """A signer as the public may see them. Nothing here links two appearances of one
    person: ``public_id`` is random and changes with every change to how they appear, and
    ``since`` is a day, never a time."""

    public_id: str
    name: str
    organization: str | None
    country: str | None  # None: withheld (an unnamed signer in a small crowd)
    country_name: str | None
    role: str | None  # None: the signer does not show their ally role
    note: str
    since: date | None  # the UTC day from which the entry is public
    visibility: str

    @property
    def affiliation(self) -> str | None:
        """The organization line under the name, where the name does not already say it."""
        return self.organization if self.visibility == Visibility.FULL else None

    @property
    def label(self) -> str:
        """One line for lists and documents: "Anonymous ally, Kenya"."""
        return f"{self.name}, {self.country_name}" if self.country_name else self.name


def initial_name(full_name: str) -> str:
    """ "Amina Wanjiru Odhiambo" -> "Amina O."; a single name stays as it is."""
    parts = full_name.split()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."


#: All that ``public_signer`` reads of a signature. Public queries load only these
#: (``PUBLIC_SIGNER_COLUMNS``), so no email, token or IP hash is ever at hand to leak.
PUBLIC_SIGNER_FIELDS = (
    Signature.id,
    Signature.public_id,
    Signature.full_name,
    Signature.organization_name,
    Signature.country,
    Signature.role,
    Signature.show_role,
    Signature.visibility,
    Signature.personal_note,
    Signature.public_since,
    Signature.appearance_reset_at,
)
PUBLIC_SIGNER_COLUMNS = load_only(*PUBLIC_SIGNER_FIELDS)


def min_public_count() -> int:
    return int(current_app.config["MIN_PUBLIC_COUNT"])


def crowded_countries(pledge_id: int) -> frozenset[str]:
    """Where the pledge's unnamed signers may show their country (see ``public_signer``)."""
    return signers.crowded_countries(pledge_id, min_public_count())


def public_signer(signature: Signature, crowded: Container[str] = frozenset()) -> PublicSigner:
    """The signer as they chose to be shown. ``crowded``: the countries of the pledge
    with enough unnamed signers (``crowded_countries``); an anonymous or organization-only
    signer from any other country is shown without it."""
    visibility = signature.visibility
    organization: str | None = signature.organization_name or None
    if visibility == Visibility.FULL:
        name = signature.full_name
    elif visibility == Visibility.INITIAL:
        name, organization = initial_name(signature.full_name), None
    elif visibility == Visibility.ORGANIZATION and organization:
        name = gettext("A member of %(organization)s", organization=organization)
    else:
        name, organization = str(ANONYMOUS_NAME), None
    country: str | None = signature.country
    if visibility in signers.UNNAMED and country not in crowded:
        country = None
    since = signature.public_since
    return PublicSigner(
        public_id=signature.public_id,
        name=name,
        organization=organization,
        country=country,
        country_name=country_name(country) if country else None,
        role=signature.role if signature.show_role else None,
        # A note written beside an earlier, more identifying appearance would tie it to this one.
        note=signature.personal_note if signature.appearance_reset_at is None else "",
        since=since.date() if since is not None else None,
        visibility=visibility,
    )


@dataclass(frozen=True)
class PublicCount:
    """One cell of a public breakdown: exact, "fewer than ``minimum``", or withheld so that
    a lone small cell cannot be worked out from the exact total (``withheld``)."""

    key: str
    count: int | None  # None: fewer than ``minimum``, or withheld (small-count protection)
    minimum: int
    withheld: bool = False

    @property
    def text(self) -> str:
        if self.withheld:
            return gettext("not shown")
        if self.count is None:
            return gettext("fewer than %(minimum)s", minimum=self.minimum)
        return flask_babel.format_decimal(self.count)


def public_count(count: int) -> PublicCount:
    """A single count as the public may read it: from 1 to MIN_PUBLIC_COUNT - 1 only
    "fewer than N" (``PublicCount.text``), never the exact figure."""
    minimum = min_public_count()
    return PublicCount("", None if 0 < count < minimum else count, minimum)


def public_counts(
    counts: Mapping[str, int], keys: Iterable[str] | None = None
) -> list[PublicCount]:
    """A breakdown as the public may read it: cells of 1 to MIN_PUBLIC_COUNT - 1 become
    "fewer than N", listed after the exact ones in key order, so neither their number nor
    their place tells how small they are. The total is published exactly, so a single small
    cell could be worked out as the total less the exact ones: then the smallest exact cell
    is withheld too (complementary suppression, as statistics offices do). ``keys``: every
    cell to list, in this order (missing ones count 0), kept; default: the keys of
    ``counts``, largest first."""
    minimum = min_public_count()
    cells = [(key, counts.get(key, 0)) for key in (counts if keys is None else keys)]
    small = {key for key, count in cells if 0 < count < minimum}
    withheld: set[str] = set()
    if len(small) == 1:
        shown = [(count, key) for key, count in cells if count >= minimum]
        if shown:
            withheld.add(min(shown)[1])

    def cell(key: str, count: int) -> PublicCount:
        if key in withheld:
            return PublicCount(key, None, minimum, withheld=True)
        return PublicCount(key, None if key in small else count, minimum)

    if keys is not None:
        return [cell(key, count) for key, count in cells]
    ordered = sorted(cells, key=lambda kc: (-kc[1], kc[0]))
    exact = [cell(k, n) for k, n in ordered if k not in small and k not in withheld]
    hidden = [cell(k, n) for k, n in sorted(ordered) if k in small or k in withheld]
    return exact + hidden


def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML paragraphs, escaped: blank lines split paragraphs."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text or "") if b.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in b.split("\n")))
        for b in blocks
    )


def format_date(value: date | datetime | None) -> str:
    """A date in words, in the language of the current request."""
    if not value:
        return ""
    locale = flask_babel.get_locale()
    pattern = DATE_PATTERNS.get(locale.language if locale else "en", "long")
    return flask_babel.format_date(value, pattern)
