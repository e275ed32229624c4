from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from pledges.forms import has_control_characters, no_control_characters, strip


class LoginForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Email"),
        filters=[strip],
        validators=[DataRequired(lazy_gettext("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[DataRequired(lazy_gettext("Enter your password.")), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(lazy_gettext("Log in"))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if has_control_characters(self.email.data):
            # No account has such an address (and the database may not even search for
            # one): answer as for any other address that has no account.
            self.form_errors.append(
                gettext("That email address and password don't match an active account.")
            )
            return False
        return True


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Email"),
        filters=[strip],
        validators=[
            DataRequired(lazy_gettext("Enter your email address.")),
            Length(max=254),
            no_control_characters,
        ],
        render_kw={"autocomplete": "username"},
    )
    submit = SubmitField(lazy_gettext("Email me a reset link"))


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password"),
        description=lazy_gettext(
            "At least 12 characters. A few unrelated words make a strong one."
        ),
        validators=[DataRequired(lazy_gettext("Choose a password."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        lazy_gettext("New password again"),
        validators=[
            DataRequired(lazy_gettext("Type the password again.")),
            EqualTo("password", lazy_gettext("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(lazy_gettext("Set password"))


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        lazy_gettext("Current password"),
        validators=[DataRequired(lazy_gettext("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(lazy_gettext("Change password"))


class LogoutForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Log out"))


class EndSessionsForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Log out everywhere else"))
