"""Moderation pages: the queue, hiding and approving, bulk invalidation, public reports,
the pledge's moderation history and the site-wide audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext

from pledges.accounts.access import admin_required, managed_pledge_or_404, organizer_required
from pledges.extensions import db, limiter
from pledges.forms import ButtonForm, attach_error
from pledges.infrastructure.abuse import configured
from pledges.infrastructure.converters import positive_int
from pledges.models import Pledge, ReportResolution, Signature, SignatureStatus
from pledges.moderation import service
from pledges.moderation.forms import (
    REPORT_REASON_LABELS,
    BulkForm,
    HideForm,
    ReportForm,
    ResolveForm,
    ReviewShownForm,
    UnhideForm,
)
from pledges.moderation.service import BulkCriteria, ModerationError
from pledges.presentation.audit_text import ACTION_LABELS, audit_lines
from pledges.presentation.display import crowded_countries, public_signer
from pledges.views import commit_or_show_error
from pledges.wall.service import public_pledge_or_404

bp = Blueprint("moderation", __name__)

PER_PAGE = 50
REPORT_GROUPS_PER_PAGE = 25
LAST_PAGE = 99_999


def _page_arg() -> int:
    return positive_int(request.args.get("page"), LAST_PAGE) or 1


def _before_arg() -> int | None:
    """The audit log's "older" link: the id to list entries before, or the newest page."""
    return positive_int(request.args.get("before"))


def _view_arg() -> service.QueueView:
    view = request.args.get("view", "")
    return service.QueueView(view) if view in service.QUEUE_VIEWS else service.QueueView.NEW


def _signature_of(pledge: Pledge, signature_id: int) -> Signature:
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.pledge_id != pledge.id:
        abort(404)
    return signature


def _back_to_queue(pledge: Pledge):
    return redirect(
        url_for("moderation.queue", slug=pledge.slug, view=_view_arg(), page=_page_arg())
    )


# The queue.


@bp.get("/organize/<slug>/moderation")
@organizer_required
def queue(slug: str):
    pledge = managed_pledge_or_404(slug)
    view = _view_arg()
    page = service.queue_page(pledge, view, _page_arg(), PER_PAGE)
    review_form = ReviewShownForm(
        prefix="shown", data={"ids": ",".join(str(row.signature.id) for row in page.items)}
    )
    return render_template(
        "moderation/queue.html",
        pledge=pledge,
        view=view,
        views=service.QUEUE_VIEWS,
        QueueView=service.QueueView,
        page=page,
        counts=service.queue_counts(pledge),
        open_reports=service.open_report_count(pledge),
        button_form=ButtonForm(),
        review_form=review_form,
        history=audit_lines(service.audit_entries(pledge_id=pledge.id, limit=10)[0]),
    )


@bp.post("/organize/<slug>/moderation/<int:signature_id>/approve")
@organizer_required
def approve(slug: str, signature_id: int):
    pledge = managed_pledge_or_404(slug)
    signature = _signature_of(pledge, signature_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    was_held = signature.status == SignatureStatus.HELD
    with commit_or_show_error() as outcome:
        changed = service.approve(signature)
    if outcome.committed:
        if not changed:
            flash(gettext("Someone had already reviewed this signature."), "success")
        elif was_held:
            flash(gettext("Approved: the signature is now on the wall."), "success")
        else:
            flash(gettext("Marked as reviewed."), "success")
    return _back_to_queue(pledge)


@bp.post("/organize/<slug>/moderation/reviewed")
@organizer_required
def review_shown(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = ReviewShownForm(prefix="shown")
    if not form.validate_on_submit():
        abort(400)
    count = service.approve_shown(pledge, form.signature_ids())
    db.session.commit()
    flash(
        ngettext(
            "Marked %(num)d signature as reviewed.", "Marked %(num)d signatures as reviewed.", count
        ),
        "success",
    )
    return _back_to_queue(pledge)


@bp.route("/organize/<slug>/moderation/<int:signature_id>/hide", methods=["GET", "POST"])
@organizer_required
def hide(slug: str, signature_id: int):
    pledge = managed_pledge_or_404(slug)
    signature = _signature_of(pledge, signature_id)
    form = HideForm()
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.hide(signature, form.reason.data)
        if outcome.committed:
            flash(
                gettext("Hidden: the signature is off the wall and out of the figures."), "success"
            )
            return _back_to_queue(pledge)
    return _render_decision(pledge, signature, form, "hide")


@bp.route("/organize/<slug>/moderation/<int:signature_id>/unhide", methods=["GET", "POST"])
@organizer_required
def unhide(slug: str, signature_id: int):
    pledge = managed_pledge_or_404(slug)
    signature = _signature_of(pledge, signature_id)
    form = UnhideForm()
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.unhide(signature, form.reason.data)
        if outcome.committed:
            flash(gettext("Shown again: the signature is back on the wall and counted."), "success")
            return _back_to_queue(pledge)
    return _render_decision(pledge, signature, form, "unhide")


def _render_decision(pledge: Pledge, signature: Signature, form, decision: str):
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(
        "moderation/decide.html",
        pledge=pledge,
        signature=signature,
        email_domain=service.email_domain(signature),
        form=form,
        decision=decision,
        view=_view_arg(),
        page_number=_page_arg(),
    ), status


@bp.route("/organize/<slug>/moderation/bulk", methods=["GET", "POST"])
@organizer_required
def bulk(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = BulkForm()
    preview = None
    if form.validate_on_submit():
        try:
            criteria = BulkCriteria.of(
                form.email_domain.data, form.signed_from.data, form.signed_until.data
            )
            if form.confirming:
                count = service.bulk_invalidate(
                    pledge,
                    email_domain=criteria.email_domain,
                    signed_from=criteria.signed_from,
                    signed_until=criteria.signed_until,
                    reason=form.reason.data,
                )
            else:
                preview = service.bulk_preview(pledge, criteria)
        except ModerationError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            if form.confirming:
                db.session.commit()
                flash(
                    ngettext("Hid %(num)d signature.", "Hid %(num)d signatures.", count), "success"
                )
                return redirect(url_for("moderation.queue", slug=pledge.slug, view="hidden"))
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(
        "moderation/bulk.html", pledge=pledge, form=form, preview=preview
    ), status


@bp.get("/organize/<slug>/audit")
@organizer_required
def history(slug: str):
    """The pledge's own moderation history, for its organizers."""
    pledge = managed_pledge_or_404(slug)
    entries, next_before = service.audit_entries(pledge_id=pledge.id, before_id=_before_arg())
    return render_template(
        "moderation/history.html",
        pledge=pledge,
        entries=audit_lines(entries),
        next_before=next_before,
    )


# Public reports.


@bp.route("/p/<slug>/report/<public_id>", methods=["GET", "POST"])
@limiter.limit(configured("REPORT_LIMIT_PER_IP"), methods=["POST"], scope="report")
def report(slug: str, public_id: str):
    pledge = public_pledge_or_404(slug)
    signature = service.reportable_signature(pledge, public_id)
    if signature is None:
        abort(404)
    form = ReportForm()
    if form.validate_on_submit():
        service.file_report(
            signature, form.reason.data, form.details.data or "", request.remote_addr
        )
        db.session.commit()
        return redirect(url_for("moderation.reported", slug=pledge.slug))
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(
        "moderation/report.html",
        pledge=pledge,
        signer=public_signer(signature, crowded_countries(pledge.id)),
        form=form,
    ), status


@bp.get("/p/<slug>/reported")
def reported(slug: str):
    pledge = public_pledge_or_404(slug)
    return render_template("moderation/reported.html", pledge=pledge)


@bp.get("/organize/<slug>/reports")
@organizer_required
def reports(slug: str):
    pledge = managed_pledge_or_404(slug)
    page = service.report_groups(pledge, _page_arg(), REPORT_GROUPS_PER_PAGE)
    return render_template(
        "moderation/reports.html",
        pledge=pledge,
        page=page,
        reason_labels=REPORT_REASON_LABELS,
        forms={
            group.signature.id: ResolveForm(prefix=f"r{group.signature.id}")
            for group in page.items
            if group.open_count
        },
    )


@bp.post("/organize/<slug>/reports/<int:signature_id>")
@organizer_required
def resolve(slug: str, signature_id: int):
    pledge = managed_pledge_or_404(slug)
    signature = _signature_of(pledge, signature_id)
    form = ResolveForm(prefix=f"r{signature.id}")
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.resolve_reports(signature, form.resolution.data, form.reason.data or "")
        if outcome.committed:
            if form.resolution.data == ReportResolution.HIDDEN:
                flash(gettext("The entry is hidden and its reports are resolved."), "success")
            else:
                flash(gettext("Reports dismissed: the entry stays on the wall."), "success")
            return redirect(url_for("moderation.reports", slug=pledge.slug))
    return render_template(
        "moderation/resolve.html",
        pledge=pledge,
        signature=signature,
        email_domain=service.email_domain(signature),
        form=form,
    ), 400


# The site-wide audit log.


@bp.get("/admin/audit")
@admin_required
def audit_log():
    pledge_slug = request.args.get("pledge", "")
    action = request.args.get("action", "")
    pledge = None
    if pledge_slug:
        pledge = db.session.scalar(db.select(Pledge).where(Pledge.slug == pledge_slug))
    entries, next_before = service.audit_entries(
        pledge_id=pledge.id if pledge else (-1 if pledge_slug else None),
        action=action or None,
        before_id=_before_arg(),
    )
    return render_template(
        "moderation/audit.html",
        entries=audit_lines(entries),
        next_before=next_before,
        pledges=db.session.scalars(db.select(Pledge).order_by(Pledge.title)).all(),
        actions=service.audit_actions(),
        action_labels=ACTION_LABELS,
        selected_pledge=pledge_slug,
        selected_action=action,
    )
