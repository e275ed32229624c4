from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from pledges.actions.service import ActionError, check_done_on, clean_evidence_url
from pledges.forms import WholeNumberField, clean_text, no_control_characters, strip
from pledges.models import (
    ACTION_DESCRIPTION_MAX,
    PEOPLE_REACHED_MAX,
    ActionKind,
    ActionVisibility,
    SignedCommitment,
)
from pledges.presentation.display import ACTION_KIND_LABELS

KIND_CHOICES = [SelectChoice(k.value, ACTION_KIND_LABELS.lazy(k)) for k in ActionKind]
VISIBILITY_CHOICES = [
    SelectChoice(
        ActionVisibility.PUBLIC.value,
        lazy_gettext("Public: shown with the pledge, as you chose to appear"),
    ),
    SelectChoice(
        ActionVisibility.PRIVATE.value,
        lazy_gettext("Private: only you (and partners you invite) see it"),
    ),
]


def _as_validation_error(check, *args) -> None:
    try:
        check(*args)
    except ActionError as exc:
        raise ValidationError(exc.message) from exc


class ActionForm(FlaskForm):
    commitment_id = SelectField(
        lazy_gettext("Which commitment did this keep?"),
        coerce=int,
        validators=[InputRequired(lazy_gettext("Choose one of your commitments."))],
    )
    kind = SelectField(
        lazy_gettext("What kind of action"),
        choices=KIND_CHOICES,
        validators=[InputRequired(lazy_gettext("Choose what kind of action it was."))],
    )
    done_on = DateField(
        lazy_gettext("When"),
        validators=[InputRequired(lazy_gettext("Give the date, as year-month-day."))],
        description=lazy_gettext("The day you did it; not in the future."),
    )
    description = TextAreaField(
        lazy_gettext("What you did"),
        filters=[clean_text],
        validators=[
            DataRequired(lazy_gettext("Describe what you did, in a sentence or two.")),
            Length(max=ACTION_DESCRIPTION_MAX),
            no_control_characters,
        ],
    )
    people_reached = WholeNumberField(
        lazy_gettext("People reached (optional)"),
        validators=[Optional()],
        min=0,
        max=PEOPLE_REACHED_MAX,
        message=lazy_gettext("Give a whole number from 0 to 10,000,000."),
    )
    evidence_url = StringField(
        lazy_gettext("Link to evidence (optional)"),
        filters=[strip],
        description=lazy_gettext("A web page, photo or article about it (http:// or https://)."),
    )
    visibility = RadioField(
        lazy_gettext("Who can see this action"),
        choices=VISIBILITY_CHOICES,
        default=ActionVisibility.PRIVATE.value,
        validators=[InputRequired(lazy_gettext("Choose who can see this action."))],
    )

    def __init__(self, commitments: list[SignedCommitment], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.commitment_id.choices = [SelectChoice(c.id, c.text) for c in commitments]

    def validate_done_on(self, field) -> None:
        if field.data:
            _as_validation_error(check_done_on, field.data)

    def validate_evidence_url(self, field) -> None:
        _as_validation_error(clean_evidence_url, field.data)
