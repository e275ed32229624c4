"""Ally organizations: kept by organizers under /organize/orgs/, shown at /orgs/<slug>."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from pledges.accounts.access import organizer_required
from pledges.extensions import db
from pledges.models import Organization
from pledges.orgs import service
from pledges.orgs.forms import OrganizationForm
from pledges.orgs.service import OrganizationInput
from pledges.views import commit_or_show_error

bp = Blueprint("orgs", __name__)


def _organization_or_404(slug: str) -> Organization:
    return db.first_or_404(select(Organization).where(Organization.slug == slug))


def _editable_organization_or_404(slug: str) -> Organization:
    organization = _organization_or_404(slug)
    if not service.may_edit(organization, current_user):
        abort(404)
    return organization


def _input(form: OrganizationForm) -> OrganizationInput:
    return OrganizationInput(
        name=form.name.data,
        country=form.country.data or None,
        website=form.website.data or None,
        description=form.description.data or "",
    )


@bp.get("/organize/orgs/")
@organizer_required
def index():
    organizations = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    return render_template(
        "orgs/index.html", organizations=organizations, may_edit=service.may_edit
    )


@bp.route("/organize/orgs/new", methods=["GET", "POST"])
@organizer_required
def new():
    form = OrganizationForm()
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            organization = service.create_organization(_input(form), current_user)
        if outcome.committed:
            flash(gettext("%(name)s added.", name=organization.name), "success")
            return redirect(url_for("orgs.index"))
    return render_template("orgs/form.html", form=form, organization=None), (
        400 if form.errors else 200
    )


@bp.route("/organize/orgs/<slug>/edit", methods=["GET", "POST"])
@organizer_required
def edit(slug: str):
    organization = _editable_organization_or_404(slug)
    form = OrganizationForm(obj=organization)
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            changed = service.update_organization(organization, _input(form))
        if outcome.committed:
            flash(gettext("Saved.") if changed else gettext("Nothing had changed."), "success")
            return redirect(url_for("orgs.index"))
    return render_template("orgs/form.html", form=form, organization=organization), (
        400 if form.errors else 200
    )


@bp.get("/orgs/<slug>")
def show(slug: str):
    organization = _organization_or_404(slug)
    return render_template(
        "orgs/show.html",
        organization=organization,
        pledges=service.cosigned_pledges(organization),
        members=service.public_members(organization),
    )
