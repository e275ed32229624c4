from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext

from pledges.actions import service
from pledges.actions.forms import ActionForm
from pledges.actions.service import ActionInput
from pledges.domain.signers import private_page_signature_or_404
from pledges.extensions import db
from pledges.forms import ButtonForm
from pledges.infrastructure.abuse import limit_action_posts
from pledges.models import Signature, SignatureStatus
from pledges.views import commit_or_show_error, flash_in_section

bp = Blueprint("actions", __name__)
# Signers and their partners may be read over the shoulder: every page here offers
# "Leave this page quickly" (templates/base.html).
bp.context_processor(lambda: {"quick_exit": True})


@bp.route("/me/<token>/actions/new", methods=["GET", "POST"])
@limit_action_posts
def new(token: str):
    signature = _confirmed_signature_or_403(token)
    form = ActionForm(service.commitments_for(signature))
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.log_action(signature, _action_input(form))
        if outcome.committed:
            flash_in_section(gettext("Action logged. Thank you for following through."), "actions")
            return redirect(url_for("me.manage", token=token) + "#actions")
    return _render_form(token, signature, form, action=None)


@bp.route("/me/<token>/actions/<int:action_id>/edit", methods=["GET", "POST"])
@limit_action_posts
def edit(token: str, action_id: int):
    signature = _confirmed_signature_or_403(token)
    action = service.action_of(signature, action_id) or abort(404)
    form = ActionForm(service.commitments_for(signature, action), obj=action)
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.update_action(signature, action, _action_input(form))
        if outcome.committed:
            flash_in_section(gettext("Action updated."), "actions")
            return redirect(url_for("me.manage", token=token) + "#actions")
    return _render_form(token, signature, form, action=action)


@bp.post("/me/<token>/actions/<int:action_id>/delete")
@limit_action_posts
def delete(token: str, action_id: int):
    signature = private_page_signature_or_404(token)
    action = service.action_of(signature, action_id) or abort(404)
    if not ButtonForm().validate_on_submit():
        abort(
            400,
            description=gettext("This delete button has expired; reload your page and try again."),
        )
    service.delete_action(signature, action)
    db.session.commit()
    flash_in_section(gettext("Action deleted."), "actions")
    return redirect(url_for("me.manage", token=token) + "#actions")


def _confirmed_signature_or_403(token: str) -> Signature:
    signature = private_page_signature_or_404(token)
    if signature.status != SignatureStatus.CONFIRMED:
        abort(403, description=gettext("Only a confirmed signature can log actions."))
    return signature


def _action_input(form: ActionForm) -> ActionInput:
    return ActionInput(
        commitment_id=form.commitment_id.data,
        kind=form.kind.data,
        done_on=form.done_on.data,
        description=form.description.data,
        people_reached=form.people_reached.data,
        evidence_url=form.evidence_url.data,
        visibility=form.visibility.data,
    )


def _render_form(token: str, signature: Signature, form: ActionForm, action):
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(
        "actions/form.html", token=token, signature=signature, form=form, action=action
    ), status
