"""Admin pages under /admin/: user accounts, the mail outbox and the job queue."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user

from pledges.accounts.access import admin_required
from pledges.admin import service
from pledges.admin.forms import InviteUserForm, RoleForm
from pledges.extensions import db
from pledges.forms import ButtonForm
from pledges.infrastructure.jobs import QueueUnavailable
from pledges.models import User
from pledges.views import commit_or_show_error

bp = Blueprint("admin", __name__, url_prefix="/admin")

QUEUE_UNAVAILABLE = lazy_gettext(
    "The job queue is not answering: check that Redis is running, then try again."
)


@bp.get("/")
@admin_required
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
@admin_required
def users():
    return render_template(
        "admin/users.html",
        users=service.all_users(),
        role_form=RoleForm(),
        button=ButtonForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = InviteUserForm()
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            user = service.invite_user(
                form.email.data, form.name.data, form.role.data, form.language.data
            )
        if outcome.committed:
            flash(
                gettext(
                    "Account created: %(email)s is emailed a link to set a password.",
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for("admin.users"))
    return render_template("admin/new_user.html", form=form), 422 if form.errors else 200


def _act_on_user(user_id: int, act, done, form_class=ButtonForm):
    """Validate the posted form, run ``act(user, form)``, commit once, and go back."""
    user = db.get_or_404(User, user_id)
    form = form_class()
    if not form.validate_on_submit():
        flash(gettext("That didn't work: reload the page and try again."), "error")
        return redirect(url_for("admin.users"))
    with commit_or_show_error() as outcome:
        act(user, form)
    if outcome.committed:
        flash(str(done) % {"email": user.email}, "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    return _act_on_user(
        user_id,
        lambda user, form: service.deactivate(user, current_user),
        lazy_gettext("%(email)s is deactivated and logged out everywhere."),
    )


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    return _act_on_user(
        user_id,
        lambda user, form: service.reactivate(user),
        lazy_gettext("%(email)s can log in again."),
    )


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    return _act_on_user(
        user_id,
        lambda user, form: service.change_role(user, form.role.data, current_user),
        lazy_gettext("%(email)s has a new role."),
        form_class=RoleForm,
    )


@bp.post("/users/<int:user_id>/invite")
@admin_required
def resend_invitation(user_id: int):
    return _act_on_user(
        user_id,
        lambda user, form: service.resend_invitation(user),
        lazy_gettext("A new invitation is on its way to %(email)s."),
    )


@bp.get("/mail")
@admin_required
def mail():
    counts, dead = service.outbox()
    return render_template("admin/mail.html", counts=counts, dead=dead, form=ButtonForm())


@bp.post("/mail/retry")
@admin_required
def retry_mail():
    form = ButtonForm()
    if form.validate_on_submit():
        count = service.retry_dead_mail()
        db.session.commit()
        flash(
            ngettext("%(num)d message queued again.", "%(num)d messages queued again.", count),
            "success",
        )
    return redirect(url_for("admin.mail"))


@bp.get("/jobs")
@admin_required
def jobs():
    try:
        state = service.job_queue()
    except QueueUnavailable:
        return render_template("admin/jobs.html", queue=True, unavailable=True), 503
    counts, failed = state if state is not None else ({}, [])
    return render_template(
        "admin/jobs.html", queue=state is not None, counts=counts, failed=failed, form=ButtonForm()
    )


@bp.post("/jobs/<job_id>/retry")
@admin_required
def retry_job(job_id: str):
    form = ButtonForm()
    if not form.validate_on_submit():
        flash(gettext("That didn't work: reload the page and try again."), "error")
        return redirect(url_for("admin.jobs"))
    try:
        retried = service.retry_job(job_id)
    except QueueUnavailable:
        db.session.rollback()
        flash(QUEUE_UNAVAILABLE, "error")
        return redirect(url_for("admin.jobs"))
    if retried:
        db.session.commit()
        flash(gettext("The job is queued again."), "success")
    else:
        flash(gettext("That job is no longer among the failed ones."), "error")
    return redirect(url_for("admin.jobs"))
