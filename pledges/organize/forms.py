from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
)

from pledges.domain.slugs import SLUG_HINT, SLUG_PATTERN
from pledges.forms import (
    WholeNumberField,
    clean_line,
    clean_text,
    no_control_characters,
    strip,
)
from pledges.models import (
    COMMITMENT_MAX,
    EMAIL_MAX,
    GUIDELINES_MAX,
    PREAMBLE_MAX,
    SLUG_MAX,
    TITLE_MAX,
    Organization,
)

GOAL_MAX = 100_000_000
CADENCE_MAX_DAYS = 366


class PledgeForm(FlaskForm):
    title = StringField(
        lazy_gettext("Title"),
        filters=[clean_line],
        validators=[
            DataRequired(lazy_gettext("Give the pledge a title.")),
            Length(max=TITLE_MAX),
            no_control_characters,
        ],
    )
    slug = StringField(
        lazy_gettext("Address"),
        filters=[strip, lambda value: value.lower() if value else value],
        validators=[
            Optional(),
            Length(max=SLUG_MAX),
            Regexp(SLUG_PATTERN, message=SLUG_HINT),
        ],
        description=lazy_gettext(
            "The pledge's public address is /p/ followed by this. "
            "Leave it empty to make one from the title. It cannot change once the pledge is open."
        ),
    )
    preamble = TextAreaField(
        lazy_gettext("Preamble"),
        filters=[clean_text],
        validators=[
            DataRequired(lazy_gettext("Write the preamble signers read first.")),
            Length(max=PREAMBLE_MAX),
            no_control_characters,
        ],
        description=lazy_gettext("Why this pledge exists. A blank line starts a new paragraph."),
    )
    guidelines = TextAreaField(
        lazy_gettext("Guidelines for signers (optional)"),
        filters=[clean_text],
        validators=[Optional(), Length(max=GUIDELINES_MAX), no_control_characters],
        description=lazy_gettext("Shown above the form as “Before you sign”."),
    )
    goal = WholeNumberField(
        lazy_gettext("Goal (optional)"),
        validators=[Optional()],
        min=1,
        max=GOAL_MAX,
        message=lazy_gettext("The goal is a number of signatures, 1 or more."),
        description=lazy_gettext("How many signatures you aim for; shown as a progress bar."),
    )
    checkin_cadence_days = WholeNumberField(
        lazy_gettext("Check-in every (days)"),
        default=30,
        validators=[InputRequired(lazy_gettext("Say how often signers are asked to check in."))],
        min=1,
        max=CADENCE_MAX_DAYS,
        message=lazy_gettext("Choose between 1 and %(max)s days.", max=CADENCE_MAX_DAYS),
        description=lazy_gettext(
            "The length of a commitment cycle: signers get a reminder at its end."
        ),
    )
    premoderation = BooleanField(
        lazy_gettext("Moderate new signatures before they appear on the wall"),
        description=lazy_gettext("Confirmed signatures then wait for a moderator's approval."),
    )


class CommitmentForm(FlaskForm):
    text = StringField(
        lazy_gettext("New commitment"),
        filters=[clean_line],
        validators=[
            DataRequired(lazy_gettext("Write the commitment.")),
            Length(max=COMMITMENT_MAX),
            no_control_characters,
        ],
        description=lazy_gettext(
            "One sentence a signer takes on, such as “I will listen to women peacebuilders first.”"
        ),
    )
    required = BooleanField(lazy_gettext("Required: part of every signature"))


class RewordForm(FlaskForm):
    text = StringField(
        lazy_gettext("Wording"),
        filters=[clean_line],
        validators=[
            DataRequired(lazy_gettext("A commitment cannot be empty.")),
            Length(max=COMMITMENT_MAX),
            no_control_characters,
        ],
        description=lazy_gettext(
            "Those who signed keep the words they agreed to; new signers get these."
        ),
    )


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(["up", "down"])])


class OrganizerForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Their email"),
        filters=[strip],
        validators=[
            DataRequired(lazy_gettext("Tell us their email address.")),
            Length(max=EMAIL_MAX),
            no_control_characters,
        ],
        description=lazy_gettext(
            "They need an organizer account already; they then run this pledge with you."
        ),
    )


class CosignerForm(FlaskForm):
    organization = SelectField(
        lazy_gettext("Organization"),
        coerce=int,
        validators=[InputRequired(lazy_gettext("Choose an organization."))],
    )

    def __init__(self, organizations: list[Organization], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization.choices = [(o.id, o.name) for o in organizations]


class PledgeLanguageForm(FlaskForm):
    """The language the pledge itself is written in (choices: CONTENT_LANGUAGES)."""

    language = SelectField(lazy_gettext("The pledge is written in"))


class TranslationForm(FlaskForm):
    """The pledge's words in one other language; a commitment left empty stays untranslated."""

    locale = SelectField(lazy_gettext("Language"))
    title = StringField(
        lazy_gettext("Title"),
        filters=[clean_line],
        validators=[
            DataRequired(lazy_gettext("Translate the title.")),
            Length(max=TITLE_MAX),
            no_control_characters,
        ],
    )
    preamble = TextAreaField(
        lazy_gettext("Preamble"),
        filters=[clean_text],
        validators=[
            DataRequired(lazy_gettext("Translate the preamble.")),
            Length(max=PREAMBLE_MAX),
            no_control_characters,
        ],
    )
    guidelines = TextAreaField(
        lazy_gettext("Guidelines for signers (optional)"),
        filters=[clean_text],
        validators=[Optional(), Length(max=GUIDELINES_MAX), no_control_characters],
    )
    # One entry per commitment, in the pledge's order (see routes.translations).
    commitments = FieldList(
        TextAreaField(
            filters=[clean_line],
            validators=[Optional(), Length(max=COMMITMENT_MAX), no_control_characters],
        )
    )
