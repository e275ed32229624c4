"""The rules of signing: who may sign what, duplicates, confirmation.

The signer's private page (their choices afterwards) is pledges/me; what both share
(links, email addresses, the rules on a signer's choices) is pledges/domain/signers.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached

from pledges.domain import transitions
from pledges.domain.content import signed_content
from pledges.domain.signers import (
    SigningError,
    check_commitments,
    check_visibility,
    issue_tokens,
    normalize_email,
)
from pledges.extensions import db
from pledges.infrastructure.abuse import hash_ip, is_disposable
from pledges.infrastructure.database import insert_unless_conflicting, utcnow
from pledges.infrastructure.i18n import signer_language
from pledges.infrastructure.security import new_verification_code
from pledges.infrastructure.urls import external_url
from pledges.mail import queue_personal_email
from pledges.mail.discreet import subject_for
from pledges.models import (
    Commitment,
    Pledge,
    PledgeStatus,
    Publication,
    Reminders,
    Signature,
    SignatureCommitment,
    SignatureStatus,
    TokenPurpose,
    User,
    new_public_id,
)
from pledges.orgs.service import organization_id_for
from pledges.presentation.display import format_date


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
    # The language the signer read the pledge in (pledges/domain/content.py: signer_locale);
    # None: the language of the current request.
    locale: str | None = None
    # Whether the public entry shows the ally role; when the wall may show the signer;
    # neutral email subjects and sender (pledges.models.Signature).
    show_role: bool = False
    publication: Publication = Publication.NOW
    discreet_mail: bool = False
    # "Email me updates about this pledge" (pledges/updates), off unless ticked.
    wants_updates: bool = False


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

    chosen = _chosen_commitments(pledge, data.commitment_ids)
    for _ in range(2):
        values = _signature_values(pledge, data, email_key)
        signature_id = _insert_signature(values)
        if signature_id is not None:
            _insert_choices(signature_id, chosen)
            _send_confirmation(_inserted_signature(signature_id, values))
            return
        # Nothing inserted: the address had signed, or a request for it that ran at the
        # same time won (this one waited for it to commit). Either way, what is stored now
        # is sent its links again.
        existing = _signature_by_email(pledge, email_key)
        if existing is not None:
            _send_links_again(existing)
            return
        # Or, once in 2^50, the new verification code (or public id) was taken: new ones.
    raise RuntimeError("no free verification code or public id in two tries")


def sign_on_paper(
    pledge: Pledge, data: SignatureInput, *, paper_sheet_id: int, entered_by: User
) -> Signature:
    """Record a signature written on a paper sheet and entered by an organizer: confirmed
    by their act (no confirmation email), and the signer, if they gave an address, emailed
    their private link to claim it. Without an address they are counted and shown as they
    chose, and sent nothing (no reminders either).

    Raises SigningError, naming the field, for a row that breaks a rule: an address that
    already signed this pledge is refused here, not answered with the links again. The
    caller runs each row in a savepoint and commits.
    """
    if pledge.status != PledgeStatus.OPEN:
        raise SigningError(gettext("This pledge is not taking signatures."))
    check_commitments(pledge, data.commitment_ids)
    check_visibility(data.visibility, data.organization)
    email_key = None
    if data.email.strip():
        email_key = normalize_email(data.email)
        check_email_allowed(email_key)
        if _signature_by_email(pledge, email_key) is not None:
            raise SigningError(
                gettext("This email address has already signed this pledge."), field="email"
            )
    signature = _new_signature(pledge, data, email_key)
    signature.paper_sheet_id = paper_sheet_id
    if email_key is None:
        signature.email = None
        signature.reminders = Reminders.STOPPED
    db.session.add(signature)
    db.session.flush()
    transitions.confirm_by_organizer(signature, entered_by.id)
    if email_key is not None:
        _send_paper_claim(signature)
    return signature


def _send_paper_claim(signature: Signature) -> None:
    _email_signer(
        signature,
        "paper_claim",
        lambda title: gettext("Your signature on paper: %(title)s", title=title),
    )


def _email_signer(
    signature: Signature,
    template: str,
    subject: Callable[[str], str],
    *,
    confirm_link: bool = False,
) -> None:
    """Queue ``template`` to the signer, in their language, with their private-page and
    take-me-off-the-wall links, and with ``confirm_link`` a link to confirm their signature
    (``confirm_url``); ``subject(title)`` unless they asked for discreet mail."""
    purposes = [TokenPurpose.MANAGE, TokenPurpose.HIDE]
    if confirm_link:
        purposes.insert(0, TokenPurpose.CONFIRM)
    *confirm, manage, hide = issue_tokens(signature, *purposes)  # one INSERT for all
    confirm_url = external_url("signing.confirm", token=confirm[0]) if confirm else None
    with signer_language(signature.locale):
        pledge = signed_content(signature)
        # Rendered once per language, each signer's own values put in: every signing
        # email takes the same path, so a repeat costs what a new signature costs.
        queue_personal_email(
            signature.email,
            subject_for(signature, subject(pledge.title), gettext("Your link")),
            template,
            about=signature,
            values={
                "signature.full_name": signature.full_name,
                "pledge.title": pledge.title,
                "signed_on": format_date(signature.signed_at),
                "manage_url": external_url("me.manage", token=manage),
                "hide_url": external_url("me.hide", token=hide),
                "confirm_url": confirm_url,
            },
        )


def _signature_by_email(pledge: Pledge, email_key: str) -> Signature | None:
    return db.session.scalar(
        select(Signature).where(
            Signature.pledge_id == pledge.id, Signature.email_normalized == email_key
        )
    )


def _new_signature(pledge: Pledge, data: SignatureInput, email_key: str | None) -> Signature:
    signature = Signature(**_signature_values(pledge, data, email_key))
    signature.chosen = [c.choose() for c in _chosen_commitments(pledge, data.commitment_ids)]
    return signature


def _signature_values(
    pledge: Pledge, data: SignatureInput, email_key: str | None
) -> dict[str, Any]:
    """Every column of a new signature but its id: as the signer chose, pending, with fresh
    codes. All of them, defaults too, so that ``_inserted_signature`` knows the whole row."""
    return {
        "pledge_id": pledge.id,
        "full_name": data.name,
        "email": data.email.strip(),
        "email_normalized": email_key,
        "country": data.country,
        "role": data.role,
        "organization_name": data.organization.strip(),
        "organization_id": organization_id_for(data.organization),
        "visibility": data.visibility,
        "public_id": new_public_id(),
        "show_role": bool(data.show_role),
        "publication": Publication(data.publication),
        "public_since": None,
        "self_hidden": False,
        "appearance_reset_at": None,
        "discreet_mail": bool(data.discreet_mail),
        "wants_updates": bool(data.wants_updates),
        "personal_note": data.personal_note,
        "status": SignatureStatus.PENDING,
        "verification_code": new_verification_code(),
        "signed_at": utcnow(),
        "confirmed_at": None,
        "withdrawn_at": None,
        "ip_hash": hash_ip(data.ip_address),
        "reminders": Reminders.ON,
        "next_checkin_at": None,
        "last_reminded_cycle": 0,
        "renewed_for_cycle": None,
        "active_until": None,
        "reviewed_at": None,
        "reviewed_by_id": None,
        "hidden_reason": "",
        "locale": data.locale or str(get_locale() or "en"),
        "paper_sheet_id": None,
    }


def _chosen_commitments(pledge: Pledge, commitment_ids: tuple[int, ...]) -> list[Commitment]:
    by_id = {c.id: c for c in pledge.offered_commitments}
    # A commitment sent twice is one choice (dict keys keep the order they came in).
    return [by_id[cid] for cid in dict.fromkeys(commitment_ids)]


def _insert_signature(values: dict[str, Any]) -> int | None:
    """One INSERT of a new signature; its id, or None where the address (or, rarely, a
    code) is taken. No look-up before it and no savepoint around it, which together cost
    more than the INSERT: a conflict is skipped by the statement itself."""
    return insert_unless_conflicting(db.session, Signature.__table__, values)


def _insert_choices(signature_id: int, commitments: list[Commitment]) -> None:
    """The signer's choices, in one INSERT, outside the unit of work (whose flush cost
    several times the statement)."""
    db.session.execute(
        SignatureCommitment.__table__.insert(),
        [
            {"signature_id": signature_id, "commitment_id": c.commitment_id, "version": c.version}
            for c in (commitment.choose() for commitment in commitments)
        ],
    )


def _inserted_signature(signature_id: int, values: dict[str, Any]) -> Signature:
    """The signature just inserted with ``values``, in the session as if loaded from its
    row, for the email's templates, without reading the row back. Its relationships
    (``chosen``, ``pledge``) load when first read, from what is stored."""
    signature = Signature(id=signature_id, **values)
    make_transient_to_detached(signature)
    db.session.add(signature)
    return signature


def _send_confirmation(signature: Signature) -> None:
    _email_signer(
        signature,
        "confirm",
        lambda title: gettext("Please confirm your signature: %(title)s", title=title),
        confirm_link=True,
    )


def _send_links_again(signature: Signature) -> None:
    _email_signer(
        signature,
        "already_signed",
        lambda title: gettext("You have already signed: %(title)s", title=title),
        confirm_link=signature.status == SignatureStatus.PENDING,
    )


def confirm(signature: Signature) -> bool:
    """Confirm a pending signature. True if this call confirmed it; repeating is harmless.

    On a pre-moderated pledge the signature is held (not shown, not counted) until a
    moderator approves it (moderation.service.approve). The conditional UPDATE in
    ``transitions.confirm`` makes two simultaneous confirmations count once.
    """
    return transitions.confirm(signature)
