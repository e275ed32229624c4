from __future__ import annotations

from flask_babel import get_locale, lazy_gettext, pgettext
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from pledges.forms import clean_line, no_control_characters, strip
from pledges.infrastructure.i18n import language_name, supported_locales
from pledges.models import EMAIL_MAX, NAME_MAX, UserRole

ROLE_CHOICES = [
    SelectChoice(
        UserRole.ORGANIZER.value, lazy_gettext("Organizer: runs the pledges they create or join")
    ),
    SelectChoice(
        UserRole.ADMIN.value, lazy_gettext("Admin: every pledge, user accounts and the mail outbox")
    ),
]


class InviteUserForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Email"),
        filters=[strip],
        validators=[
            DataRequired(lazy_gettext("Enter their email address.")),
            Email(lazy_gettext("Enter a valid email address.")),
            Length(max=EMAIL_MAX),
        ],
    )
    name = StringField(
        lazy_gettext("Name"),
        filters=[clean_line],
        validators=[Length(max=NAME_MAX), no_control_characters],
        description=lazy_gettext("Optional: how they are greeted and shown to other organizers."),
    )
    role = RadioField(lazy_gettext("Role"), choices=ROLE_CHOICES, default=UserRole.ORGANIZER.value)
    language = SelectField(
        lazy_gettext("Their language"),
        description=lazy_gettext("The invitation is written in it."),
    )
    submit = SubmitField(lazy_gettext("Create the account and send the invitation"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Each language named in itself, as the language menu does; yours by default.
        self.language.choices = [(code, language_name(code)) for code in supported_locales()]
        if self.language.data is None:
            self.language.data = str(get_locale())


class RoleForm(FlaskForm):
    role = SelectField(
        lazy_gettext("Role"), choices=[SelectChoice(r.value, r.value) for r in UserRole]
    )
    submit = SubmitField(lazy_gettext("Change role"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Named in the reader's language; "Admin" alone is also the name of a section.
        labels = {
            UserRole.ADMIN: pgettext("user role", "Admin"),
            UserRole.ORGANIZER: pgettext("user role", "Organizer"),
        }
        self.role.choices = [SelectChoice(r.value, labels.get(r, r.value)) for r in UserRole]
