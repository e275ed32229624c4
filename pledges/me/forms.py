"""The forms of the signer's private page."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from pledges.forms import clean_line, no_control_characters
from pledges.models import ORGANIZATION_MAX
from pledges.signing.forms import VISIBILITY_CHOICES, VisibilityFields


class VisibilityForm(VisibilityFields, FlaskForm):
    visibility = RadioField(lazy_gettext("On the public wall, show"), choices=VISIBILITY_CHOICES)
    organization = StringField(
        lazy_gettext("Organization"),
        filters=[clean_line],
        validators=[Optional(), Length(max=ORGANIZATION_MAX), no_control_characters],
    )


class WithdrawForm(FlaskForm):
    understood = BooleanField(
        lazy_gettext(
            "I understand that my name, email and note will be deleted and cannot be restored."
        ),
        validators=[DataRequired(lazy_gettext("Tick the box to confirm you want to withdraw."))],
    )
