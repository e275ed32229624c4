"""Organizer pages under /organize/: the pledges an organizer runs, and building them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy import select

from pledges.accounts.access import (
    managed_pledge_or_404,
    organizer_required,
    pledges_managed_by_current_user,
)
from pledges.domain.content import content_languages
from pledges.domain.tallies import signers_who_acted, tallies_for, tally_for
from pledges.extensions import db
from pledges.forms import ButtonForm
from pledges.infrastructure.i18n import language_name
from pledges.infrastructure.urls import external_url
from pledges.models import AuditEntry, Commitment, Organization, Pledge, PledgeStatus
from pledges.organize import service
from pledges.organize.forms import (
    CommitmentForm,
    CosignerForm,
    MoveForm,
    OrganizerForm,
    PledgeForm,
    PledgeLanguageForm,
    RewordForm,
    TranslationForm,
)
from pledges.organize.service import BuilderError, PledgeInput
from pledges.presentation.audit_text import audit_lines
from pledges.views import commit_or_show_error

bp = Blueprint("organize", __name__, url_prefix="/organize")

RECENT_CHANGES = 10


@bp.get("/")
@organizer_required
def index():
    pledges = db.session.scalars(pledges_managed_by_current_user()).all()
    ids = [p.id for p in pledges]
    return render_template(
        "organize/index.html",
        pledges=pledges,
        tallies=tallies_for(ids),
        acted=signers_who_acted(ids),
        waiting=service.waiting_for_review(ids),
    )


def _pledge_input(form: PledgeForm) -> PledgeInput:
    return PledgeInput(
        title=form.title.data,
        slug=form.slug.data or "",
        preamble=form.preamble.data,
        guidelines=form.guidelines.data or "",
        goal=form.goal.data,
        checkin_cadence_days=form.checkin_cadence_days.data,
        premoderation=form.premoderation.data,
    )


@bp.route("/new", methods=["GET", "POST"])
@organizer_required
def new():
    form = PledgeForm()
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            pledge = service.create_pledge(_pledge_input(form), current_user)
        if outcome.committed:
            flash(
                gettext("Draft created. Add its commitments, then open it for signatures."),
                "success",
            )
            return redirect(url_for("organize.commitments", slug=pledge.slug))
    return render_template("organize/new.html", form=form), 400 if form.errors else 200


@bp.get("/<slug>/")
@organizer_required
def pledge(slug: str):
    pledge = managed_pledge_or_404(slug)
    changes = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.pledge_id == pledge.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(RECENT_CHANGES)
    ).all()
    return render_template(
        "organize/pledge.html",
        pledge=pledge,
        tally=tally_for(pledge.id),
        form=ButtonForm(),
        changes=audit_lines(changes),
        public_urls={
            "pledge": external_url("signing.sign", slug=pledge.slug),
            "wall": external_url("wall.wall", slug=pledge.slug),
        },
    )


@bp.post("/<slug>/open")
@organizer_required
def open_pledge(slug: str):
    return _change_status(
        slug, service.open_pledge, gettext("The pledge is open: it takes signatures.")
    )


@bp.post("/<slug>/close")
@organizer_required
def close_pledge(slug: str):
    return _change_status(
        slug,
        service.close_pledge,
        gettext("The pledge is closed: its wall stays, signing has stopped."),
    )


def _change_status(slug: str, change, success: str):
    pledge = managed_pledge_or_404(slug)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with commit_or_show_error() as outcome:
        change(pledge)
    if outcome.committed:
        flash(success, "success")
    return redirect(url_for("organize.pledge", slug=pledge.slug))


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@organizer_required
def edit(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = PledgeForm(obj=pledge)
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            changed = service.update_pledge(pledge, _pledge_input(form))
        if outcome.committed:
            flash(gettext("Saved.") if changed else gettext("Nothing had changed."), "success")
            return redirect(url_for("organize.edit", slug=pledge.slug))
    return render_template(
        "organize/edit.html", pledge=pledge, form=form, slug_frozen=_slug_frozen(pledge)
    ), 400 if form.errors else 200


def _slug_frozen(pledge: Pledge) -> bool:
    return pledge.status != PledgeStatus.DRAFT


# Commitments


@bp.route("/<slug>/commitments", methods=["GET", "POST"])
@organizer_required
def commitments(slug: str):
    """The list of commitments; a POST here adds one."""
    pledge = managed_pledge_or_404(slug)
    form = CommitmentForm(prefix="new")
    if form.validate_on_submit():
        service.add_commitment(pledge, form.text.data, form.required.data)
        db.session.commit()
        flash(gettext("Commitment added."), "success")
        return redirect(url_for("organize.commitments", slug=pledge.slug))
    return render_commitments(pledge, add_form=form, status=400 if form.errors else 200)


def render_commitments(pledge: Pledge, add_form=None, reword_form=None, status=200):
    """The commitments page; a form passed in (with its errors) replaces its blank one."""
    ordered = sorted(pledge.commitments, key=lambda c: c.position)
    reword_forms = {}
    for commitment in ordered:
        if reword_form is not None and reword_form.commitment_id == commitment.id:
            reword_forms[commitment.id] = reword_form
        else:
            reword_forms[commitment.id] = RewordForm(
                prefix=f"c{commitment.id}", formdata=None, data={"text": commitment.text}
            )
    return render_template(
        "organize/commitments.html",
        pledge=pledge,
        ordered=ordered,
        add_form=add_form or CommitmentForm(prefix="new", formdata=None),
        reword_forms=reword_forms,
        button_form=ButtonForm(),
    ), status


def _commitment_or_404(pledge: Pledge, commitment_id: int) -> Commitment:
    commitment = service.commitment_of_pledge(pledge, commitment_id)
    if commitment is None:
        abort(404)
    return commitment


@bp.post("/<slug>/commitments/<int:commitment_id>/reword")
@organizer_required
def reword_commitment(slug: str, commitment_id: int):
    pledge = managed_pledge_or_404(slug)
    commitment = _commitment_or_404(pledge, commitment_id)
    form = RewordForm(prefix=f"c{commitment.id}")
    form.commitment_id = commitment.id
    if not form.validate_on_submit():
        return render_commitments(pledge, reword_form=form, status=400)
    if service.reword_commitment(commitment, form.text.data):
        db.session.commit()
        flash(
            gettext(
                "Commitment #%(number)s reworded. Those who signed keep the words they agreed to.",
                number=commitment.position,
            ),
            "success",
        )
    else:
        flash(gettext("The wording was already that."), "success")
    return redirect(url_for("organize.commitments", slug=pledge.slug))


@bp.post("/<slug>/commitments/<int:commitment_id>/move")
@organizer_required
def move_commitment(slug: str, commitment_id: int):
    pledge = managed_pledge_or_404(slug)
    commitment = _commitment_or_404(pledge, commitment_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    service.move_commitment(commitment, form.direction.data)
    db.session.commit()
    return redirect(url_for("organize.commitments", slug=pledge.slug))


def _commitment_button(slug: str, commitment_id: int, change, message: LazyString):
    pledge = managed_pledge_or_404(slug)
    commitment = _commitment_or_404(pledge, commitment_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with commit_or_show_error() as outcome:
        change(commitment)
    if outcome.committed:
        flash(str(message) % {"number": commitment.position}, "success")
    return redirect(url_for("organize.commitments", slug=pledge.slug))


@bp.post("/<slug>/commitments/<int:commitment_id>/require")
@organizer_required
def require_commitment(slug: str, commitment_id: int):
    return _commitment_button(
        slug,
        commitment_id,
        lambda c: service.set_required(c, True),
        lazy_gettext("Commitment #%(number)s is now required."),
    )


@bp.post("/<slug>/commitments/<int:commitment_id>/unrequire")
@organizer_required
def unrequire_commitment(slug: str, commitment_id: int):
    return _commitment_button(
        slug,
        commitment_id,
        lambda c: service.set_required(c, False),
        lazy_gettext("Commitment #%(number)s is now optional."),
    )


@bp.post("/<slug>/commitments/<int:commitment_id>/retire")
@organizer_required
def retire_commitment(slug: str, commitment_id: int):
    return _commitment_button(
        slug,
        commitment_id,
        service.retire_commitment,
        lazy_gettext(
            "Commitment #%(number)s retired: new signers no longer see it; those who took it "
            "on keep it."
        ),
    )


@bp.post("/<slug>/commitments/<int:commitment_id>/restore")
@organizer_required
def restore_commitment(slug: str, commitment_id: int):
    return _commitment_button(
        slug,
        commitment_id,
        service.restore_commitment,
        lazy_gettext("Commitment #%(number)s restored: new signers can choose it again."),
    )


# Organizers and co-signers


@bp.get("/<slug>/organizers")
@organizer_required
def team(slug: str):
    pledge = managed_pledge_or_404(slug)
    return render_team(pledge)


def render_team(pledge: Pledge, organizer_form=None, cosigner_form=None, status=200):
    return render_template(
        "organize/team.html",
        pledge=pledge,
        organizer_form=organizer_form or OrganizerForm(prefix="org", formdata=None),
        cosigner_form=cosigner_form or _cosigner_form(pledge, formdata=None),
        button_form=ButtonForm(),
    ), status


def _cosigner_form(pledge: Pledge, **kwargs) -> CosignerForm:
    cosigning = {c.organization_id for c in pledge.cosigners}
    organizations = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    return CosignerForm([o for o in organizations if o.id not in cosigning], prefix="cos", **kwargs)


@bp.post("/<slug>/organizers/add")
@organizer_required
def add_organizer(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = OrganizerForm(prefix="org")
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            user = service.add_organizer(pledge, form.email.data)
        if outcome.committed:
            flash(
                gettext("%(name)s now runs this pledge with you.", name=user.display_name),
                "success",
            )
            return redirect(url_for("organize.team", slug=pledge.slug))
    return render_team(pledge, organizer_form=form, status=400)


@bp.post("/<slug>/organizers/<int:user_id>/remove")
@organizer_required
def remove_organizer(slug: str, user_id: int):
    pledge = managed_pledge_or_404(slug)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with commit_or_show_error() as outcome:
        user = service.remove_organizer(pledge, user_id)
    if not outcome.committed:
        return redirect(url_for("organize.team", slug=pledge.slug))
    flash(gettext("%(name)s no longer runs this pledge.", name=user.display_name), "success")
    if user.id == current_user.id and not current_user.is_admin:
        return redirect(url_for("organize.index"))
    return redirect(url_for("organize.team", slug=pledge.slug))


@bp.post("/<slug>/cosigners/add")
@organizer_required
def add_cosigner(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = _cosigner_form(pledge)
    if form.validate_on_submit():
        organization = db.session.get(Organization, form.organization.data)
        with commit_or_show_error(form) as outcome:
            service.add_cosigner(pledge, organization)
        if outcome.committed:
            flash(gettext("%(name)s now co-signs this pledge.", name=organization.name), "success")
            return redirect(url_for("organize.team", slug=pledge.slug))
    return render_team(pledge, cosigner_form=form, status=400)


@bp.post("/<slug>/cosigners/<int:organization_id>/remove")
@organizer_required
def remove_cosigner(slug: str, organization_id: int):
    pledge = managed_pledge_or_404(slug)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with commit_or_show_error() as outcome:
        organization = service.remove_cosigner(pledge, organization_id)
    if outcome.committed:
        flash(
            gettext("%(name)s no longer co-signs this pledge.", name=organization.name), "success"
        )
    return redirect(url_for("organize.team", slug=pledge.slug))


# Translations: the pledge's own words in other languages.


def _language_choices(codes) -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in codes]


def _translation_form(pledge: Pledge, locale: str | None, **kwargs) -> TranslationForm:
    """The editor for ``locale`` (a new translation when None), one entry per commitment."""
    translation = service.translation_of(pledge, locale) if locale else None
    ordered = sorted(pledge.commitments, key=lambda c: c.position)
    if translation is not None and "formdata" in kwargs:
        texts = service.current_commitment_translations(pledge, locale)
        kwargs["data"] = {
            "locale": locale,
            "title": translation.title,
            "preamble": translation.preamble,
            "guidelines": translation.guidelines,
            "commitments": [texts.get(c.id, "") for c in ordered],
        }
    elif "formdata" in kwargs:
        kwargs["data"] = {"locale": locale, "commitments": ["" for _ in ordered]}
    form = TranslationForm(prefix="tr", **kwargs)
    taken = {pledge.language, *(t.locale for t in pledge.translations)} - {locale}
    form.locale.choices = _language_choices(c for c in content_languages() if c not in taken)
    # Keep the entries in step with the commitments, whatever was posted.
    while len(form.commitments) < len(ordered):
        form.commitments.append_entry("")
    while len(form.commitments) > len(ordered):
        form.commitments.pop_entry()
    form.ordered_commitments = ordered
    return form


def render_translations(pledge: Pledge, language_form=None, form=None, status=200):
    locale = request.args.get("locale") or None
    if locale is not None and service.translation_of(pledge, locale) is None:
        locale = None
    if language_form is None:
        language_form = PledgeLanguageForm(
            prefix="lang", formdata=None, data={"language": pledge.language}
        )
    language_form.language.choices = _language_choices(content_languages())
    return render_template(
        "organize/translations.html",
        pledge=pledge,
        language_form=language_form,
        form=form or _translation_form(pledge, locale, formdata=None),
        editing=form.locale.data if form is not None else locale,
        button_form=ButtonForm(),
    ), status


@bp.route("/<slug>/translations", methods=["GET", "POST"])
@organizer_required
def translations(slug: str):
    """The pledge's languages; a POST here saves one translation."""
    pledge = managed_pledge_or_404(slug)
    if request.method == "GET":
        return render_translations(pledge)
    locale = request.form.get("tr-locale") or None
    if locale is not None and locale not in content_languages():
        abort(400)  # not a language the form offers: the page cannot even be named in it
    form = _translation_form(pledge, locale)
    if form.validate_on_submit():
        data = service.TranslationInput(
            locale=form.locale.data,
            title=form.title.data,
            preamble=form.preamble.data,
            guidelines=form.guidelines.data or "",
            commitments={
                c.id: (entry.data or "")
                for c, entry in zip(form.ordered_commitments, form.commitments, strict=True)
            },
        )
        with commit_or_show_error(form) as outcome:
            created = service.save_translation(pledge, data)
        if outcome.committed:
            name = language_name(data.locale)
            flash(
                gettext("Translation into %(language)s added.", language=name)
                if created
                else gettext("Translation into %(language)s saved.", language=name),
                "success",
            )
            return redirect(url_for("organize.translations", slug=pledge.slug, locale=data.locale))
    return render_translations(pledge, form=form, status=400)


@bp.post("/<slug>/translations/language")
@organizer_required
def pledge_language(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = PledgeLanguageForm(prefix="lang")
    form.language.choices = _language_choices(content_languages())
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            changed = service.set_pledge_language(pledge, form.language.data)
        if outcome.committed:
            flash(gettext("Saved.") if changed else gettext("Nothing had changed."), "success")
            return redirect(url_for("organize.translations", slug=pledge.slug))
    return render_translations(pledge, language_form=form, status=400)


@bp.post("/<slug>/translations/<locale>/remove")
@organizer_required
def remove_translation(slug: str, locale: str):
    pledge = managed_pledge_or_404(slug)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        service.remove_translation(pledge, locale)
    except BuilderError:
        abort(404)
    db.session.commit()
    flash(
        gettext("Translation into %(language)s removed.", language=language_name(locale)),
        "success",
    )
    return redirect(url_for("organize.translations", slug=pledge.slug))
