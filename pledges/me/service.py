"""The signer's private page: how the wall shows them, withdrawing, their data."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from pledges.actions.service import forget_actions
from pledges.domain import transitions
from pledges.domain.signers import SigningError, check_visibility
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.urls import external_url
from pledges.models import (
    OutboxEmail,
    SessionAttendance,
    SessionRsvp,
    Signature,
    SignatureStatus,
)
from pledges.orgs.service import organization_id_for
from pledges.partners import service as partners_service


def _check_not_withdrawn(signature: Signature) -> None:
    if signature.status == SignatureStatus.WITHDRAWN:
        raise SigningError(gettext("This signature was withdrawn."))


def change_visibility(
    signature: Signature, visibility: str, organization: str, show_role: bool | None = None
) -> None:
    """``show_role`` None: as it was."""
    _check_not_withdrawn(signature)
    check_visibility(visibility, organization)
    organization = organization.strip()
    transitions.change_visibility(
        signature, visibility, organization, organization_id_for(organization), show_role
    )


def set_publication(signature: Signature, publication: str) -> None:
    _check_not_withdrawn(signature)
    transitions.set_publication(signature, publication)


def self_hide(signature: Signature) -> None:
    """Off every public surface at once; still counted. Only ``self_unhide`` undoes it."""
    _check_not_withdrawn(signature)
    transitions.self_hide(signature)


def self_unhide(signature: Signature) -> None:
    _check_not_withdrawn(signature)
    transitions.self_unhide(signature)


def set_discreet_mail(signature: Signature, discreet: bool) -> None:
    _check_not_withdrawn(signature)
    signature.discreet_mail = discreet


def withdraw(signature: Signature) -> None:
    """Withdraw and erase what identifies the signer, in this transaction.

    The one door (``transitions.withdraw``) takes the signature out of the counts and
    erases its details, the mail, reports, audit text and dossiers about it; then its
    actions are deleted and its partners told and deleted. Country and ally role stay, as
    anonymous figures.
    """
    if signature.status == SignatureStatus.WITHDRAWN:
        return
    # First, while the status still says whether its actions are in the figures.
    transitions.withdraw(signature)
    # Before the partners go: the database deletes their comments with them, under the
    # ORM's feet.
    forget_actions(signature)
    partners_service.signer_withdrawing(signature)


def personal_data(signature: Signature) -> dict:
    """Everything held about a signer, for them to download."""

    def iso(value):
        return value.isoformat() if value else None

    mail = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.signature_id == signature.id).order_by(OutboxEmail.id)
    )
    signed_words = {row.commitment_id: row.text for row in signature.chosen}
    rsvps = db.session.scalars(
        select(SessionRsvp).where(SessionRsvp.signature_id == signature.id)
    ).all()
    attended = db.session.scalars(
        select(SessionAttendance).where(SessionAttendance.signature_id == signature.id)
    ).all()
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
            "show_role": signature.show_role,
            "publication": signature.publication,
            "shown_publicly_from": iso(signature.public_since),
            "off_the_wall_by_choice": signature.self_hidden,
            "discreet_mail": signature.discreet_mail,
            "update_emails": signature.wants_updates,
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
        "dialogue_sessions": {
            "answers": [
                {
                    "session": rsvp.session.title,
                    "starts_at": iso(rsvp.session.starts_at),
                    "answer": rsvp.answer,
                    "answered_at": iso(rsvp.answered_at),
                }
                for rsvp in rsvps
            ],
            "attended": [
                {"session": row.session.title, "starts_at": iso(row.session.starts_at)}
                for row in attended
            ],
        },
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
                "email": message.template,
                # Once sent, only a masked address stays, and no subject or text.
                "to": message.to_address,
                "subject": message.subject,
                "queued_at": iso(message.created_at),
                "sent_at": iso(message.sent_at),
                "status": message.status,
            }
            for message in mail
        ],
        "kept_elsewhere": (
            "Link tokens are kept only as one-way hashes. An email to you is kept encrypted "
            "until it is sent; then only the kind of email, a masked address and its dates "
            f"stay, for {current_app.config['OUTBOX_RETENTION_DAYS']} days. If people "
            "reported your entry, or moderators acted on it, the pledge's moderators keep "
            "those reports and a log of what they did and why. When you withdraw, all of "
            "the above is erased, except the bare record that a moderation act took place. "
            "Nothing else about you is held."
        ),
    }
