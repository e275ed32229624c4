from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext

from pledges.domain.content import signed_content
from pledges.dossier.service import dossier_for_code
from pledges.forms import UPLOAD_MAX_BYTES, DocumentForm
from pledges.infrastructure.abuse import limit_verifying
from pledges.infrastructure.security import normalize_verification_code
from pledges.models import SignatureStatus
from pledges.presentation.display import public_signer
from pledges.verify import service
from pledges.verify.forms import CodeForm

bp = Blueprint("verify", __name__)

# Room for the multipart framing and the CSRF field around the file itself.
UPLOAD_REQUEST_MAX_BYTES = UPLOAD_MAX_BYTES + 64 * 1024


@bp.url_value_preprocessor
def allow_document_uploads(endpoint: str | None, values: dict | None) -> None:
    # Runs before every before_request hook, so before CSRFProtect reads the body: the
    # app-wide 1 MB limit would refuse a real PDF.
    if endpoint == "verify.verify" and request.method == "POST":
        request.max_content_length = UPLOAD_REQUEST_MAX_BYTES


@bp.get("/verify")
def lookup():
    form = CodeForm(request.args)
    if request.args and form.validate():
        code = normalize_verification_code(form.code.data)
        if code is not None:
            return redirect(url_for("verify.verify", code=code))
        form.code.errors.append(gettext("That is not a verification code: check what you typed."))
    status = 400 if form.errors else 200
    return render_template("verify/lookup.html", form=form), status


@bp.route("/verify/<code>", methods=["GET", "POST"])
@limit_verifying
def verify(code: str):
    signature = service.signature_for_code(code)
    if signature is None and dossier_for_code(code) is not None:
        # Dossiers carry codes from the same alphabet: one lookup form serves both.
        return redirect(url_for("dossier.verify", code=code))
    if signature is None or not signature.pledge.is_public:
        abort(404)
    form = DocumentForm()
    match = checked = None
    if form.validate_on_submit():
        match = service.find_issued(signature, form.document.data.stream)
        checked = True
    confirmed = signature.status == SignatureStatus.CONFIRMED
    return render_template(
        "verify/verify.html",
        signature=signature,
        pledge=signed_content(signature),
        # Only a signature that stands shows its signer, and only as they chose: a withdrawn
        # one is erased, a hidden one was taken off the public pages by moderators.
        signer=public_signer(signature) if confirmed else None,
        documents=service.issued_documents(signature),
        form=form,
        checked=checked,
        match=match,
    ), 400 if form.errors else 200
