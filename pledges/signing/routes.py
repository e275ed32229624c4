from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from pledges import errors
from pledges.domain.content import (
    CONTENT_PARAM,
    PledgeContent,
    content_cache_key,
    pledge_content,
    signed_content,
)
from pledges.domain.countries import country_names
from pledges.domain.signers import issue_private_link_token, signature_for_token_or_404
from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.forms import ButtonForm
from pledges.infrastructure.abuse import limit_confirming, limit_signing
from pledges.infrastructure.http_cache import fill_csrf_token, render_for_everyone
from pledges.infrastructure.i18n import LOCALE_PARAM
from pledges.models import AllyRole, Pledge, SignatureStatus, TokenPurpose, Visibility
from pledges.presentation.sharing import pledge_qr_code, pledge_url
from pledges.signing import recover, service
from pledges.signing.examples import live_example, static_examples
from pledges.signing.forms import PUBLICATION_NOTES, SignForm
from pledges.signing.service import SignatureInput
from pledges.updates.service import RECENT_UPDATES, published_updates
from pledges.views import commit_or_show_error
from pledges.wall.cache import cached_render
from pledges.wall.service import public_pledge_or_404, public_pledge_ref_or_404

bp = Blueprint("signing", __name__)
# Signers and their partners may be read over the shoulder: every page here offers
# "Leave this page quickly" (templates/base.html).
bp.context_processor(lambda: {"quick_exit": True})

RATE_LIMIT_MESSAGE = lazy_gettext(
    "Many signatures came from your network or email domain in a short time, so we are "
    "pausing for a moment to keep automated sign-ups out. Nothing was saved yet: please "
    "send the form again in a few minutes."
)


@bp.route("/p/<slug>", methods=["GET", "POST"])
@limit_signing
def sign(slug: str):
    if request.method == "GET" and request.args.keys() <= {LOCALE_PARAM, CONTENT_PARAM}:
        return _sign_page_for_everyone(slug)
    pledge = public_pledge_or_404(slug, with_commitments=True)
    content = pledge_content(pledge)
    form = SignForm(pledge)
    if pledge.is_open and form.validate_on_submit():
        # Read before the commit, which expires the pledge: reading it after would load
        # the whole row again for its slug alone.
        thanks_url = url_for("signing.check_inbox", slug=pledge.slug)
        with commit_or_show_error(form) as outcome:
            service.sign(pledge, _signature_input(form, content))
        if outcome.committed:
            return redirect(thanks_url)
    if form.is_submitted() and not pledge.is_open:
        status = 409  # a closed pledge keeps its page but takes no signatures
    elif form.is_submitted() and form.errors:
        status = 400
    else:
        status = 200
    return _sign_page(pledge, form, content), status


def _sign_page(pledge: Pledge, form: SignForm, content: PledgeContent | None = None) -> str:
    """The pledge page with its sign form: the one place that renders it."""
    content = content or pledge_content(pledge)
    return render_template(
        "signing/pledge.html",
        pledge=pledge,
        content=content,
        form=form,
        tally=tally_for(pledge.id),
        recent_updates=published_updates(pledge, content.language, RECENT_UPDATES),
        **_examples(form),
    )


def _sign_page_for_everyone(slug: str) -> str:
    """The sign page as every visitor first sees it, rendered once per version of the
    pledge (its wall version) and language, with each visitor's CSRF token put in: a surge
    of readers costs a cache hit each, not a render."""
    ref = public_pledge_ref_or_404(slug)

    def render() -> str:
        pledge = db.session.get(Pledge, ref.id)
        return _sign_page(pledge, SignForm(pledge))  # its CSRF field takes the placeholder

    key = ":".join(["sign", ref.cache_stamp, content_cache_key()])
    page = cached_render(key, lambda: render_for_everyone(render), (LOCALE_PARAM, CONTENT_PARAM))
    return fill_csrf_token(page)


def render_sign_form_again(slug: str, message: str):
    """The sign page with the visitor's answers and ``message``, nothing saved."""
    pledge = public_pledge_or_404(slug)
    form = SignForm(pledge)
    form.form_errors.append(message)
    return _sign_page(pledge, form), 400


def _examples(form: SignForm) -> dict:
    """How entries look on the wall: one per visibility always; after a submit, the
    signer's own, from what they chose (once there is enough of it to show)."""
    country = form.country.data if form.country.data in country_names() else None
    role = form.role.data if form.role.data in set(AllyRole) else None
    examples = {"examples": static_examples(country, role), "live_example": None}
    if not form.is_submitted():
        return examples
    form.settle_show_role()
    visibility = form.visibility.data
    if form.name.data and country and role and visibility in set(Visibility):
        examples["live_example"] = live_example(
            form.pledge.id,
            name=form.name.data,
            organization=form.organization.data or "",
            country=country,
            role=role,
            visibility=visibility,
            show_role=bool(form.show_role.data),
        )
        publication = form.publication.data
        examples["publication_note"] = PUBLICATION_NOTES.get(publication, "")
    return examples


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
        show_role=form.chosen_show_role,
        publication=form.publication.data,
        discreet_mail=form.discreet_mail.data,
        wants_updates=bool(form.wants_updates.data),
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
    signature = signature_for_token_or_404(token, TokenPurpose.CONFIRM)
    form = ButtonForm()  # a POST, so mail scanners that open links confirm nothing
    if form.validate_on_submit() and signature.status == SignatureStatus.PENDING:
        service.confirm(signature)
        db.session.commit()
        return redirect(url_for("signing.next_steps", token=token))
    return render_template(
        "signing/confirm.html",
        signature=signature,
        pledge=signed_content(signature),
        form=form,
    )


@bp.get("/confirm/<token>/next")
def next_steps(token: str):
    """Where confirming lands: the private page, sharing, the first check-in, a partner."""
    signature = signature_for_token_or_404(token, TokenPurpose.CONFIRM)
    if signature.status in {SignatureStatus.PENDING, SignatureStatus.WITHDRAWN}:
        return redirect(url_for("signing.confirm", token=token))
    pledge = signed_content(signature)
    return render_template(
        "signing/next_steps.html",
        signature=signature,
        pledge=pledge,
        public=pledge_content(signature.pledge),
        public_url=pledge_url(signature.pledge),
        qr_code=pledge_qr_code(signature.pledge),
        form=ButtonForm(),
    )


@bp.post("/confirm/<token>/private-page")
@limit_confirming
def open_private_page(token: str):
    """A fresh private-page link, opened at once: the confirmation link's holder has the
    email that carries the private one too. A POST, so a page view issues no token."""
    signature = signature_for_token_or_404(token, TokenPurpose.CONFIRM)
    if signature.status == SignatureStatus.WITHDRAWN or not ButtonForm().validate_on_submit():
        return redirect(url_for("signing.confirm", token=token))
    private = issue_private_link_token(signature)
    db.session.commit()
    section = "partners" if request.form.get("section") == "partners" else None
    return redirect(url_for("me.manage", token=private, _anchor=section))


@bp.route("/lost-link", methods=["GET", "POST"])
@recover.limit_lost_links
def lost_link():
    """ "Lost your link?": the same answer, and the same work, whether the address signed."""
    form = recover.LostLinkForm()
    if form.validate_on_submit():
        recover.send_private_links(form.email.data)
        db.session.commit()
        return render_template("signing/lost_link_sent.html", email=form.email.data)
    return render_template("signing/lost_link.html", form=form), 400 if form.errors else 200


# A sign form refused before the view runs keeps the signer's answers on the page, with
# the reason, rather than losing them; any other page of this blueprint gets the app's
# error page.


@bp.errorhandler(429)
def rate_limited(error: HTTPException):
    if request.endpoint != "signing.sign" or errors.wants_json():
        return errors.handle_http_error(error)
    try:
        page, _status = render_sign_form_again(request.view_args["slug"], str(RATE_LIMIT_MESSAGE))
    except HTTPException:  # no public pledge there: the plain 429 page
        return errors.error_page(error, 429)
    return page, 429


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    if request.endpoint != "signing.sign" or errors.wants_json():
        return errors.handle_csrf_error(error)
    try:
        return render_sign_form_again(request.view_args["slug"], str(errors.CSRF_MESSAGE))
    except HTTPException as not_public:  # handlers' own errors are not handled again
        return errors.handle_http_error(not_public)
