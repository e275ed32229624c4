"""CSV export of a pledge's signatures, and a signer's signed pledge PDF, for organizers."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
    stream_with_context,
)

from pledges.accounts.access import managed_pledge_or_404, may_see_emails, organizer_required
from pledges.domain.signers import may_issue_signed_pledge
from pledges.exports import service
from pledges.exports.forms import ExportForm
from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.models import DocumentVariant, Signature, SignatureStatus
from pledges.presentation.pdf import pdf_response
from pledges.verify import service as documents

bp = Blueprint("exports", __name__, url_prefix="/organize")


@bp.get("/<slug>/export")
@organizer_required
def signatures(slug: str):
    """The choice of columns and signatures; with ``download`` in the query, the CSV."""
    pledge = managed_pledge_or_404(slug)
    with_emails = may_see_emails(pledge)
    downloading = "download" in request.args
    form = ExportForm(
        service.available_columns(with_emails), formdata=request.args if downloading else None
    )
    if downloading and form.validate():
        columns = service.in_column_order(form.columns.data)
        statuses = [s.value for s in SignatureStatus if s.value in form.statuses.data]
        service.record_export(pledge, columns, statuses)
        db.session.commit()
        response = Response(
            stream_with_context(service.csv_chunks(pledge, columns, statuses)),
            mimetype="text/csv",
        )
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{service.filename(pledge)}"'
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    status = 422 if downloading else 200
    return render_template(
        "exports/signatures.html", pledge=pledge, form=form, with_emails=with_emails
    ), status


@bp.get("/<slug>/signatures/<int:signature_id>/pledge.pdf")
@organizer_required
def signature_pdf(slug: str, signature_id: int):
    """A signer's signed pledge as they would download it themselves, less their private
    actions (recorded as issued, so it verifies like theirs)."""
    pledge = managed_pledge_or_404(slug)
    signature = db.session.get(Signature, signature_id)
    if (
        signature is None
        or signature.pledge_id != pledge.id
        or not may_issue_signed_pledge(signature)
    ):
        abort(404)
    variant = request.args.get("variant", DocumentVariant.PDF)
    if variant not in set(DocumentVariant):
        abort(404)
    pdf = documents.issue_signed_pledge(signature, variant, with_private_actions=False)
    audit.record("signature.pdf", pledge=pledge, target=signature, details={"variant": variant})
    db.session.commit()
    return pdf_response(pdf, documents.signed_pledge_filename(signature, variant))
