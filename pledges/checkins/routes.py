from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from pledges.checkins import service
from pledges.domain.cycles import cycle_at
from pledges.domain.signers import private_page_signature_or_404
from pledges.extensions import csrf, db
from pledges.forms import ButtonForm, OneClickForm
from pledges.models import Reminders, SignatureStatus

bp = Blueprint("checkins", __name__)
# Signers and their partners may be read over the shoulder: every page here offers
# "Leave this page quickly" (templates/base.html).
bp.context_processor(lambda: {"quick_exit": True})

REMINDER_MESSAGES = {
    Reminders.ON: lazy_gettext("Reminders are on: we will write at the end of each cycle."),
    Reminders.PAUSED: lazy_gettext("Reminders are paused. Resume them here whenever you like."),
    Reminders.STOPPED: lazy_gettext(
        "Reminders are stopped. We will not write again unless you resume them."
    ),
}


@bp.route("/me/<token>/reminders", methods=["GET", "POST"])
def reminders(token: str):
    """Reached from the link in every reminder: pause, stop or resume, one button each."""
    signature = private_page_signature_or_404(token)
    if signature.status != SignatureStatus.CONFIRMED:
        abort(403, description=gettext("Reminders are for confirmed signatures."))
    form = ButtonForm()
    if form.validate_on_submit():
        setting = request.form.get("reminders")
        if setting not in {r.value for r in Reminders}:
            abort(400, description=gettext("Choose pause, stop or resume."))
        service.set_reminders(signature, setting)
        db.session.commit()
        flash(str(REMINDER_MESSAGES[Reminders(setting)]), "success")
        return redirect(url_for("checkins.reminders", token=token))
    return render_template(
        "checkins/reminders.html",
        token=token,
        signature=signature,
        form=form,
        cycle=cycle_at(signature),
        message=REMINDER_MESSAGES[Reminders(signature.reminders)],
    )


@bp.route("/reminders/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # a mail client posts here with no session (RFC 8058); the link is the key
def unsubscribe(token: str):
    """One-click unsubscribe from reminders: the link in every reminder's List-Unsubscribe
    header. A POST stops them; a GET (a person, or a scanner opening links) only shows
    the button, so nothing is stopped by merely opening the link."""
    signature = service.signature_for_unsubscribe_token(token)
    if signature is None:
        abort(404)
    form = OneClickForm()
    if form.validate_on_submit():
        service.unsubscribe(signature)
        db.session.commit()
        return render_template("checkins/unsubscribed.html", signature=signature)
    return render_template("checkins/unsubscribe.html", signature=signature, form=form)
