from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from pledges.forms import clean_line, no_control_characters, strip
from pledges.models import EMAIL_MAX, NAME_MAX, UserRole

ROLE_CHOICES = [
    SelectChoice(UserRole.ORGANIZER.value, "Organizer: runs the pledges they create or join"),
    SelectChoice(UserRole.ADMIN.value, "Admin: every pledge, user accounts and the mail outbox"),
]


class InviteUserForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[strip],
        validators=[
            DataRequired("Enter their email address."),
            Email("Enter a valid email address."),
            Length(max=EMAIL_MAX),
        ],
    )
    name = StringField(
        "Name",
        filters=[clean_line],
        validators=[Length(max=NAME_MAX), no_control_characters],
        description="Optional: how they are greeted and shown to other organizers.",
    )
    role = RadioField("Role", choices=ROLE_CHOICES, default=UserRole.ORGANIZER.value)
    submit = SubmitField("Create the account and send the invitation")


class RoleForm(FlaskForm):
    role = SelectField(
        "Role", choices=[SelectChoice(r.value, r.value.capitalize()) for r in UserRole]
    )
    submit = SubmitField("Change role")


class ButtonForm(FlaskForm):
    """A lone button (deactivate, reactivate, invite again, retry): the CSRF token is all."""

    submit = SubmitField()
