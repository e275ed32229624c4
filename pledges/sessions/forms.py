from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from pledges.forms import MultiCheckboxField, WholeNumberField, clean_line, no_control_characters
from pledges.models import (
    NAME_MAX,
    PLACE_MAX,
    SESSION_MINUTES_MAX,
    SESSION_SERIES_MAX,
    TITLE_MAX,
    URL_MAX,
    FacilitatorRole,
    RsvpAnswer,
)

FACILITATOR_ROWS = 4

FACILITATOR_ROLE_LABELS = {
    FacilitatorRole.WOMAN.value: lazy_gettext("Woman ally"),
    FacilitatorRole.MAN.value: lazy_gettext("Man ally"),
    FacilitatorRole.OTHER.value: lazy_gettext("Another gender"),
}
FACILITATOR_ROLE_CHOICES = [SelectChoice(v, label) for v, label in FACILITATOR_ROLE_LABELS.items()]


class FacilitatorForm(Form):
    """One facilitator row; a row left without a name is ignored."""

    name = StringField(
        lazy_gettext("Facilitator's name"),
        filters=[clean_line],
        validators=[Optional(), Length(max=NAME_MAX), no_control_characters],
    )
    role = SelectField(
        lazy_gettext("Facilitates as"), choices=FACILITATOR_ROLE_CHOICES, validate_choice=False
    )

    def validate_role(self, field) -> None:
        """A role for each facilitator named; a row without a name is ignored whole."""
        if self.name.data and field.data not in FACILITATOR_ROLE_LABELS:
            raise ValidationError(lazy_gettext("Choose how this facilitator takes part."))


class SessionForm(FlaskForm):
    title = StringField(
        lazy_gettext("Title"),
        filters=[clean_line],
        validators=[
            DataRequired(lazy_gettext("Give the session a title.")),
            Length(max=TITLE_MAX),
            no_control_characters,
        ],
    )
    start_date = DateField(
        lazy_gettext("Date"),
        validators=[InputRequired(lazy_gettext("Give the date, as year-month-day."))],
    )
    start_time = TimeField(
        lazy_gettext("Start time"),
        validators=[InputRequired(lazy_gettext("Give the start time, as hours:minutes."))],
        description=lazy_gettext("The local time where the session is held."),
    )
    timezone = SelectField(
        lazy_gettext("Time zone"),
        validators=[InputRequired(lazy_gettext("Choose a time zone from the list."))],
    )
    duration_minutes = WholeNumberField(
        lazy_gettext("Length in minutes"),
        validators=[InputRequired(lazy_gettext("Give the length in minutes."))],
        min=1,
        max=SESSION_MINUTES_MAX,
        message=lazy_gettext(
            "Give the length as a whole number of minutes from 1 to %(max)s.",
            max=SESSION_MINUTES_MAX,
        ),
        default=90,
    )
    place = StringField(
        lazy_gettext("Place (optional)"),
        filters=[clean_line],
        validators=[Length(max=PLACE_MAX), no_control_characters],
        description=lazy_gettext(
            "Shown on the public session page and calendar: for a venue that must stay "
            "discreet, give only the town and tell signers the rest in person."
        ),
    )
    online_url = StringField(
        lazy_gettext("Online link (optional)"),
        filters=[lambda value: value.strip() if value else value],
        validators=[Length(max=URL_MAX)],
        description=lazy_gettext(
            "A web address starting with https://. Only signers (on their private page) and "
            "organizers see it; the public page says only that the session is online."
        ),
    )
    language = SelectField(lazy_gettext("Language"))
    facilitators = FieldList(
        FormField(FacilitatorForm),
        min_entries=FACILITATOR_ROWS,
        max_entries=FACILITATOR_ROWS,
        label=lazy_gettext("Facilitators"),
    )
    occurrences = WholeNumberField(
        lazy_gettext("Number of sessions in the series"),
        validators=[InputRequired(lazy_gettext("Give the number of sessions."))],
        min=1,
        max=SESSION_SERIES_MAX,
        message=lazy_gettext(
            "Give a whole number of sessions from 1 to %(max)s.", max=SESSION_SERIES_MAX
        ),
        default=1,
    )


class RsvpForm(FlaskForm):
    answer = SelectField(
        choices=[SelectChoice(a.value, a.value) for a in RsvpAnswer],
        validators=[InputRequired(), AnyOf([a.value for a in RsvpAnswer])],
    )


class AttendanceForm(FlaskForm):
    present = MultiCheckboxField(lazy_gettext("Present"), coerce=int, validate_choice=False)
