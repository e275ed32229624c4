"""Issue a signer's signed pledge PDF (recording its hash), and check a code or a copy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pledges.domain.content import signed_content
from pledges.domain.rules import RuleError
from pledges.domain.signers import signed_pledge_refusal
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.i18n import signer_language
from pledges.infrastructure.security import normalize_verification_code, sha256_hex
from pledges.infrastructure.urls import external_url
from pledges.models import (
    ActionVisibility,
    DocumentVariant,
    IssuedDocument,
    Signature,
    SignatureStatus,
)
from pledges.presentation.pdf import qr_code_svg, render_pdf

SIGNED_PLEDGE_TEMPLATE = "pdf/signed_pledge.html"


class DocumentError(RuleError):
    """No signed pledge can be issued for this signature."""


def check_can_issue(signature: Signature) -> None:
    """Raise DocumentError, with the reason for the signer, unless a signed pledge may be
    issued for ``signature``."""
    refusal = signed_pledge_refusal(signature)
    if refusal is not None:
        raise DocumentError(refusal)


def signed_pledge_context(
    signature: Signature, issued_at: datetime, with_private_actions: bool = False
) -> dict:
    """What the print template needs, for the PDF and its HTML preview alike.

    The document is made to be shared: private actions stay out, as the action form
    promises ("only you and your partners"), unless the signer asks for them in their own
    copy (``with_private_actions``); an organizer's copy never has them. Either
    prints only the newest PDF_MAX_ACTIONS (newest first) and counts the earlier ones, so
    a long log cannot make a document of a hundred pages and seconds of CPU.
    """
    verify_url = external_url("verify.verify", code=signature.verification_code)
    actions = [
        action
        for action in signature.actions  # newest first
        if with_private_actions or action.visibility != ActionVisibility.PRIVATE
    ]
    shown = current_app.config["PDF_MAX_ACTIONS"]
    return {
        "signature": signature,
        "actions": actions[:shown],
        "earlier_actions": len(actions[shown:]),
        "private_left_out": len(actions) < len(signature.actions),
        # The pledge in the language it was signed in; the template's own words follow the
        # current language: render inside ``signer_language(signature.locale)``.
        "pledge": signed_content(signature),
        "issued_at": issued_at,
        "verify_url": verify_url,
        "qr_code": qr_code_svg(verify_url),
    }


def signed_pledge_filename(signature: Signature, variant: str = DocumentVariant.PDF) -> str:
    """ "allies-for-peace-signed-pledge-7KQ2M-X9D4P.pdf": the pledge, what it is, and the code
    that verifies it, so two signers' (or two pledges') documents never share a name."""
    suffix = "-pdfa" if variant == DocumentVariant.PDF_A_3B else ""
    return f"{signature.pledge.slug}-signed-pledge-{signature.verification_code}{suffix}.pdf"


def issue_signed_pledge(
    signature: Signature, variant: str = DocumentVariant.PDF, with_private_actions: bool = False
) -> bytes:
    """Render the signer's document and record its SHA-256; the caller commits."""
    check_can_issue(signature)
    issued_at = utcnow()
    with signer_language(signature.locale):
        context = signed_pledge_context(signature, issued_at, with_private_actions)
        pdf = render_pdf(SIGNED_PLEDGE_TEMPLATE, variant, **context)
    document = IssuedDocument(
        signature_id=signature.id,
        sha256=sha256_hex(pdf),
        variant=variant,
        issued_at=issued_at,
    )
    try:
        with db.session.begin_nested():
            db.session.add(document)
    except IntegrityError:
        # Rendering is deterministic to the second: two downloads within one second are
        # the same bytes, already on record.
        pass
    return pdf


def signature_for_code(typed: str) -> Signature | None:
    """The signature a typed verification code names; never a pending one."""
    code = normalize_verification_code(typed)
    if code is None:
        return None
    return db.session.scalar(
        select(Signature).where(
            Signature.verification_code == code, Signature.status != SignatureStatus.PENDING
        )
    )


#: Issued documents listed on a verification page, newest first; the rest are counted.
#: An upload is checked against all of them.
DOCUMENTS_LISTED = 20


@dataclass(frozen=True)
class IssuedList:
    newest: list[IssuedDocument]
    total: int

    @property
    def earlier(self) -> int:
        return self.total - len(self.newest)


def issued_documents(signature: Signature, limit: int = DOCUMENTS_LISTED) -> IssuedList:
    """The newest documents issued for ``signature``, and how many there are in all."""
    where = IssuedDocument.signature_id == signature.id
    newest = db.session.scalars(
        select(IssuedDocument)
        .where(where)
        .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
        .limit(limit)
    ).all()
    total = len(newest)
    if total == limit:
        total = db.session.scalar(select(func.count()).select_from(IssuedDocument).where(where))
    return IssuedList(list(newest), total)


def find_issued(signature: Signature, stream: BinaryIO) -> IssuedDocument | None:
    """The document we issued for ``signature`` whose bytes are exactly ``stream``'s."""
    return db.session.scalar(
        select(IssuedDocument).where(
            IssuedDocument.signature_id == signature.id,
            IssuedDocument.sha256 == sha256_hex(stream),
        )
    )
