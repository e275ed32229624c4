from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext

from pledges.actions.service import action_of
from pledges.domain.signers import private_page_signature_or_404
from pledges.extensions import db
from pledges.forms import ButtonForm
from pledges.infrastructure.database import utcnow
from pledges.models import Action, Partner, Signature
from pledges.partners import service
from pledges.partners.forms import (
    InviteForm,
    QueryForm,
    ReplyForm,
    ShowNameForm,
)
from pledges.partners.service import PartnerError, RoleError
from pledges.views import commit_or_show_error, flash_in_section

bp = Blueprint("partners", __name__)
# Signers and their partners may be read over the shoulder: every page here offers
# "Leave this page quickly" (templates/base.html).
bp.context_processor(lambda: {"quick_exit": True})

EXPIRED = lazy_gettext("This button has expired; reload the page and try again.")


# The signer's side, from their private page.


@bp.route("/me/<token>/partners", methods=["GET", "POST"])
def invite(token: str):
    signature = private_page_signature_or_404(token)
    try:
        service.check_may_invite(signature)
    except PartnerError as exc:
        abort(403, description=exc.message)
    form = InviteForm(prefix="pt")
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            partner = service.invite(signature, form.name.data, form.email.data)
            name = partner.name
        if outcome.committed:
            flash_in_section(gettext("Invitation sent to %(name)s.", name=name), "partners")
            return redirect(url_for("me.manage", token=token) + "#partners")
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(
        "partners/invite.html",
        token=token,
        signature=signature,
        form=form,
        remove_form=ButtonForm(),
    ), status


@bp.post("/me/<token>/partners/<int:partner_id>/remove")
def remove(token: str, partner_id: int):
    signature = private_page_signature_or_404(token)
    partner = service.partner_of(signature, partner_id) or abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400, description=EXPIRED)
    name = partner.name
    service.remove(signature, partner)
    db.session.commit()
    flash_in_section(
        gettext("%(name)s is no longer your accountability partner.", name=name), "partners"
    )
    return redirect(url_for("me.manage", token=token) + "#partners")


@bp.route("/me/<token>/actions/<int:action_id>/comments", methods=["GET", "POST"])
def reply(token: str, action_id: int):
    signature = private_page_signature_or_404(token)
    action = action_of(signature, action_id) or abort(404)
    form = ReplyForm(prefix=f"r{action.id}")
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.reply(signature, action, form.body.data)
        if outcome.committed:
            flash_in_section(
                gettext(
                    "Your answer is posted: your partners see it on their page, and those who "
                    "asked are told by email."
                ),
                f"action-{action_id}",
            )
            return redirect(url_for("me.manage", token=token) + f"#action-{action_id}")
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(
        "partners/reply.html", token=token, signature=signature, action=action, form=form
    ), status


# The partner's side, from the link in their invitation.


@bp.get("/partner/<token>")
def page(token: str):
    return render_partner_page(token, service.partner_for_token_or_404(token))


@bp.post("/partner/<token>/accept")
def accept(token: str):
    partner = service.partner_for_token_or_404(token)
    form = ShowNameForm(prefix="acc")
    if not form.validate_on_submit():
        abort(400, description=EXPIRED)
    try:
        service.accept(partner, form.show_name.data)
    except RoleError as exc:
        abort(403, description=exc.message)
    db.session.commit()
    flash(
        gettext("Thank you for accepting. You can now confirm or query the actions below."),
        "success",
    )
    return redirect(url_for("partners.page", token=token))


@bp.post("/partner/<token>/decline")
def decline(token: str):
    partner = service.partner_for_token_or_404(token)
    if not ButtonForm(prefix="dec").validate_on_submit():
        abort(400, description=EXPIRED)
    service.decline(partner)
    db.session.commit()
    flash(gettext("You have declined. We will not write to you about this again."), "success")
    return redirect(url_for("partners.page", token=token))


@bp.post("/partner/<token>/name")
def show_name(token: str):
    partner = service.partner_for_token_or_404(token)
    form = ShowNameForm(prefix="nm")
    if not form.validate_on_submit():
        abort(400, description=EXPIRED)
    try:
        service.change_show_name(partner, form.show_name.data)
    except RoleError as exc:
        abort(403, description=exc.message)
    db.session.commit()
    if form.show_name.data:
        flash(gettext("Saved: your name is shown next to the actions you confirm."), "success")
    else:
        flash(gettext("Saved: you appear only as “an accountability partner”."), "success")
    return redirect(url_for("partners.page", token=token))


@bp.post("/partner/<token>/actions/<int:action_id>/confirm")
def confirm(token: str, action_id: int):
    partner, action = _reviewer_and_action_or_error(token, action_id)
    if not ButtonForm().validate_on_submit():
        abort(400, description=EXPIRED)
    service.confirm_action(partner, action)
    db.session.commit()
    flash(gettext("Confirmed. Thank you for keeping this commitment honest."), "success")
    return redirect(url_for("partners.page", token=token) + f"#action-{action_id}")


@bp.post("/partner/<token>/actions/<int:action_id>/query")
def query(token: str, action_id: int):
    partner, action = _reviewer_and_action_or_error(token, action_id)
    form = QueryForm(prefix=f"q{action_id}")
    if form.validate_on_submit():
        service.query_action(partner, action, form.body.data)
        db.session.commit()
        flash(gettext("Sent. We emailed your question; the answer will appear here."), "success")
        return redirect(url_for("partners.page", token=token) + f"#action-{action_id}")
    return render_partner_page(token, partner, query_forms={action_id: form}, status=400)


def _reviewer_and_action_or_error(token: str, action_id: int) -> tuple[Partner, Action]:
    partner = service.partner_for_token_or_404(token)
    action = service.action_for(partner, action_id) or abort(404)
    try:
        service.check_may_review(partner)
    except RoleError as exc:
        abort(403, description=exc.message)
    return partner, action


def render_partner_page(token: str, partner: Partner, query_forms=None, status: int = 200):
    """The partner's page; a query form passed in (with its errors) replaces the blank one."""
    signature: Signature = partner.signature
    actions = service.actions_to_review(partner)
    forms = {action.id: QueryForm(prefix=f"q{action.id}") for action in actions}
    forms.update(query_forms or {})
    return render_template(
        "partners/page.html",
        token=token,
        partner=partner,
        signature=signature,
        pledge=signature.pledge,
        commitments=signature.chosen_commitments,
        actions=actions,
        # A signer off the wall (self-hidden, not yet published, or never) has no public
        # actions either: the page must not tell the partner otherwise.
        signer_shown=signature.is_shown_publicly(utcnow()),
        accept_form=ShowNameForm(formdata=None, prefix="acc"),
        name_form=ShowNameForm(formdata=None, prefix="nm", data={"show_name": partner.show_name}),
        decline_form=ButtonForm(formdata=None, prefix="dec"),
        confirm_form=ButtonForm(),
        query_forms=forms,
    ), status
