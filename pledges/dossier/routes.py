from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

from pledges.accounts.access import managed_pledge_or_404, organizer_required
from pledges.domain.tallies import tally_for
from pledges.dossier import build as builder
from pledges.dossier import content, service
from pledges.dossier.forms import DossierForm
from pledges.extensions import db
from pledges.forms import UPLOAD_MAX_BYTES, DocumentForm
from pledges.infrastructure.abuse import limit_verifying
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.jobs import QueueUnavailable
from pledges.models import Dossier, DossierAudience, DossierStatus
from pledges.presentation.charts import svg_response
from pledges.presentation.pdf import pdf_response
from pledges.views import commit_or_show_error

bp = Blueprint("dossier", __name__)
log = logging.getLogger(__name__)

# Room for the multipart framing and the CSRF field around the file itself.
UPLOAD_REQUEST_MAX_BYTES = UPLOAD_MAX_BYTES + 64 * 1024


@bp.url_value_preprocessor
def allow_document_uploads(endpoint: str | None, values: dict | None) -> None:
    # Before CSRFProtect reads the body: the app-wide 1 MB limit would refuse a dossier.
    if endpoint == "dossier.verify" and request.method == "POST":
        request.max_content_length = UPLOAD_REQUEST_MAX_BYTES


@bp.route("/organize/<slug>/dossier", methods=["GET", "POST"])
@organizer_required
def build(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = DossierForm()
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            dossier = service.request_dossier(
                pledge,
                form.audience.data,
                current_user,
                limit_builds=True,
                covering_letter=form.covering_letter.data or "",
            )
        if outcome.committed:
            if service.builds_in_background(pledge):
                try:
                    service.start_in_background(dossier)
                except QueueUnavailable as error:  # recorded on the dossier as failed
                    service.could_not_start(dossier, error)
                    flash(
                        gettext(
                            "The dossier could not be started: the job queue is not "
                            "answering. Try again in a few minutes; if it goes on, tell an "
                            "administrator."
                        ),
                        "error",
                    )
                else:
                    flash(
                        gettext("The dossier is being built: this page shows when it is ready."),
                        "success",
                    )
            else:
                try:
                    service.issue(dossier)
                except Exception:  # recorded on the dossier, which the page lists as failed
                    log.exception("dossier %s failed", dossier.id)
                    flash(
                        gettext(
                            "The dossier could not be built: it is listed as failed below. "
                            "Try again; if it fails again, tell an administrator."
                        ),
                        "error",
                    )
                else:
                    flash(gettext("The dossier is ready to download."), "success")
            return redirect(url_for("dossier.build", slug=pledge.slug))
    dossiers = service.recent_dossiers(pledge)
    return render_template(
        "dossier/build.html",
        pledge=pledge,
        form=form,
        dossiers=dossiers,
        audiences=content.AUDIENCES,
        stale={d.id for d in dossiers if service.is_stale(d)},
        building=any(d.status in service.IN_PROGRESS and not service.is_stale(d) for d in dossiers),
    ), 400 if form.errors else 200


@bp.get("/organize/<slug>/dossier/<int:dossier_id>.pdf")
@organizer_required
def download(slug: str, dossier_id: int):
    pledge = managed_pledge_or_404(slug)
    dossier = db.session.get(Dossier, dossier_id)
    if (
        dossier is None
        or dossier.pledge_id != pledge.id
        or dossier.status != DossierStatus.READY
        or dossier.superseded_at is not None
    ):
        abort(404)
    content = service.content_of(dossier)
    if content is None:  # built by the command line, which writes a file instead
        abort(404)
    filename = f"joining-forces-{pledge.slug}-dossier-{dossier.audience}.pdf"
    return pdf_response(content, filename, resumable=True)


@bp.get("/organize/<slug>/dossier.pdf")
@organizer_required
def latest(slug: str):
    """A link that stays good: the newest finished dossier for ``?audience=`` (officials by
    default). Building is a POST on the dossier page, so with none ready this leads there."""
    pledge = managed_pledge_or_404(slug)
    audience = _audience_arg()
    dossier = service.latest_downloadable(pledge, audience)
    if dossier is None:
        flash(
            gettext(
                "No dossier is ready yet for this audience (%(audience)s): build one here.",
                audience=content.AUDIENCES[audience].label,
            ),
            "info",
        )
        return redirect(url_for("dossier.build", slug=pledge.slug))
    return redirect(url_for("dossier.download", slug=pledge.slug, dossier_id=dossier.id))


def _audience_arg() -> str:
    audience = request.args.get("audience", DossierAudience.OFFICIALS)
    if audience not in set(DossierAudience):
        abort(404)
    return audience


@bp.get("/organize/<slug>/dossier/preview")
@organizer_required
def preview(slug: str):
    """The front matter as a page: the print template, as the PDF would print it."""
    pledge = managed_pledge_or_404(slug)
    context = builder.preview_context(pledge, _audience_arg(), utcnow())
    return render_template(builder.FRONT_TEMPLATE, **context)


@bp.get("/organize/<slug>/dossier/preview/<name>")
@organizer_required
def chart(slug: str, name: str):
    pledge = managed_pledge_or_404(slug)
    tally = tally_for(pledge.id)
    for drawn in content.dossier_charts(pledge, tally, utcnow()):
        if drawn.name == name:
            return svg_response(drawn.svg)
    abort(404)


@bp.route("/verify/dossier/<code>", methods=["GET", "POST"])
@limit_verifying
def verify(code: str):
    dossier = service.dossier_for_code(code)
    if dossier is None or not dossier.pledge.is_public:
        abort(404)
    form = DocumentForm()
    match = None
    if form.validate_on_submit():
        match = service.matches(dossier, form.document.data.stream)
    return render_template(
        "dossier/verify.html",
        dossier=dossier,
        pledge=dossier.pledge,
        audience=content.audience_profile(dossier.audience),
        form=form,
        match=match,
    ), 400 if form.errors else 200
