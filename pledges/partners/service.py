"""The rules of accountability partners: inviting, answering the invitation, reviewing.

A signer invites up to ``MAX_PARTNERS`` people. Each gets a private link; after accepting
the role, a partner confirms the signer's actions or queries them with a comment the
signer answers. Reviewing needs an explicit "yes": an invited partner who has not accepted
can read the actions but not confirm or query them, and a partner who declined sees nothing.
"""

from __future__ import annotations

from flask import abort
from flask_babel import gettext
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from pledges.domain import transitions
from pledges.domain.content import signed_content
from pledges.domain.rules import RuleError
from pledges.domain.signers import (
    SigningError,
    issue_hide_token,
    issue_private_link_token,
    normalize_email,
)
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.i18n import signer_language
from pledges.infrastructure.security import hash_token, new_token
from pledges.infrastructure.urls import external_url
from pledges.mail import queue_email
from pledges.mail.discreet import subject_for
from pledges.models import (
    MAX_PARTNERS,
    Action,
    ActionComment,
    ActionVisibility,
    Partner,
    PartnerStatus,
    ReviewState,
    Signature,
    SignatureStatus,
)

# Partners who hold a place: a declined invitation frees it.
HOLDING_A_PLACE = (PartnerStatus.INVITED, PartnerStatus.ACTIVE)


class PartnerError(RuleError):
    """A partner rule was broken."""


class RoleError(PartnerError):
    """The partner's role does not allow this: not accepted yet, or declined."""


# The signer's side.


def check_may_invite(signature: Signature) -> None:
    if signature.status == SignatureStatus.PENDING:
        raise PartnerError(
            gettext("Confirm your signature first: then you can invite accountability partners.")
        )
    if signature.status != SignatureStatus.CONFIRMED:
        raise PartnerError(
            gettext("Only a confirmed signature can invite accountability partners.")
        )


def invite(signature: Signature, name: str, email: str) -> Partner:
    """Add a partner and email them their private link; the caller commits."""
    check_may_invite(signature)
    try:
        email_key = normalize_email(email)
    except SigningError as exc:
        raise PartnerError(exc.message, field="email") from exc
    if email_key == signature.email_normalized:
        raise PartnerError(
            gettext(
                "That is your own address: invite someone who can look at your actions with you."
            ),
            field="email",
        )
    # Lock the signer's row: two invitations sent at once cannot both take the last place.
    db.session.refresh(signature, with_for_update=True)
    if any(p.email_normalized == email_key for p in signature.partners):
        raise PartnerError(_already_invited(signature, email_key), field="email")
    if sum(p.status in HOLDING_A_PLACE for p in signature.partners) >= MAX_PARTNERS:
        raise PartnerError(
            gettext(
                "You already have %(max)s accountability partners. "
                "Remove one to invite someone else.",
                max=MAX_PARTNERS,
            )
        )
    token, token_hash = new_token()
    partner = Partner(
        name=name,
        email=email.strip(),
        email_normalized=email_key,
        token_hash=token_hash,
        status=PartnerStatus.INVITED,
        invited_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            signature.partners.append(partner)
    except IntegrityError as exc:
        # Lost a race with the same invitation sent twice at once.
        raise PartnerError(
            gettext("You have already invited this address."), field="email"
        ) from exc
    # In the signer's language, as all the mail about this partnership is.
    with signer_language(signature.locale):
        queue_email(
            partner.email,
            subject_for(
                signature,
                gettext(
                    "%(name)s asks you to be their accountability partner",
                    name=signature.full_name,
                ),
                gettext("A message from %(name)s", name=signature.full_name),
            ),
            "partner_invite",
            about=signature,
            partner=partner,
            signature=signature,
            pledge=signed_content(signature),
            partner_url=external_url("partners.page", token=token),
            max_partners=MAX_PARTNERS,
        )
    return partner


def _already_invited(signature: Signature, email_key: str) -> str:
    declined = any(
        p.email_normalized == email_key and p.status == PartnerStatus.DECLINED
        for p in signature.partners
    )
    if declined:
        return gettext("This person declined to be your partner.")
    return gettext("You have already invited this address.")


def partner_of(signature: Signature, partner_id: int) -> Partner | None:
    """The signer's own partner with this id; someone else's is as good as missing."""
    return db.session.scalar(
        select(Partner).where(Partner.id == partner_id, Partner.signature_id == signature.id)
    )


def remove(signature: Signature, partner: Partner) -> None:
    """Stop working with a partner: their link stops working and their details are deleted.

    Actions they confirmed stay confirmed, no longer by anyone named. Their comments go with
    them, so an action they queried is unreviewed again.
    """
    wall_changed = False
    for action in signature.actions:
        if action.reviewed_by_id != partner.id:
            continue
        if action.review_state == ReviewState.QUERIED:
            action.review_state = ReviewState.UNREVIEWED
            action.reviewed_at = None
        elif action.visibility == ActionVisibility.PUBLIC:
            wall_changed = True
        action.reviewed_by = None
    signature.partners.remove(partner)
    if wall_changed:
        transitions.wall_content_changed(signature.pledge_id)


def reply(signature: Signature, action: Action, body: str) -> ActionComment:
    """The signer answers a partner on one of their own actions."""
    if action.signature_id != signature.id:
        raise PartnerError(gettext("This is not one of your actions."))
    if not any(comment.partner_id is not None for comment in action.comments):
        raise PartnerError(gettext("No partner has asked about this action yet."), field="body")
    comment = ActionComment(partner_id=None, body=body, created_at=utcnow())
    action.comments.append(comment)
    _tell_partners_of_the_answer(signature, action, comment)
    return comment


def _tell_partners_of_the_answer(
    signature: Signature, action: Action, answer: ActionComment
) -> None:
    """Email each active partner who asked about ``action`` that the signer answered.

    The email quotes the answer but carries no link: a partner's link is kept only as a
    hash, and a new one would break the link in their invitation. In the signer's language,
    as the invitation was.
    """
    asked = {c.partner_id: c.partner for c in action.comments if c.partner is not None}
    with signer_language(signature.locale):
        pledge = signed_content(signature)
        for partner in asked.values():
            if partner.status != PartnerStatus.ACTIVE:
                continue
            queue_email(
                partner.email,
                gettext("%(name)s answered your question", name=signature.full_name),
                "partner_answer",
                about=signature,
                partner=partner,
                signature=signature,
                pledge=pledge,
                action=action,
                answer=answer,
            )


def signer_withdrawing(signature: Signature) -> None:
    """Tell the partners a signer is withdrawing, then delete them; before the erasure.

    The email does not name the signer: their name is being erased. Partners' names and
    addresses were held only for this signer, so they go too.
    """
    with signer_language(signature.locale):
        pledge = signed_content(signature)
        for partner in signature.partners:
            if partner.status in HOLDING_A_PLACE:
                queue_email(
                    partner.email,
                    gettext("An accountability partnership has ended"),
                    "partner_withdrawn",
                    about=None,
                    partner=partner,
                    pledge=pledge,
                )
    signature.partners.clear()


# The partner's side.


def partner_for_token(token: str) -> Partner | None:
    return db.session.scalar(
        select(Partner)
        .join(Partner.signature)
        .where(
            Partner.token_hash == hash_token(token),
            Signature.status != SignatureStatus.WITHDRAWN,
        )
    )


def partner_for_token_or_404(token: str) -> Partner:
    partner = partner_for_token(token)
    if partner is None:
        abort(404)
    return partner


def actions_to_review(partner: Partner) -> list[Action]:
    """All the signer's actions, public and private, newest first, with their threads."""
    return list(
        db.session.scalars(
            select(Action)
            .where(Action.signature_id == partner.signature_id)
            .options(
                joinedload(Action.commitment),
                joinedload(Action.reviewed_by),
                selectinload(Action.comments),
            )
            .order_by(Action.done_on.desc(), Action.id.desc())
        ).unique()
    )


def action_for(partner: Partner, action_id: int) -> Action | None:
    """An action of the signer this partner reviews; anyone else's is as good as missing."""
    return db.session.scalar(
        select(Action).where(Action.id == action_id, Action.signature_id == partner.signature_id)
    )


def accept(partner: Partner, show_name: bool) -> None:
    _lock(partner)
    if partner.status == PartnerStatus.DECLINED:
        raise RoleError(gettext("You declined this role, so there is nothing more to do here."))
    if partner.status == PartnerStatus.INVITED:
        partner.status = PartnerStatus.ACTIVE
        partner.responded_at = utcnow()
    _set_show_name(partner, show_name)


def decline(partner: Partner) -> None:
    """Decline the role, or step down from it. Past confirmations stand, unnamed."""
    _lock(partner)
    if partner.status == PartnerStatus.DECLINED:
        return
    partner.status = PartnerStatus.DECLINED
    partner.responded_at = utcnow()
    _set_show_name(partner, False)


def change_show_name(partner: Partner, show_name: bool) -> None:
    _lock(partner)
    check_may_review(partner)
    _set_show_name(partner, show_name)


def _set_show_name(partner: Partner, show_name: bool) -> None:
    if partner.show_name == show_name:
        return
    partner.show_name = show_name
    if _confirmed_public_actions(partner):
        transitions.wall_content_changed(partner.signature.pledge_id)


def _confirmed_public_actions(partner: Partner) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Action.reviewed_by_id == partner.id,
                    Action.review_state == ReviewState.CONFIRMED,
                    Action.visibility == ActionVisibility.PUBLIC,
                )
            )
        )
    )


def check_may_review(partner: Partner) -> None:
    if partner.status == PartnerStatus.DECLINED:
        raise RoleError(
            gettext("You declined this role, so you can no longer confirm or query actions.")
        )
    if partner.status != PartnerStatus.ACTIVE:
        raise RoleError(gettext("Accept the role first: then you can confirm or query actions."))


def confirm_action(partner: Partner, action: Action) -> None:
    """Confirm an action; confirming one already confirmed changes nothing."""
    check_may_review(partner)
    _lock(action)
    if action.review_state == ReviewState.CONFIRMED:
        return
    transitions.review_action(action, partner, ReviewState.CONFIRMED)


def query_action(partner: Partner, action: Action, body: str) -> ActionComment:
    """Ask about an action; the signer is emailed a link to answer on their page."""
    check_may_review(partner)
    _lock(action)
    comment = ActionComment(partner=partner, body=body, created_at=utcnow())
    action.comments.append(comment)
    transitions.review_action(action, partner, ReviewState.QUERIED)
    signature = partner.signature
    # A link of its own: rotating the reminder link would break the last check-in email.
    token = issue_private_link_token(signature)
    # Asked in the partner's language; read in the signer's.
    with signer_language(signature.locale):
        queue_email(
            signature.email,
            subject_for(
                signature,
                gettext("%(name)s has a question about one of your actions", name=partner.name),
                gettext("A new message"),
            ),
            "partner_query",
            about=signature,
            partner=partner,
            signature=signature,
            pledge=signed_content(signature),
            action=action,
            comment=comment,
            manage_url=external_url("me.manage", token=token),
            hide_url=external_url("me.hide", token=issue_hide_token(signature)),
        )
    return comment


def _lock(row: Partner | Action) -> None:
    """Read the row again under a lock, so two requests at once change it one after the other."""
    db.session.refresh(row, with_for_update=True)
