"""Updates: organizers write and send them (/organize/<slug>/updates), the public reads them
(/p/<slug>/updates), signers choose whether to get them by email."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext

from pledges.accounts.access import managed_pledge_or_404, organizer_required
from pledges.domain import milestones
from pledges.domain.content import pledge_content
from pledges.domain.signers import private_page_signature_or_404
from pledges.domain.tallies import tally_for
from pledges.extensions import csrf, db
from pledges.forms import ButtonForm, OneClickForm
from pledges.models import Pledge, PledgeUpdate, SignatureStatus
from pledges.updates import service
from pledges.updates.forms import GoalsForm, WantsUpdatesForm, update_form
from pledges.views import commit_or_show_error
from pledges.wall.service import public_pledge_or_404

bp = Blueprint("updates", __name__)


# Organizers.


@bp.get("/organize/<slug>/updates")
@organizer_required
def index(slug: str):
    pledge = managed_pledge_or_404(slug)
    return render_index(pledge)


def render_index(pledge: Pledge, goals_form: GoalsForm | None = None, status: int = 200):
    upcoming = milestones.upcoming_goals(pledge.id)
    return render_template(
        "updates/index.html",
        pledge=pledge,
        updates=service.updates_of(pledge),
        subscribers=service.subscriber_count(pledge),
        tally=tally_for(pledge.id),
        reached=milestones.reached_goals(pledge.id),
        goals_form=goals_form
        or GoalsForm(data={"goals": ", ".join(str(goal) for goal in upcoming)}),
    ), status


@bp.post("/organize/<slug>/updates/goals")
@organizer_required
def goals(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = GoalsForm()
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.set_goals(pledge, form.goals.parsed)
        if outcome.committed:
            flash(gettext("Saved: your next goals."), "success")
            return redirect(url_for("updates.index", slug=pledge.slug) + "#milestones")
    return render_index(pledge, goals_form=form, status=400)


@bp.route("/organize/<slug>/updates/new", methods=["GET", "POST"])
@organizer_required
def new(slug: str):
    pledge = managed_pledge_or_404(slug)
    form = update_form(pledge)
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            update = service.save_update(pledge, form.texts())
        if outcome.committed:
            flash(gettext("Draft saved. Preview it, then publish it."), "success")
            return redirect(url_for("updates.show", slug=pledge.slug, update_id=update.id))
    return render_template(
        "updates/edit.html", pledge=pledge, form=form, update=None
    ), 400 if form.errors else 200


def _update_or_404(pledge: Pledge, update_id: int) -> PledgeUpdate:
    update = service.update_of(pledge, update_id)
    if update is None:
        abort(404)
    return update


@bp.route("/organize/<slug>/updates/<int:update_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit(slug: str, update_id: int):
    pledge = managed_pledge_or_404(slug)
    update = _update_or_404(pledge, update_id)
    texts = service.texts_of(update)
    form = update_form(
        pledge,
        data={
            **{f"title_{locale}": text.title for locale, text in texts.items()},
            **{f"body_{locale}": text.body for locale, text in texts.items()},
        },
    )
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            service.save_update(pledge, form.texts(), update)
        if outcome.committed:
            flash(gettext("Saved."), "success")
            return redirect(url_for("updates.show", slug=pledge.slug, update_id=update.id))
    return render_template(
        "updates/edit.html", pledge=pledge, form=form, update=update
    ), 400 if form.errors else 200


@bp.get("/organize/<slug>/updates/<int:update_id>")
@organizer_required
def show(slug: str, update_id: int):
    """The preview: the update in each language as signers will read it, and its sending."""
    pledge = managed_pledge_or_404(slug)
    update = _update_or_404(pledge, update_id)
    send = service.send_of(update)
    return render_template(
        "updates/show.html",
        pledge=pledge,
        update=update,
        texts=service.texts_of(update),
        send=send,
        progress=service.progress(send) if send else None,
        subscribers=service.subscriber_count(pledge),
        form=ButtonForm(),
    )


def _button(slug: str, update_id: int):
    pledge = managed_pledge_or_404(slug)
    update = _update_or_404(pledge, update_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    return pledge, update


def _back(pledge: Pledge, update: PledgeUpdate):
    return redirect(url_for("updates.show", slug=pledge.slug, update_id=update.id))


@bp.post("/organize/<slug>/updates/<int:update_id>/publish")
@organizer_required
def publish(slug: str, update_id: int):
    pledge, update = _button(slug, update_id)
    service.publish(update)
    db.session.commit()
    flash(gettext("Published on the pledge page, the wall and the feed."), "success")
    return _back(pledge, update)


@bp.post("/organize/<slug>/updates/<int:update_id>/send")
@organizer_required
def send(slug: str, update_id: int):
    pledge, update = _button(slug, update_id)
    with commit_or_show_error() as outcome:
        started = service.start_send(update)
    if outcome.committed:
        service.enqueue_send(started)
        flash(gettext("Sending: the emails go out at the pace set for this site."), "success")
    return _back(pledge, update)


@bp.post("/organize/<slug>/updates/<int:update_id>/pause")
@organizer_required
def pause(slug: str, update_id: int):
    pledge, update = _button(slug, update_id)
    sending = service.send_of(update)
    if sending is None:
        abort(404)
    service.pause(sending)
    db.session.commit()
    flash(gettext("Paused. Emails already on their way still arrive."), "success")
    return _back(pledge, update)


@bp.post("/organize/<slug>/updates/<int:update_id>/resume")
@organizer_required
def resume(slug: str, update_id: int):
    pledge, update = _button(slug, update_id)
    sending = service.send_of(update)
    if sending is None:
        abort(404)
    if service.resume(sending):
        db.session.commit()
        service.enqueue_send(sending)
        flash(gettext("Sending again from where it stopped."), "success")
    return _back(pledge, update)


# The public.


@bp.get("/p/<slug>/updates")
def public_list(slug: str):
    pledge = public_pledge_or_404(slug)
    content = pledge_content(pledge)
    return render_template(
        "updates/public_list.html",
        pledge=pledge,
        content=content,
        updates=service.published_updates(pledge, content.language),
    )


@bp.get("/p/<slug>/updates/<int:update_id>")
def public_update(slug: str, update_id: int):
    pledge = public_pledge_or_404(slug)
    content = pledge_content(pledge)
    update = service.published_update(pledge, update_id, content.language)
    if update is None:
        abort(404)
    return render_template(
        "updates/public_update.html", pledge=pledge, content=content, update=update
    )


# Signers.


@bp.post("/me/<token>/updates")
def subscription(token: str):
    """The private page's "Email me updates about this pledge"."""
    signature = private_page_signature_or_404(token)
    form = WantsUpdatesForm(prefix="up")
    if not form.validate_on_submit():
        abort(400)
    with commit_or_show_error() as outcome:
        service.set_wants_updates(signature, bool(form.wants_updates.data))
    if outcome.committed:
        if signature.wants_updates:
            flash(gettext("Saved: we will email you the organizers' updates."), "success")
        else:
            flash(gettext("Saved: we will not email you updates."), "success")
    return redirect(url_for("me.manage", token=token) + "#updates")


@bp.route("/updates/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # a mail client posts here with no session (RFC 8058); the link is the key
def unsubscribe(token: str):
    """One-click unsubscribe from updates: the List-Unsubscribe link of every update email.
    A POST stops them; a GET only shows the button (mail scanners open links)."""
    signature = service.signature_for_unsubscribe_token(token)
    if signature is None:
        abort(404)
    form = OneClickForm()
    if form.validate_on_submit():
        service.unsubscribe(signature)
        db.session.commit()
        return render_template("updates/unsubscribed.html", signature=signature)
    subscribed = signature.wants_updates and signature.status != SignatureStatus.WITHDRAWN
    return render_template(
        "updates/unsubscribe.html", signature=signature, form=form, subscribed=subscribed
    )
