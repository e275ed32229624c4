"""The rules of signing: who may sign what, duplicates, confirmation, the signer's choices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import abort
from flask_babel import get_locale, gettext
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from pledges import tallies
from pledges.abuse import hash_ip, is_disposable
from pledges.actions.service import forget_actions
from pledges.content import PledgeContent
from pledges.database import utcnow
from pledges.extensions import db
from pledges.i18n import signer_language
from pledges.mail import queue_email
from pledges.models import (
    AccessToken,
    Action,
    ActionComment,
    OutboxEmail,
    Pledge,
    PledgeStatus,
    Reminders,
    Signature,
    SignatureStatus,
    TokenPurpose,
    Visibility,
)
from pledges.orgs.service import organization_ids_named
from pledges.rules import RuleError
from pledges.security import hash_token, new_token, new_verification_code
from pledges.urls import external_url
from pledges.wall import cache as wall_cache


class SigningError(RuleError):
    """A signing rule was broken."""


@dataclass(frozen=True)
class SignatureInput:
    name: str
    email: str
    country: str
    role: str
    organization: str
    visibility: str
    commitment_ids: tuple[int, ...]
    personal_note: str
    ip_address: str | None = None  # only ever stored as a keyed hash
    # The language the signer read the pledge in (pledges/content.py: signer_locale);
    # None: the language of the current request.
    locale: str | None = None


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
    """
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


def check_email_allowed(email_key: str) -> None:
    domain = email_key.rpartition("@")[2]
    if is_disposable(domain):
        raise SigningError(
            gettext(
                "Please use a permanent address: addresses at %(domain)s expire, and you could "
                "then never confirm, change or withdraw your signature.",
                domain=domain,
            ),
            field="email",
        )


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
                "Every commitment marked “required” is part of this pledge: tick %(numbers)s.",
                numbers=", ".join(f"#{c.position}" for c in missing),
            ),
            field="commitments",
        )


def check_visibility(visibility: str, organization: str) -> None:
    if visibility == Visibility.ORGANIZATION and not organization.strip():
        raise SigningError(
            gettext("To be shown by your organization, tell us its name."), field="organization"
        )


def sign(pledge: Pledge, data: SignatureInput) -> None:
    """Record a signature and queue its confirmation email; the caller commits.

    Signing again with an address already on this pledge creates nothing: the signer is
    emailed their links again. The outcome is not returned, so a caller cannot leak to the
    screen whether an address had signed.
    """
    if pledge.status != PledgeStatus.OPEN:
        raise SigningError(gettext("This pledge is not taking signatures."))
    check_commitments(pledge, data.commitment_ids)
    check_visibility(data.visibility, data.organization)
    email_key = normalize_email(data.email)
    check_email_allowed(email_key)

    existing = _signature_by_email(pledge, email_key)
    if existing is None:
        signature = _new_signature(pledge, data, email_key)
        try:
            with db.session.begin_nested():
                db.session.add(signature)
        except IntegrityError:
            # Lost a race with another request for the same address (or, once in 2^50, a
            # code collision): whichever way, fall back on what is stored now.
            existing = _signature_by_email(pledge, email_key)
            if existing is None:
                raise
        else:
            _send_confirmation(signature)
            return
    _send_links_again(existing)


def _signature_by_email(pledge: Pledge, email_key: str) -> Signature | None:
    return db.session.scalar(
        select(Signature).where(
            Signature.pledge_id == pledge.id, Signature.email_normalized == email_key
        )
    )


def _new_signature(pledge: Pledge, data: SignatureInput, email_key: str) -> Signature:
    signature = Signature(
        pledge_id=pledge.id,
        full_name=data.name,
        email=data.email.strip(),
        email_normalized=email_key,
        country=data.country,
        role=data.role,
        organization_name=data.organization.strip(),
        organization_id=organization_id_for(data.organization),
        visibility=data.visibility,
        personal_note=data.personal_note,
        status=SignatureStatus.PENDING,
        verification_code=new_verification_code(),
        signed_at=utcnow(),
        ip_hash=hash_ip(data.ip_address),
        locale=data.locale or str(get_locale() or "en"),
    )
    by_id = {c.id: c for c in pledge.offered_commitments}
    # A commitment sent twice is one choice (dict keys keep the order they came in).
    signature.chosen = [by_id[cid].choose() for cid in dict.fromkeys(data.commitment_ids)]
    return signature


def organization_id_for(name: str) -> int | None:
    """Link a typed organization name to a known ally organization, if one has that name."""
    ids = organization_ids_named(name) if name.strip() else []
    return ids[0] if ids else None


def _issue_token(signature: Signature, purpose: TokenPurpose) -> str:
    token, token_hash = new_token()
    db.session.add(AccessToken(signature=signature, purpose=purpose, token_hash=token_hash))
    return token


def _send_confirmation(signature: Signature) -> None:
    confirm = _issue_token(signature, TokenPurpose.CONFIRM)
    manage = _issue_token(signature, TokenPurpose.MANAGE)
    with signer_language(signature.locale):
        pledge = signed_content(signature)
        queue_email(
            signature.email,
            gettext("Please confirm your signature: %(title)s", title=pledge.title),
            "confirm",
            about=signature,
            signature=signature,
            pledge=pledge,
            confirm_url=external_url("signing.confirm", token=confirm),
            manage_url=external_url("signing.manage", token=manage),
        )


def _send_links_again(signature: Signature) -> None:
    manage = _issue_token(signature, TokenPurpose.MANAGE)
    confirm = None
    if signature.status == SignatureStatus.PENDING:
        confirm = external_url(
            "signing.confirm", token=_issue_token(signature, TokenPurpose.CONFIRM)
        )
    with signer_language(signature.locale):
        pledge = signed_content(signature)
        queue_email(
            signature.email,
            gettext("You have already signed: %(title)s", title=pledge.title),
            "already_signed",
            about=signature,
            signature=signature,
            pledge=pledge,
            confirm_url=confirm,
            manage_url=external_url("signing.manage", token=manage),
        )


def signed_content(signature: Signature) -> PledgeContent:
    """The pledge in the language this signer signed in (its original where untranslated),
    for their mail, pages and document."""
    return PledgeContent(signature.pledge, signature.locale)


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


def issue_private_link_token(signature: Signature) -> str:
    """A new private-page link for an email, beside the signer's existing ones."""
    return _issue_token(signature, TokenPurpose.MANAGE)


def issue_reminder_token(signature: Signature) -> str:
    """A fresh private-page link for a reminder email; the previous reminder's stops working."""
    db.session.execute(
        delete(AccessToken).where(
            AccessToken.signature_id == signature.id,
            AccessToken.purpose == TokenPurpose.REMINDER,
        )
    )
    return _issue_token(signature, TokenPurpose.REMINDER)


def confirm(signature: Signature) -> bool:
    """Confirm a pending signature. True if this call confirmed it; repeating is harmless.

    On a pre-moderated pledge the signature is held (not shown, not counted) until a
    moderator approves it (moderation.service.approve). The conditional UPDATE makes two
    simultaneous confirmations count once.
    """
    now = utcnow()
    new_status = (
        SignatureStatus.HELD if signature.pledge.premoderation else SignatureStatus.CONFIRMED
    )
    result = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.status == SignatureStatus.PENDING)
        .values(
            status=new_status,
            confirmed_at=now,
            next_checkin_at=now + timedelta(days=signature.pledge.checkin_cadence_days),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _status_changed(signature, SignatureStatus.PENDING, new_status)
    db.session.refresh(signature)
    return True


def _status_changed(signature: Signature, old_status: str, new_status: str) -> None:
    tallies.record_status_change(signature, old_status, new_status)
    wall_cache.mark_changed(signature.pledge_id)


def change_visibility(signature: Signature, visibility: str, organization: str) -> None:
    if signature.status == SignatureStatus.WITHDRAWN:
        raise SigningError(gettext("This signature was withdrawn."))
    check_visibility(visibility, organization)
    signature.visibility = visibility
    signature.organization_name = organization.strip()
    signature.organization_id = organization_id_for(organization)
    wall_cache.mark_changed(signature.pledge_id)


def withdraw(signature: Signature) -> None:
    """Withdraw and erase what identifies the signer, in this transaction.

    Name, email, organization, note, the actions logged and the mail about this signature
    are deleted; the counts drop at once. Country and ally role stay, as anonymous figures.
    """
    if signature.status == SignatureStatus.WITHDRAWN:
        return
    from pledges.partners import service as partners_service  # partners import this module

    # While the status still says whether its actions are in the figures. And before the
    # partners go: the database deletes their comments with them, under the ORM's feet.
    forget_actions(signature)
    partners_service.signer_withdrawing(signature)
    old_status = signature.status
    signature.status = SignatureStatus.WITHDRAWN
    signature.withdrawn_at = utcnow()
    signature.full_name = ""
    signature.email = None
    signature.email_normalized = None
    signature.organization_name = ""
    signature.organization_id = None
    signature.personal_note = ""
    signature.visibility = Visibility.ANONYMOUS
    signature.reminders = Reminders.STOPPED
    signature.next_checkin_at = None
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.signature_id == signature.id))
    _status_changed(signature, old_status, SignatureStatus.WITHDRAWN)


def personal_data(signature: Signature) -> dict:
    """Everything held about a signer, for them to download."""

    def iso(value):
        return value.isoformat() if value else None

    mail = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.signature_id == signature.id).order_by(OutboxEmail.id)
    )
    signed_words = {row.commitment_id: row.text for row in signature.chosen}
    return {
        "exported_at": iso(utcnow()),
        "pledge": {
            "title": signature.pledge.title,
            "url": external_url("signing.sign", slug=signature.pledge.slug),
        },
        "signature": {
            "full_name": signature.full_name,
            "email": signature.email,
            "country": signature.country,
            "ally_role": signature.role,
            "organization": signature.organization_name,
            "visibility": signature.visibility,
            "personal_note": signature.personal_note,
            "status": signature.status,
            "verification_code": signature.verification_code,
            "signed_at": iso(signature.signed_at),
            "confirmed_at": iso(signature.confirmed_at),
            "withdrawn_at": iso(signature.withdrawn_at),
        },
        "commitments": [
            {"text": c.text, "required": c.required} for c in signature.chosen_commitments
        ],
        # Taken off by the signer; still held, as their actions may name them.
        "commitments_taken_off": [
            {"text": row.text, "ends_at": iso(row.ends_at)}
            for row in signature.chosen
            if row.ends_at is not None
        ],
        "actions": [
            {
                "commitment": signed_words.get(action.commitment_id, action.commitment.text),
                "kind": action.kind,
                "done_on": action.done_on.isoformat(),
                "description": action.description,
                "people_reached": action.people_reached,
                "evidence_url": action.evidence_url,
                "visibility": action.visibility,
                "logged_at": iso(action.created_at),
                "updated_at": iso(action.updated_at),
                "review": action.review_state,
                "comments": [
                    {
                        "by": comment.partner.name if comment.partner else "me",
                        "text": comment.body,
                        "at": iso(comment.created_at),
                    }
                    for comment in action.comments
                ],
            }
            for action in signature.actions
        ],
        "accountability_partners": [
            {
                "name": partner.name,
                "email": partner.email,
                "status": partner.status,
                "named_publicly": partner.show_name,
                "invited_at": iso(partner.invited_at),
            }
            for partner in signature.partners
        ],
        "emails": [
            {
                "to": message.to_address,
                "subject": message.subject,
                "queued_at": iso(message.created_at),
                "sent_at": iso(message.sent_at),
                "status": message.status,
            }
            for message in mail
        ],
        "kept_elsewhere": (
            "Link tokens are kept only as one-way hashes. Nothing else about you is held."
        ),
    }
