""" "Lost your link?": a signer types their email and receives their private links again.

The answer on screen is the same whether or not the address signed anything, and so is
the work done (as the organizers' password reset does it, pledges/accounts/service.py):
for an unknown address a stand-in message is rendered and written, then rolled back to a
savepoint. Rate limited per client address and per email address (LOST_LINK_LIMIT_*), so
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

from pledges.domain.content import pledge_content, signed_content
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
from pledges.infrastructure.security import new_token
from pledges.infrastructure.urls import external_url
from pledges.mail import queue_email
from pledges.models import EMAIL_MAX, Pledge, Signature, SignatureStatus, TokenPurpose


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
    one not yet confirmed, a confirmation link); say nothing either way."""
    signatures = signatures_for_address(address)
    for signature in signatures:
        _queue_links(signature)
    if not signatures:
        # The same lookup was made; now the same rendering and writing, then undone.
        with db.session.begin_nested() as savepoint:
            _queue_stand_in(address)
            db.session.flush()
            savepoint.rollback()


def _queue_links(signature: Signature) -> None:
    manage_url = external_url("me.manage", token=issue_private_link_token(signature))
    confirm_url = None
    if signature.status == SignatureStatus.PENDING:
        confirm_url = external_url(
            "signing.confirm", token=issue_token(signature, TokenPurpose.CONFIRM)
        )
    with signer_language(signature.locale):
        pledge = signed_content(signature)
        queue_email(
            signature.email,
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


def _queue_stand_in(address: str) -> None:
    """What ``_queue_links`` does for one signature, for none: a pledge loaded and its
    words read as a signer's would be, a link made, a message rendered and written."""
    token, _hash = new_token()
    pledge = db.session.scalar(select(Pledge).order_by(Pledge.id).limit(1))
    title = pledge_content(pledge).title if pledge else gettext("Joining Forces")
    queue_email(
        address,
        gettext("Your private link: %(title)s", title=title),
        "lost_link",
        name=address,
        title=title,
        signed_at=None,
        manage_url=external_url("me.manage", token=token),
        confirm_url=None,
    )
