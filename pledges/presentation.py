"""How things are shown to the public: a signer as they chose, labels, dates.

Every public surface (wall, API, later feeds and PDFs) goes through ``public_signer`` so a
visibility choice is honoured in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from markupsafe import Markup, escape

from pledges.countries import country_name
from pledges.models import ActionKind, AllyRole, Signature, Visibility

ROLE_LABELS = {
    AllyRole.MAN: "Man",
    AllyRole.WOMAN: "Woman",
    AllyRole.OTHER: "Another gender",
    AllyRole.UNDISCLOSED: "Prefers not to say",
}

VISIBILITY_LABELS = {
    Visibility.FULL: "My full name",
    Visibility.INITIAL: "My first name and last initial",
    Visibility.ORGANIZATION: "Only my organization",
    Visibility.ANONYMOUS: "Anonymous (only my country)",
}

ACTION_KIND_LABELS = {
    ActionKind.CONVERSATION: "Conversation or dialogue",
    ActionKind.TRAINING: "Training or workshop",
    ActionKind.ADVOCACY: "Advocacy",
    ActionKind.MENTORING: "Mentoring",
    ActionKind.SPEAKING_OUT: "Speaking out",
    ActionKind.PERSONAL_PRACTICE: "Personal practice",
    ActionKind.OTHER: "Other",
}

ANONYMOUS_NAME = "Anonymous ally"


@dataclass(frozen=True)
class PublicSigner:
    id: int
    name: str
    organization: str | None
    country: str
    country_name: str
    role: str
    note: str
    confirmed_at: datetime | None
    visibility: str

    @property
    def affiliation(self) -> str | None:
        """The organization line under the name, where the name does not already say it."""
        return self.organization if self.visibility == Visibility.FULL else None

    @property
    def label(self) -> str:
        """One line for lists and documents: "Anonymous ally, Kenya"."""
        return f"{self.name}, {self.country_name}"


def initial_name(full_name: str) -> str:
    """ "Amina Wanjiru Odhiambo" -> "Amina O."; a single name stays as it is."""
    parts = full_name.split()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."


def public_signer(signature: Signature) -> PublicSigner:
    visibility = signature.visibility
    organization: str | None = signature.organization_name or None
    if visibility == Visibility.FULL:
        name = signature.full_name
    elif visibility == Visibility.INITIAL:
        name, organization = initial_name(signature.full_name), None
    elif visibility == Visibility.ORGANIZATION and organization:
        name = f"A member of {organization}"
    else:
        name, organization = ANONYMOUS_NAME, None
    return PublicSigner(
        id=signature.id,
        name=name,
        organization=organization,
        country=signature.country,
        country_name=country_name(signature.country),
        role=signature.role,
        note=signature.personal_note,
        confirmed_at=signature.confirmed_at,
        visibility=visibility,
    )


def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML paragraphs, escaped: blank lines split paragraphs."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text or "") if b.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in b.split("\n")))
        for b in blocks
    )


def format_date(value: datetime | None) -> str:
    return value.strftime("%-d %B %Y") if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.filters["role_label"] = lambda role: ROLE_LABELS.get(role, role)
    app.jinja_env.filters["action_kind_label"] = lambda kind: ACTION_KIND_LABELS.get(kind, kind)
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["paragraphs"] = paragraphs
    # Card metadata, share links and the embed snippet, for the pledge page and the wall.
    from pledges import sharing

    for helper in (sharing.share_meta, sharing.share_links, sharing.embed_snippet):
        app.jinja_env.globals[helper.__name__] = helper
    app.jinja_env.globals["ROLE_LABELS"] = ROLE_LABELS
    # Organizer navigation lists only the sections whose views exist.
    app.jinja_env.globals["has_view"] = lambda endpoint: endpoint in app.view_functions
