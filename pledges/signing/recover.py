""" "Lost your link?": a signer types their email and receives their private links again.

The answer on screen is the same whether or not the address signed anything, and so is
the work done (as the organizers' password reset does it, pledges/accounts/service.py):
for an unknown address another signature's links and message are made, then rolled back
to a savepoint. Rate limited per client address and per email address (LOST_LINK_LIMIT_*), so
it can neither flood an inbox nor be used to test addresses quickly.
"""

from __future__ import annotations

import hashlib

from flask import request
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from pledges.domain.content import signed_content
from pledges.domain.signers import (
    SigningError,
    issue_private_link_token,
    issue_token,
    normalize_email,
)
from pledges.extensions import db, limiter
from pledges.forms import no_control_characters, strip
from pledges.infrastructure.abuse import configured
from pledges.infrastructure.i18n import signer_language
from pledges.infrastructure.urls import external_url
from pledges.mail import queue_email
from pledges.models import EMAIL_MAX, Signature, SignatureStatus, TokenPurpose


class LostLinkForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Your email address"),
        description=lazy_gettext("The address you signed with."),
        filters=[strip],
        validators=[
            DataRequired(lazy_gettext("Enter the email address you signed with.")),
            Length(max=EMAIL_MAX),
            no_control_characters,
        ],
        render_kw={"autocomplete": "email"},
    )


def _address_key(address: str) -> str:
    """The form an address is looked up and counted under (Gmail dots, +tags folded)."""
    try:
        return normalize_email(address)
    except SigningError:
        return address.strip().casefold()


def _submitted_address_key() -> str:
    """Key for the per-address limit: a hash, so the limiter's storage holds no address."""
    key = _address_key(request.form.get("email") or "")
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def limit_lost_links(view):
    """Per client address, and per email address typed (whoever asks, from wherever)."""
    view = limiter.limit(
        configured("LOST_LINK_LIMIT_PER_IP"), methods=["POST"], scope="lost-link-ip"
    )(view)
    return limiter.limit(
        configured("LOST_LINK_LIMIT_PER_ADDRESS"),
        methods=["POST"],
        key_func=_submitted_address_key,
        scope="lost-link-address",
    )(view)


def signatures_for_address(address: str) -> list[Signature]:
    """Every signature that stands (withdrawn ones have no address left) made with it."""
    return list(
        db.session.scalars(
            select(Signature)
            .where(
                Signature.email_normalized == _address_key(address),
                Signature.status != SignatureStatus.WITHDRAWN,
            )
            .order_by(Signature.signed_at)
        )
    )


def send_private_links(address: str) -> None:
    """Email a fresh private-page link for each pledge signed with ``address`` (and, for
    one not yet confirmed, a confirmation link); say nothing either way.

    Known or not, the request does the same work, so its time does not tell who signed:
    for an address that signed nothing, another signature's links are made and its email
    rendered and written (addressed to the address typed), then rolled back to a
    savepoint. Any lighter stand-in (no token row, no signer's own pledge text) was
    measurably faster, and a stranger timing the answer learned the address had signed.
    """
    signatures = signatures_for_address(address)
    known = bool(signatures)
    with db.session.begin_nested() as savepoint:
        for signature in signatures or _stand_in():
            _queue_links(signature, to=None if known else address)
        if not known:
            savepoint.rollback()


def _stand_in() -> list[Signature]:
    """The signature whose work stands in for an unknown address's; none when nobody has
    signed yet, when every address is unknown and the time has nothing to tell."""
    return list(
        db.session.scalars(
            select(Signature)
            .where(Signature.status != SignatureStatus.WITHDRAWN)
            .order_by(Signature.id)
            .limit(1)
        )
    )


def _queue_links(signature: Signature, to: str | None = None) -> None:
    """Queue ``signature``'s private links to its signer (or, for the stand-in, to ``to``)."""
    manage_url = external_url("me.manage", token=issue_private_link_token(signature))
    confirm_url = None
    if signature.status == SignatureStatus.PENDING:
        confirm_url = external_url(
            "signing.confirm", token=issue_token(signature, TokenPurpose.CONFIRM)
        )
    with signer_language(signature.locale):
        pledge = signed_content(signature)
        queue_email(
            to or signature.email,
            gettext("Your private link: %(title)s", title=pledge.title),
            "lost_link",
            about=signature,
            name=signature.full_name,
            title=pledge.title,
            signed_at=signature.signed_at,
            manage_url=manage_url,
            confirm_url=confirm_url,
        )
    db.session.flush()
