"""The signer's private page, reached by the link in their email: how the wall shows
them, their commitments for the next cycle, their signed pledge, their data, withdrawal."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from pledges.checkins import service as checkins
from pledges.checkins.forms import CommitmentsForm
from pledges.checkins.service import ending_commitments
from pledges.domain.content import pledge_content, signed_content
from pledges.domain.cycles import cycle_at, renewal_is_open, renewal_opens_at
from pledges.domain.signers import hide_link_signature_or_404, private_page_signature_or_404
from pledges.extensions import db
from pledges.forms import ButtonForm
from pledges.infrastructure.abuse import limit_pdf_rendering
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.i18n import signer_language
from pledges.me import service
from pledges.me.forms import DiscreetMailForm, PublicationForm, VisibilityForm, WithdrawForm
from pledges.models import DocumentVariant, Publication, SignatureStatus
from pledges.partners.forms import InviteForm, ReplyForm
from pledges.presentation.display import crowded_countries, public_signer
from pledges.presentation.pdf import pdf_response
from pledges.verify import service as documents
from pledges.verify.service import DocumentError
from pledges.views import commit_or_show_error, flash_in_section, messages_by_section

bp = Blueprint("me", __name__)
# Signers and their partners may be read over the shoulder: every page here offers
# "Leave this page quickly" (templates/base.html).
bp.context_processor(lambda: {"quick_exit": True})


@bp.route("/me/<token>", methods=["GET"])
def manage(token: str):
    signature = private_page_signature_or_404(token)
    return render_manage(token, signature)


@bp.route("/me/hide/<token>", methods=["GET", "POST"])
def hide(token: str):
    """The "take me off the public wall now" link of every email: opening it changes
    nothing (mail scanners open links), its one button does. No undo here: the link may be
    in someone else's hands; coming back is for the private page only."""
    signature = hide_link_signature_or_404(token)
    form = ButtonForm()
    if form.validate_on_submit() and signature.status != SignatureStatus.WITHDRAWN:
        service.self_hide(signature)
        db.session.commit()
        flash(_("Done: you are off the public wall. You still count in the total."), "success")
        return redirect(url_for("me.hide", token=token))
    return render_template(
        "me/hide.html",
        token=token,
        signature=signature,
        pledge=signed_content(signature),
        form=form,
    )


@bp.get("/me/<token>/data.json")
def personal_data(token: str):
    signature = private_page_signature_or_404(token)
    response = jsonify(service.personal_data(signature))
    filename = f"joining-forces-{signature.pledge.slug}-my-data.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/me/<token>/pledge.pdf")
@limit_pdf_rendering
def signed_pledge_pdf(token: str):
    signature = private_page_signature_or_404(token)
    variant = request.args.get("variant", DocumentVariant.PDF)
    if variant not in set(DocumentVariant):
        abort(404)
    try:
        pdf = documents.issue_signed_pledge(
            signature, variant, with_private_actions=_with_private_actions()
        )
    except DocumentError as exc:
        abort(403, description=exc.message)
    db.session.commit()
    return pdf_response(pdf, documents.signed_pledge_filename(signature, variant))


def _with_private_actions() -> bool:
    """The signer's choice on the download form: private actions go into the document only
    when asked for (it is made to be shared)."""
    return request.args.get("private_actions") == "1"


@bp.get("/me/<token>/pledge.html")
def signed_pledge_preview(token: str):
    """The signed pledge as a page: the print template, shown as the PDF would print it."""
    signature = private_page_signature_or_404(token)
    try:
        documents.check_can_issue(signature)
    except DocumentError as exc:
        abort(403, description=exc.message)
    with signer_language(signature.locale):
        return render_template(
            documents.SIGNED_PLEDGE_TEMPLATE,
            **documents.signed_pledge_context(
                signature, utcnow(), with_private_actions=_with_private_actions()
            ),
        )


@bp.post("/me/<token>/visibility")
def change_visibility(token: str):
    signature = private_page_signature_or_404(token)
    form = VisibilityForm(prefix="vis")
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.change_visibility(
                signature,
                form.visibility.data,
                form.organization.data or "",
                bool(form.show_role.data),
            )
        if outcome.committed:
            flash_in_section(_("Saved: the wall now shows you as you chose."), "public")
            return redirect(url_for("me.manage", token=token) + "#public")
    return render_manage(token, signature, visibility_form=form, status=400)


@bp.post("/me/<token>/publication")
def publication(token: str):
    signature = private_page_signature_or_404(token)
    form = PublicationForm(prefix="pub")
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.set_publication(signature, form.publication.data)
        if outcome.committed:
            flash_in_section(_("Saved: the wall shows you only from the day you chose."), "public")
            return redirect(url_for("me.manage", token=token) + "#public")
    return render_manage(token, signature, publication_form=form, status=400)


@bp.post("/me/<token>/off-the-wall")
def self_hide(token: str):
    signature = private_page_signature_or_404(token)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with commit_or_show_error(section="public") as outcome:
        service.self_hide(signature)
    if outcome.committed:
        flash_in_section(
            _("Done: you are off the public wall. You still count in the total."), "public"
        )
    return redirect(url_for("me.manage", token=token) + "#public")


@bp.post("/me/<token>/back-on-the-wall")
def self_unhide(token: str):
    """Undo the self-hide: only from the private page, never from an email's hide link."""
    signature = private_page_signature_or_404(token)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with commit_or_show_error(section="public") as outcome:
        service.self_unhide(signature)
    if outcome.committed:
        flash_in_section(_("You are back on the public wall, as you chose to appear."), "public")
    return redirect(url_for("me.manage", token=token) + "#public")


@bp.post("/me/<token>/discreet-mail")
def discreet_mail(token: str):
    signature = private_page_signature_or_404(token)
    form = DiscreetMailForm(prefix="dm")
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.set_discreet_mail(signature, bool(form.discreet_mail.data))
        if outcome.committed:
            flash_in_section(_("Saved: our emails to you follow your choice."), "public")
            return redirect(url_for("me.manage", token=token) + "#public")
    return render_manage(token, signature, status=400)


@bp.post("/me/<token>/withdraw")
def withdraw(token: str):
    signature = private_page_signature_or_404(token)
    form = WithdrawForm(prefix="wd")
    if form.validate_on_submit():
        service.withdraw(signature)
        db.session.commit()
        flash(_("Your signature is withdrawn and your personal details are deleted."), "success")
        return redirect(url_for("me.manage", token=token))
    return render_manage(token, signature, withdraw_form=form, status=400)


@bp.post("/me/<token>/commitments")
def commitments(token: str):
    """Renew: the commitments the signer holds for the next cycle."""
    signature = private_page_signature_or_404(token)
    form = CommitmentsForm(signature, prefix="cm")
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            checkins.update_commitments(signature, form.commitments.data)
        if outcome.committed:
            flash_in_section(
                _("Renewed. Your commitments for the next cycle are saved."), "commitments"
            )
            return redirect(url_for("me.manage", token=token) + "#commitments")
    return render_manage(token, signature, commitments_form=form, status=400)


def render_manage(
    token,
    signature,
    visibility_form=None,
    withdraw_form=None,
    commitments_form=None,
    publication_form=None,
    status=200,
):
    """The private page; a form passed in (with its errors) replaces the blank one."""
    if visibility_form is None:
        visibility_form = VisibilityForm(
            prefix="vis",
            data={
                "visibility": signature.visibility,
                "organization": signature.organization_name,
                "show_role": signature.show_role,
            },
        )
    if publication_form is None:
        publication_form = PublicationForm(
            prefix="pub", data={"publication": signature.publication}
        )
    ending = ending_commitments(signature) if signature.confirmed_at else {}
    confirmed = signature.status == SignatureStatus.CONFIRMED
    if commitments_form is None:
        commitments_form = CommitmentsForm(signature, prefix="cm")
        commitments_form.commitments.data = [
            c.id for c in signature.chosen_commitments if c.id not in ending
        ]
    return render_template(
        "me/manage.html",
        token=token,
        signature=signature,
        pledge=signed_content(signature),
        commitments=signature.chosen_commitments,
        ending=ending,
        cycle=cycle_at(signature) if confirmed else None,
        # Offered near the cycle's end, or at once to a signer whose renewal was refused.
        renewal_open=confirmed and (renewal_is_open(signature) or bool(commitments_form.errors)),
        renewal_opens=renewal_opens_at(signature) if confirmed else None,
        show_actions=confirmed or bool(signature.actions),
        show_partners=confirmed
        or (signature.status != SignatureStatus.WITHDRAWN and bool(signature.partners)),
        public=pledge_content(signature.pledge),
        messages=messages_by_section(),
        delete_form=ButtonForm(),
        visibility_form=visibility_form,
        publication_form=publication_form,
        discreet_form=DiscreetMailForm(
            prefix="dm", data={"discreet_mail": signature.discreet_mail}
        ),
        public_entry=public_signer(signature, crowded_countries(signature.pledge_id)),
        waits_for_close=signature.publication == Publication.ON_CLOSE,
        now=utcnow(),
        withdraw_form=withdraw_form or WithdrawForm(prefix="wd"),
        commitments_form=commitments_form,
        partner_invite_form=InviteForm(prefix="pt"),
        partner_remove_form=ButtonForm(),
        reply_forms={a.id: ReplyForm(prefix=f"r{a.id}") for a in signature.actions},
    ), status
