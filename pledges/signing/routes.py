from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from pledges.abuse import limit_confirming, limit_pdf_rendering, limit_signing
from pledges.actions.forms import DeleteActionForm
from pledges.checkins.cycles import cycle_at
from pledges.checkins.forms import CommitmentsForm
from pledges.checkins.service import ending_commitments
from pledges.content import PledgeContent, pledge_content
from pledges.database import utcnow
from pledges.extensions import db
from pledges.forms import attach_error
from pledges.i18n import signer_language
from pledges.models import DocumentVariant, SignatureStatus, TokenPurpose
from pledges.partners.forms import InviteForm, RemovePartnerForm, ReplyForm
from pledges.signing import service
from pledges.signing.forms import ConfirmForm, SignForm, VisibilityForm, WithdrawForm
from pledges.signing.service import SignatureInput, SigningError, signed_content
from pledges.tallies import tally_for
from pledges.verify import service as documents
from pledges.verify.service import DocumentError
from pledges.wall.service import public_pledge_or_404

bp = Blueprint("signing", __name__)


@bp.route("/p/<slug>", methods=["GET", "POST"])
@limit_signing
def sign(slug: str):
    pledge = public_pledge_or_404(slug)
    content = pledge_content(pledge)
    form = SignForm(pledge)
    if pledge.is_open and form.validate_on_submit():
        try:
            service.sign(pledge, _signature_input(form, content))
        except SigningError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            return redirect(url_for("signing.check_inbox", slug=pledge.slug))
    if form.is_submitted() and not pledge.is_open:
        status = 409  # a closed pledge keeps its page but takes no signatures
    elif form.is_submitted() and form.errors:
        status = 400
    else:
        status = 200
    return render_template(
        "signing/pledge.html",
        pledge=pledge,
        content=content,
        form=form,
        tally=tally_for(pledge.id),
    ), status


def render_sign_form_again(slug: str, message: str):
    """The sign page with the visitor's answers and ``message``, nothing saved."""
    pledge = public_pledge_or_404(slug)
    form = SignForm(pledge)
    form.form_errors.append(message)
    return render_template(
        "signing/pledge.html",
        pledge=pledge,
        content=pledge_content(pledge),
        form=form,
        tally=tally_for(pledge.id),
    ), 400


def _signature_input(form: SignForm, content: PledgeContent) -> SignatureInput:
    return SignatureInput(
        name=form.name.data,
        email=form.email.data,
        country=form.country.data,
        role=form.role.data,
        organization=form.organization.data or "",
        visibility=form.visibility.data,
        commitment_ids=tuple(form.commitments.data),
        personal_note=form.personal_note.data or "",
        ip_address=request.remote_addr,
        locale=content.signer_locale(),
    )


@bp.get("/p/<slug>/thanks")
def check_inbox(slug: str):
    # The same page whether the address was new or had signed before: the screen never
    # tells a stranger who has signed.
    pledge = public_pledge_or_404(slug)
    return render_template("signing/check_inbox.html", pledge=pledge_content(pledge))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limit_confirming
def confirm(token: str):
    signature = service.signature_for_token_or_404(token, TokenPurpose.CONFIRM)
    form = ConfirmForm()
    if form.validate_on_submit() and signature.status == SignatureStatus.PENDING:
        service.confirm(signature)
        db.session.commit()
        if signature.status == SignatureStatus.HELD:
            flash(_("Thank you: your signature is confirmed and waits for review."), "success")
        else:
            flash(_("Thank you: your signature is confirmed."), "success")
        return redirect(url_for("signing.confirm", token=token))
    return render_template(
        "signing/confirm.html",
        signature=signature,
        pledge=signed_content(signature),
        form=form,
    )


@bp.route("/me/<token>", methods=["GET"])
def manage(token: str):
    signature = service.private_page_signature_or_404(token)
    return render_manage(token, signature)


@bp.get("/me/<token>/data.json")
def personal_data(token: str):
    signature = service.private_page_signature_or_404(token)
    response = jsonify(service.personal_data(signature))
    filename = f"joining-forces-{signature.pledge.slug}-my-data.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/me/<token>/pledge.pdf")
@limit_pdf_rendering
def signed_pledge_pdf(token: str):
    signature = service.private_page_signature_or_404(token)
    variant = request.args.get("variant", DocumentVariant.PDF)
    if variant not in set(DocumentVariant):
        abort(404)
    try:
        pdf = documents.issue_signed_pledge(signature, variant)
    except DocumentError as exc:
        abort(403, description=exc.message)
    db.session.commit()
    suffix = "-pdfa" if variant == DocumentVariant.PDF_A_3B else ""
    filename = f"joining-forces-{signature.pledge.slug}-signed-pledge{suffix}.pdf"
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/me/<token>/pledge.html")
def signed_pledge_preview(token: str):
    """The signed pledge as a page: the print template, shown as the PDF would print it."""
    signature = service.private_page_signature_or_404(token)
    try:
        documents.check_can_issue(signature)
    except DocumentError as exc:
        abort(403, description=exc.message)
    with signer_language(signature.locale):
        return render_template(
            documents.SIGNED_PLEDGE_TEMPLATE,
            **documents.signed_pledge_context(signature, utcnow()),
        )


@bp.post("/me/<token>/visibility")
def change_visibility(token: str):
    signature = service.private_page_signature_or_404(token)
    form = VisibilityForm(prefix="vis")
    if form.validate_on_submit():
        try:
            service.change_visibility(signature, form.visibility.data, form.organization.data or "")
        except SigningError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved: the wall now shows you as you chose."), "success")
            return redirect(url_for("signing.manage", token=token))
    return render_manage(token, signature, visibility_form=form, status=400)


@bp.post("/me/<token>/withdraw")
def withdraw(token: str):
    signature = service.private_page_signature_or_404(token)
    form = WithdrawForm(prefix="wd")
    if form.validate_on_submit():
        service.withdraw(signature)
        db.session.commit()
        flash(_("Your signature is withdrawn and your personal details are deleted."), "success")
        return redirect(url_for("signing.manage", token=token))
    return render_manage(token, signature, withdraw_form=form, status=400)


def render_manage(
    token, signature, visibility_form=None, withdraw_form=None, commitments_form=None, status=200
):
    """The private page; a form passed in (with its errors) replaces the blank one."""
    if visibility_form is None:
        visibility_form = VisibilityForm(
            prefix="vis",
            data={
                "visibility": signature.visibility,
                "organization": signature.organization_name,
            },
        )
    ending = ending_commitments(signature) if signature.confirmed_at else {}
    if commitments_form is None:
        commitments_form = CommitmentsForm(signature, prefix="cm")
        commitments_form.commitments.data = [
            c.id for c in signature.chosen_commitments if c.id not in ending
        ]
    return render_template(
        "signing/manage.html",
        token=token,
        signature=signature,
        pledge=signed_content(signature),
        commitments=signature.chosen_commitments,
        ending=ending,
        cycle=cycle_at(signature) if signature.status == SignatureStatus.CONFIRMED else None,
        delete_form=DeleteActionForm(),
        visibility_form=visibility_form,
        withdraw_form=withdraw_form or WithdrawForm(prefix="wd"),
        commitments_form=commitments_form,
        partner_invite_form=InviteForm(prefix="pt"),
        partner_remove_form=RemovePartnerForm(),
        reply_forms={a.id: ReplyForm(prefix=f"r{a.id}") for a in signature.actions},
    ), status
