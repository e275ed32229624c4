"""What templates see beyond their own context: every Jinja filter, global and policy.

Registered here, in one place, so a reader looking for ``|role_label`` or ``pledge_content``
in a template finds where it comes from; the modules that define them (presentation, i18n,
content, sharing) know nothing of Jinja's environment.
"""

from __future__ import annotations

from flask import Flask

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


def init_app(app: Flask) -> None:
    env = app.jinja_env
    env.add_extension("jinja2.ext.do")
    # Whitespace inside {% trans %} blocks is folded, so msgids do not depend on indentation
    # (babel.cfg extracts with the same setting).
    env.policies["ext.i18n.trimmed"] = True

    env.filters.update(
        country_name=country_name,
        role_label=_label_filter(presentation.ROLE_LABELS),
        action_kind_label=_label_filter(presentation.ACTION_KIND_LABELS),
        pledge_status_label=_label_filter(presentation.PLEDGE_STATUS_LABELS),
        signature_status_label=_label_filter(presentation.SIGNATURE_STATUS_LABELS),
        date=presentation.format_date,
        paragraphs=presentation.paragraphs,
        language_name=i18n.language_name,
    )
    env.globals.update(
        ROLE_LABELS=presentation.ROLE_LABELS,
        # The page's language and the links to it in the others.
        html_lang=i18n.html_lang,
        text_direction=i18n.text_direction,
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
            )
        }
    )
