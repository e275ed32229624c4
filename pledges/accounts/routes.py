"""Logging in and out, resetting a forgotten password, and the account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from pledges.accounts import service, sessions
from pledges.accounts.forms import (
    ChangePasswordForm,
    EndSessionsForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    NewPasswordForm,
)
from pledges.domain.rules import RuleError
from pledges.extensions import db, limiter
from pledges.forms import attach_error
from pledges.infrastructure import audit
from pledges.infrastructure.abuse import configured
from pledges.infrastructure.http_cache import session_cookie_sent

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target:
        try:
            parts = urlsplit(target)
        except ValueError:  # unbalanced brackets ("//["): not a path of ours either
            return url_for("organize.index")
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("organize.index")


def start_session(user) -> None:
    """Log ``user`` in on this browser: a new row in user_sessions, its secret in the cookie."""
    secret = sessions.open_session(user)
    db.session.commit()
    session.clear()  # nothing of a previous session carries over
    login_user(user)
    session.permanent = True  # the cookie outlives the browser; the row decides how long
    session[sessions.SESSION_ID_KEY] = secret


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(configured("LOGIN_LIMIT_PER_IP"), methods=["POST"], scope="login-ip")
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.email.data, form.password.data)
        except RuleError as error:
            attach_error(form, error)
            db.session.commit()
        else:
            db.session.commit()
            start_session(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    if LogoutForm().validate_on_submit():
        sessions.close_current_session()
        db.session.commit()
        logout_user()
        session.clear()
        flash(gettext("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(configured("LOGIN_LIMIT_PER_IP"), methods=["POST"], scope="reset-ip")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        service.send_reset_link(form.email.data)
        db.session.commit()
        return render_template("accounts/reset_sent.html", email=form.email.data)
    return render_template("accounts/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = service.user_for_reset_token(token)
    if user is None:
        return render_template("accounts/reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            service.set_password(user, form.password.data)
        except RuleError as error:
            attach_error(form, error)
        else:
            audit.record("user.password_reset", target=user, actor=user)
            service.record_login(user)  # an invitee's first login: no longer "invited"
            db.session.commit()
            start_session(user)
            flash(gettext("Your new password is set, and you are logged in."), "success")
            return redirect(url_for("organize.index"))
    return render_template("accounts/reset.html", form=form), 422 if form.errors else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            service.check_current_password(user, form.current.data)
            service.set_password(user, form.password.data)
        except RuleError as error:
            attach_error(form, error)
        else:
            audit.record("user.password_change", target=user)
            db.session.commit()
            start_session(user)  # this session goes on; every other one has ended
            flash(gettext("Password changed. Every other session is logged out."), "success")
            return redirect(url_for("accounts.account"))
    return render_template(
        "accounts/account.html", form=form, end_form=EndSessionsForm()
    ), 422 if form.errors else 200


@bp.post("/account/sessions")
@login_required
def end_other_sessions():
    if EndSessionsForm().validate_on_submit():
        user = current_user._get_current_object()
        service.end_sessions(user)
        audit.record("user.sessions_end", target=user)
        db.session.commit()
        start_session(user)
        flash(gettext("Every other session is logged out."), "success")
    return redirect(url_for("accounts.account"))


def end_stale_session() -> None:
    """Before each request: a cookie whose server-side session has ended (logged out,
    idle past SESSION_IDLE_MINUTES, older than SESSION_MAX_HOURS) is cleared."""
    # Asked only of a browser that sent a session cookie: reading the session marks the
    # answer "Vary: Cookie", which no shared cache would store for a public page.
    if not session_cookie_sent() or request.endpoint == "static" or "_user_id" not in session:
        return
    if current_user.is_authenticated:
        sessions.touch_current_session()
    else:
        logout_user()
        session.clear()
