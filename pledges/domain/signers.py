"""What signing and the signer's private page share: who a signer is and how a link finds them.

Issuing and resolving the signer's link tokens, the form of an email address used to spot
the same person twice, and the rules on a signer's choices (commitments, how the wall
shows them) that the sign form, the private page and the renewal all apply.
No feature owns these; each imports them from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import abort, has_request_context, request
from flask_babel import gettext
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from pledges.domain.rules import RuleError
from pledges.extensions import db
from pledges.infrastructure.database import bulk_insert, utcnow
from pledges.infrastructure.security import hash_token, new_token
from pledges.models import (
    AccessToken,
    Action,
    ActionComment,
    Pledge,
    PledgeTally,
    Signature,
    SignatureStatus,
    TokenPurpose,
    Visibility,
)


class SigningError(RuleError):
    """A rule on a signature or the signer's details was broken."""


# Providers that deliver name+anything@ to name@: the tag does not make another person.
SUBADDRESSING_DOMAINS = frozenset(
    {
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "fastmail.com",
        "proton.me",
        "protonmail.com",
        "yandex.com",
        "yandex.ru",
    }
)
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalize_email(address: str) -> str:
    """The form of an address used to spot the same person signing twice.

    Case is folded, and the aliases a provider delivers to the same inbox are folded
    too: Gmail ignores dots and "+tags" (and googlemail.com is gmail.com); several others
    ignore "+tags". The address as typed is kept separately for sending.

    Within one request an address is checked once: the sign form's field validator, its
    own rule on disposable domains and the service each ask, and the check is a good part
    of validating the form. Kept on the request, so no address outlives it in the
    process's memory.
    """
    if not has_request_context():
        return _normalize_email(address)
    known = request.__dict__.setdefault(_NORMALIZED_EMAILS, {})
    if address not in known:
        known[address] = _normalize_email(address)
    return known[address]


_NORMALIZED_EMAILS = "pledges_normalized_emails"


def _normalize_email(address: str) -> str:
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise SigningError(str(exc), field="email") from exc
    local, _, domain = result.normalized.casefold().rpartition("@")
    if domain in GMAIL_DOMAINS:
        local, domain = local.split("+", 1)[0].replace(".", ""), "gmail.com"
    elif domain in SUBADDRESSING_DOMAINS:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}"


def check_commitments(pledge: Pledge, chosen: Iterable[int], held: Iterable[int] = ()) -> None:
    """``chosen`` must be offered commitments, or ones in ``held``: a signer may keep a
    commitment they already hold after it was retired."""
    chosen = set(chosen)
    allowed = {c.id for c in pledge.offered_commitments} | set(held)
    if not chosen:
        raise SigningError(gettext("Choose at least one commitment."), field="commitments")
    if not chosen <= allowed:
        raise SigningError(gettext("Choose only commitments of this pledge."), field="commitments")
    missing = [c for c in pledge.offered_commitments if c.required and c.id not in chosen]
    if missing:
        raise SigningError(
            gettext(
                "Every commitment marked “required” is part of this pledge and of every "
                "signature: %(numbers)s.",
                numbers=", ".join(f"#{c.position}" for c in missing),
            ),
            field="commitments",
        )


def check_visibility(visibility: str, organization: str) -> None:
    if visibility == Visibility.ORGANIZATION and not organization.strip():
        raise SigningError(
            gettext("To be shown by your organization, tell us its name."), field="organization"
        )


# Links.


def issue_token(signature: Signature, purpose: TokenPurpose) -> str:
    """A new link token for ``signature``; only its hash is stored."""
    token, token_hash = new_token()
    db.session.add(AccessToken(signature=signature, purpose=purpose, token_hash=token_hash))
    return token


def issue_tokens(signature: Signature, *purposes: TokenPurpose) -> list[str]:
    """``issue_token`` for each of ``purposes``, in that order, for one email's links: one
    INSERT of their rows, where flushing one new object each costs an INSERT each on SQLite
    (it cannot return many new keys in order). ``signature`` must be stored already."""
    tokens, rows = _new_token_rows((signature.id, purpose) for purpose in purposes)
    db.session.execute(_INSERT_TOKENS, rows)
    return tokens


# Built once: composing an INSERT costs about a third of running it.
_INSERT_TOKENS = AccessToken.__table__.insert()


def _new_token_rows(
    links: Iterable[tuple[int, TokenPurpose]],
) -> tuple[list[str], list[dict[str, object]]]:
    """New tokens for (signature id, purpose) pairs, and the rows that store their hashes."""
    tokens, rows, now = [], [], utcnow()
    for signature_id, purpose in links:
        token, token_hash = new_token()
        tokens.append(token)
        rows.append(
            {
                "signature_id": signature_id,
                "purpose": purpose,
                "token_hash": token_hash,
                "created_at": now,
            }
        )
    return tokens, rows


def issue_private_link_token(signature: Signature) -> str:
    """A new private-page link for an email, beside the signer's existing ones."""
    return issue_token(signature, TokenPurpose.MANAGE)


def issue_reminder_token(signature: Signature) -> str:
    """A fresh private-page link for a reminder email; the previous reminder's stops working."""
    db.session.execute(
        delete(AccessToken).where(
            AccessToken.signature_id == signature.id,
            AccessToken.purpose == TokenPurpose.REMINDER,
        )
    )
    return issue_token(signature, TokenPurpose.REMINDER)


def issue_hide_token(signature: Signature) -> str:
    """A new "take me off the public wall now" link, for every email to a signer."""
    return issue_token(signature, TokenPurpose.HIDE)


def issue_hide_tokens(signature_ids: Iterable[int]) -> dict[int, str]:
    """``issue_hide_token`` for many signers at once (one email each): one bulk INSERT."""
    ids = list(signature_ids)
    tokens, rows = _new_token_rows((signature_id, TokenPurpose.HIDE) for signature_id in ids)
    bulk_insert(db.session, AccessToken.__table__, rows)
    return dict(zip(ids, tokens, strict=True))


def hide_link_signature_or_404(token: str) -> Signature:
    return signature_for_token_or_404(token, TokenPurpose.HIDE)


# Links that open the signer's private page: the one from signing, and the latest reminder's.
PRIVATE_PAGE = (TokenPurpose.MANAGE, TokenPurpose.REMINDER)


# The private page shows every action with its review and comments: load them together
# rather than one query per action.
_PRIVATE_PAGE_LOADING = (
    selectinload(Signature.chosen),
    selectinload(Signature.partners),
    selectinload(Signature.actions).options(
        joinedload(Action.commitment),
        joinedload(Action.reviewed_by),
        selectinload(Action.comments).joinedload(ActionComment.partner),
    ),
)


def signature_for_token(token: str, *purposes: TokenPurpose) -> Signature | None:
    return db.session.scalar(
        select(Signature)
        .join(AccessToken, AccessToken.signature_id == Signature.id)
        .where(AccessToken.token_hash == hash_token(token), AccessToken.purpose.in_(purposes))
        .options(*_PRIVATE_PAGE_LOADING)
    )


def signature_for_token_or_404(token: str, *purposes: TokenPurpose) -> Signature:
    """Like ``db.get_or_404``: an unknown or wrong-purpose link is simply not found."""
    signature = signature_for_token(token, *purposes)
    if signature is None:
        abort(404)
    return signature


def private_page_signature_or_404(token: str) -> Signature:
    return signature_for_token_or_404(token, *PRIVATE_PAGE)


def signed_pledge_refusal(signature: Signature) -> str | None:
    """Why no signed pledge may be issued for ``signature`` (said to its signer), or None
    when one may: only a signature that stands, confirmed and shown, has a document.

    The one rule for the signer's download and preview, the organizers' copy from the
    moderation queue, and the links that offer them."""
    if signature.status == SignatureStatus.PENDING:
        return gettext("Your signed pledge is ready once you confirm your signature.")
    if signature.status == SignatureStatus.HELD:
        return gettext(
            "Your signed pledge is ready once the pledge's moderators have approved your signature."
        )
    if signature.status == SignatureStatus.WITHDRAWN:
        return gettext("This signature was withdrawn, so there is no signed pledge.")
    if signature.status == SignatureStatus.HIDDEN:
        return gettext(
            "This signature was hidden by the pledge's moderators, so no signed pledge "
            "can be issued for it."
        )
    return None


def may_issue_signed_pledge(signature: Signature) -> bool:
    return signed_pledge_refusal(signature) is None


# Who the public sees.

#: Signers shown without a name: their country is all that places them.
UNNAMED = (Visibility.ANONYMOUS, Visibility.ORGANIZATION)


def publicly_shown(now: datetime | None = None):
    """The SQL condition for "a public page shows this signature now"."""
    return Signature.shown_publicly(now or utcnow())


def action_shown_publicly():
    """The SQL condition, beside ``publicly_shown`` on its signer, for "a public page shows
    this public action": logged since the signer last made their entry less identifying."""
    return or_(
        Signature.appearance_reset_at.is_(None),
        Action.created_at >= Signature.appearance_reset_at,
    )


def crowded_countries(pledge_id: int, minimum: int, now: datetime | None = None) -> frozenset[str]:
    """The countries of the pledge with at least ``minimum`` unnamed (anonymous or
    organization-only) signers shown publicly: only there may an unnamed entry show its
    country, hidden in a crowd big enough (small-count protection).

    Asked country by country, each only until ``minimum`` are found (on the unnamed
    signers' index), of the countries the tallies count at least ``minimum`` confirmed
    signers in: a pledge of a million costs what one of a hundred does, where grouping
    every unnamed signer by country read a third of the table.
    """
    candidates = db.session.scalars(
        select(PledgeTally.key).where(
            PledgeTally.pledge_id == pledge_id,
            PledgeTally.dimension == "country",  # tallies.COUNTRY
            PledgeTally.count >= minimum,
        )
    ).all()
    crowded = set()
    for country in candidates:
        found = db.session.scalar(
            select(func.count()).select_from(
                select(Signature.id)
                .where(
                    Signature.pledge_id == pledge_id,
                    Signature.country == country,
                    Signature.visibility.in_(UNNAMED),
                    publicly_shown(now),
                )
                .limit(minimum)
                .subquery()
            )
        )
        if found >= minimum:
            crowded.add(country)
    return frozenset(crowded)
