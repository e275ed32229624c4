"""The forms of the signer's private page."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from pledges.forms import clean_line, no_control_characters
from pledges.models import ORGANIZATION_MAX
from pledges.signing.forms import (
    DISCREET_MAIL_HINT,
    PUBLICATION_CHOICES,
    VISIBILITY_CHOICES,
    VisibilityFields,
)


class VisibilityForm(VisibilityFields, FlaskForm):
    visibility = RadioField(lazy_gettext("On the public wall, show"), choices=VISIBILITY_CHOICES)
    organization = StringField(
        lazy_gettext("Organization"),
        filters=[clean_line],
        # No Optional(): it would end the checks on an empty field before validate_organization
        # says that "Only my organization" needs one, leaving that to a second round.
        validators=[Length(max=ORGANIZATION_MAX), no_control_characters],
    )
    show_role = BooleanField(
        lazy_gettext("Show that I sign as a man, a woman or another gender"),
        description=lazy_gettext(
            "Beside your country, it could help someone find you if you are anonymous or "
            "shown by your organization."
        ),
    )


class PublicationForm(FlaskForm):
    publication = RadioField(
        lazy_gettext("When may the wall show me?"),
        choices=PUBLICATION_CHOICES,
        validators=[InputRequired(lazy_gettext("Choose when the wall may show you."))],
        description=lazy_gettext(
            "You count in the total whatever you choose. A change never puts you on the "
            "wall before today."
        ),
    )


class DiscreetMailForm(FlaskForm):
    discreet_mail = BooleanField(
        lazy_gettext("Send me discreet emails"),
        description=DISCREET_MAIL_HINT,
    )


class WithdrawForm(FlaskForm):
    understood = BooleanField(
        lazy_gettext(
            "I understand that my name, email and note will be deleted and cannot be restored."
        ),
        validators=[DataRequired(lazy_gettext("Tick the box to confirm you want to withdraw."))],
    )
