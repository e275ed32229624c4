"""What templates see beyond their own context: every Jinja filter, global and policy.

Registered here, in one place, so a reader looking for ``|role_label`` or ``pledge_content``
in a template finds where it comes from; the modules that define them (presentation, i18n,
content, sharing) know nothing of Jinja's environment.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

from flask import Flask
from markupsafe import Markup

from pledges import models
from pledges.domain.content import pledge_content
from pledges.domain.countries import country_name
from pledges.domain.signers import may_issue_signed_pledge
from pledges.infrastructure import i18n
from pledges.presentation import display as presentation
from pledges.presentation import sharing


def _label_filter(labels: presentation.Labels):
    """A filter showing a stored value by its label; an unknown value as it is."""
    return lambda value: labels.get(value, value)


def machine_datetime(value: date | datetime | None) -> str:
    """A ``<time datetime>`` value the HTML standard accepts: a date as ``2026-03-08``, a
    moment in UTC to the second as ``2026-03-08T14:05:09Z`` (``isoformat()`` gives
    microseconds, which are not a valid HTML datetime). A naive datetime is taken as UTC,
    as the database stores them."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def left_to_right(value: object) -> Markup:
    """A code, address or link isolated left to right: inside Arabic or Urdu text the
    characters of ``JF-7K2M-Q9`` or ``https://…/verify`` keep their order."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(value)


def isolated(value: object) -> Markup:
    """Words in their own direction inside a sentence of the interface's: a commitment in
    English quoted in an Arabic sentence keeps its full stop at its own end."""
    return Markup("<bdi>{}</bdi>").format(value)


def own_direction(text: object) -> str:
    """ "rtl" or "ltr" from a text's first letter, as ``dir="auto"`` decides in a browser:
    for the PDFs, whose renderer (WeasyPrint) does not resolve ``auto`` and would set an
    English note inside an Urdu document right to left ("Kisumu." as ".Kisumu")."""
    for char in str(text or ""):
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "auto"


def csrf_field(form) -> Markup:
    """The form's CSRF token as a hidden input without an id: WTForms gives every one
    ``id="csrf_token"``, repeated on a page with several forms (invalid HTML)."""
    return form.csrf_token(id=False)


def init_app(app: Flask) -> None:
    env = app.jinja_env
    env.add_extension("jinja2.ext.do")
    # Whitespace inside {% trans %} blocks is folded, so msgids do not depend on indentation
    # (babel.cfg extracts with the same setting).
    env.policies["ext.i18n.trimmed"] = True

    env.filters.update(
        ltr=left_to_right,
        bdi=isolated,
        own_direction=own_direction,
        country_name=country_name,
        role_label=_label_filter(presentation.ROLE_LABELS),
        action_kind_label=_label_filter(presentation.ACTION_KIND_LABELS),
        pledge_status_label=_label_filter(presentation.PLEDGE_STATUS_LABELS),
        signature_status_label=_label_filter(presentation.SIGNATURE_STATUS_LABELS),
        date=presentation.format_date,
        machine_datetime=machine_datetime,
        paragraphs=presentation.paragraphs,
        language_name=i18n.language_name,
    )
    env.globals.update(
        ROLE_LABELS=presentation.ROLE_LABELS,
        # The page's language and the links to it in the others.
        html_lang=i18n.html_lang,
        text_direction=i18n.text_direction,
        arrow=i18n.arrow,
        language_links=i18n.language_links,
        # A pledge's own words in the reader's language.
        pledge_content=pledge_content,
        # Card metadata, share links and the embed snippet, for the pledge page and the wall.
        share_meta=sharing.share_meta,
        share_links=sharing.share_links,
        embed_snippet=sharing.embed_snippet,
        # Whether a signer's signed pledge PDF may be offered (the rule that issues it).
        may_issue_signed_pledge=may_issue_signed_pledge,
        # Organizer navigation lists only the sections whose views exist.
        has_view=lambda endpoint: endpoint in app.view_functions,
        # A form's CSRF token, without the id WTForms would repeat on every form of a page.
        csrf_field=csrf_field,
    )
    # Templates compare members (`signature.status == SignatureStatus.HELD`), never a string
    # literal that a renamed value would silently stop matching.
    env.globals.update(
        {
            enum_class.__name__: enum_class
            for enum_class in (
                models.PledgeStatus,
                models.SignatureStatus,
                models.AllyRole,
                models.Visibility,
                models.Reminders,
                models.PartnerStatus,
                models.ReviewState,
                models.ActionKind,
                models.ActionVisibility,
                models.UserRole,
                models.ReportReason,
                models.ReportResolution,
                models.DocumentVariant,
                models.DossierAudience,
                models.DossierStatus,
                models.UpdateStatus,
                models.SendStatus,
            )
        }
    )
