"""A pledge's own words in the reader's language: its translation there, else the original.

The interface language (pledges/infrastructure/i18n.py) and the content language are apart:
organizers may translate a pledge into languages the interface does not speak (CONTENT_LANGUAGES,
such as Urdu or Arabic). A reader gets the content in the language they asked for with
``?content=xx``, else in their interface language when the pledge has it, else in the
pledge's own language. Links to the other languages use ``?lang=xx`` for a language the
interface speaks (it switches both) and ``?content=xx`` for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from flask import current_app, has_request_context, request
from flask_babel import get_locale, gettext
from sqlalchemy import select

from pledges.extensions import db
from pledges.infrastructure.i18n import (
    LOCALE_PARAM,
    language_name,
    page_query,
    supported_locales,
    text_direction,
)
from pledges.models import (
    Commitment,
    CommitmentTranslation,
    Pledge,
    PledgeTranslation,
    Signature,
)

CONTENT_PARAM = "content"


def content_languages() -> tuple[str, ...]:
    """Languages a pledge may be written or translated in: the interface's, and more."""
    configured = tuple(current_app.config.get("CONTENT_LANGUAGES") or ())
    return tuple(dict.fromkeys((*supported_locales(), *configured)))


@dataclass(frozen=True)
class ContentCommitment:
    id: int
    position: int
    text: str
    required: bool
    language: str = ""  # the language of ``text``; "" for the content's own

    @property
    def html_lang(self) -> str:
        return self.language.replace("_", "-")

    @property
    def direction(self) -> str:
        return text_direction(self.language) if self.language else ""


@dataclass(frozen=True)
class ContentLink:
    code: str
    name: str  # in the language itself: "Français", "اردو"
    href: str


class PledgeContent:
    """The title, preamble, guidelines and current commitments of ``pledge`` in one
    language. Anything else is read from the pledge itself, so a template or email given
    this in place of the pledge shows the same pledge, in these words."""

    def __init__(self, pledge: Pledge, language: str, requested: bool = False) -> None:
        self.pledge = pledge
        self.requested = requested
        #: The language the reader wanted; where a part is not in it, ``untranslated_note``.
        self.wanted = language
        translation = _translation(pledge, language)
        self.is_translation = translation is not None
        self.language = language if translation is not None else pledge.language
        source = translation or pledge
        self.title: str = source.title
        self.preamble: str = source.preamble or pledge.preamble
        # Guidelines fall back like commitments: an untranslated part is shown in the
        # original (its block marked with ``guidelines_language``), never left out.
        self.guidelines: str = source.guidelines or pledge.guidelines
        self.guidelines_language = (
            self.language if source.guidelines or not pledge.guidelines else pledge.language
        )
        self._commitment_texts: dict[int, str] | None = None if translation else {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pledge, name)

    @property
    def direction(self) -> str:
        return text_direction(self.language)

    @property
    def html_lang(self) -> str:
        return self.language.replace("_", "-")

    def commitment_text(self, commitment: Commitment) -> str:
        if self._commitment_texts is None:  # on first use: a title alone needs no query
            self._commitment_texts = current_translations(self.pledge.commitments, self.language)
        return self._commitment_texts.get(commitment.id, commitment.text)

    def commitment_language(self, commitment: Commitment) -> str:
        """The language ``commitment_text`` is in: the content's, or the original's where
        this wording is not translated."""
        self.commitment_text(commitment)
        assert self._commitment_texts is not None
        if not self.is_translation or commitment.id in self._commitment_texts:
            return self.language
        return self.pledge.language

    @property
    def offered_commitments(self) -> list[ContentCommitment]:
        return [
            ContentCommitment(
                c.id,
                c.position,
                self.commitment_text(c),
                c.required,
                self.commitment_language(c),
            )
            for c in self.pledge.offered_commitments
        ]

    def untranslated_note(
        self, shown_in: str | None = None, commitments: bool = False
    ) -> str | None:
        """In the reader's interface language, that a text shown in ``shown_in`` (default:
        the content's language) has no translation into the language they wanted, or with
        ``commitments`` that some of the commitments have none; None when it is in that
        language."""
        shown_in = shown_in or self.language
        if shown_in == self.wanted:
            return None
        reader = str(get_locale() or "en")
        wanted, shown = _language_in(self.wanted, reader), _language_in(shown_in, reader)
        if commitments:
            return gettext(
                "Some commitments have not been translated into %(wanted)s yet; they are "
                "shown in %(shown)s.",
                wanted=wanted,
                shown=shown,
            )
        return gettext(
            "This text has not been translated into %(wanted)s yet; shown in %(shown)s.",
            wanted=wanted,
            shown=shown,
        )

    def signer_locale(self) -> str:
        """What a signature made on this page records as its language (Signature.locale).

        The content language shown, when it was a translation or asked for; when the
        pledge simply has no version in the reader's interface language, the interface
        language: their mail and document then speak it, with the pledge's original words.
        """
        if self.is_translation or self.requested or not has_request_context():
            return self.language
        return str(get_locale() or self.language)

    def other_languages(self) -> list[ContentLink]:
        """Links to this page in the pledge's other languages ("Also in: …")."""
        available = [self.pledge.language, *(t.locale for t in self.pledge.translations)]
        others = page_query(LOCALE_PARAM, CONTENT_PARAM)
        interface = supported_locales()
        links = []
        for code in dict.fromkeys(available):
            if code == self.language:
                continue
            param = LOCALE_PARAM if code in interface else CONTENT_PARAM
            links.append(
                ContentLink(
                    code=code,
                    name=language_name(code),
                    href=request.path + "?" + urlencode([*others, (param, code)]),
                )
            )
        return links

    @property
    def query_args(self) -> dict[str, str]:
        """Arguments that keep this content language on a link or form back to the page."""
        return {CONTENT_PARAM: self.language} if self.requested else {}


def _language_in(code: str, reader: str) -> str:
    """A language named in the reader's language, as within a sentence ("French", "anglais")."""
    try:
        return Locale.parse(code).get_display_name(reader) or code
    except (ValueError, UnknownLocaleError):  # a code Babel does not know: shown as it is
        return code


def _translation(pledge: Pledge, language: str) -> PledgeTranslation | None:
    if language == pledge.language:
        return None
    return next((t for t in pledge.translations if t.locale == language), None)


def current_translations(commitments: list[Commitment], language: str) -> dict[int, str]:
    """``{commitment id: text}`` for the current wording of each, where translated."""
    current = {c.id: c.version for c in commitments}
    if not current:
        return {}
    rows = db.session.scalars(
        select(CommitmentTranslation).where(
            CommitmentTranslation.commitment_id.in_(current),
            CommitmentTranslation.locale == language,
        )
    )
    return {
        row.commitment_id: row.text for row in rows if current[row.commitment_id] == row.version
    }


def translated_titles(pledge_ids: list[int], language: str) -> dict[int, str]:
    """``{pledge id: title}`` in ``language``, for those translated into it (one query)."""
    if not pledge_ids:
        return {}
    rows = db.session.execute(
        select(PledgeTranslation.pledge_id, PledgeTranslation.title)
        .join(Pledge, Pledge.id == PledgeTranslation.pledge_id)
        .where(
            PledgeTranslation.pledge_id.in_(pledge_ids),
            PledgeTranslation.locale == language,
            Pledge.language != language,
        )
    )
    return {pledge_id: title for pledge_id, title in rows}


def requested_language() -> str | None:
    raw = request.args.get(CONTENT_PARAM) if has_request_context() else None
    return raw if raw and raw in content_languages() else None


def pledge_content(pledge: Pledge, language: str | None = None) -> PledgeContent:
    """The pledge for this reader: ``language`` if given, else ``?content=``, else the
    interface language (each only when the pledge has it), else its own language."""
    if language is not None:
        return PledgeContent(pledge, language)
    requested = requested_language()
    # The translations are looked at only for a ``?content=`` other than the original: a
    # reader of the original (most signers) costs no query for them.
    if requested and (requested == pledge.language or _translation(pledge, requested)):
        return PledgeContent(pledge, requested, requested=True)
    return PledgeContent(pledge, str(get_locale() or pledge.language))


def signed_content(signature: Signature) -> PledgeContent:
    """The pledge in the language this signer signed in (its original where untranslated),
    for their mail, pages and document."""
    return PledgeContent(signature.pledge, signature.locale)


def content_cache_key() -> str:
    """The part of a cached page's key that its content language depends on (the
    interface language is in every key already)."""
    return requested_language() or ""
