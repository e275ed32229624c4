from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from pledges.forms import clean_line, clean_text, no_control_characters, strip
from pledges.models import COMMITMENT_MAX, EMAIL_MAX, SLUG_MAX, TITLE_MAX, Organization
from pledges.slugs import SLUG_HINT, SLUG_PATTERN

GOAL_MAX = 100_000_000
CADENCE_MAX_DAYS = 366


class PledgeForm(FlaskForm):
    title = StringField(
        "Title",
        filters=[clean_line],
        validators=[
            DataRequired("Give the pledge a title."),
            Length(max=TITLE_MAX),
            no_control_characters,
        ],
    )
    slug = StringField(
        "Address",
        filters=[strip, lambda value: value.lower() if value else value],
        validators=[
            Optional(),
            Length(max=SLUG_MAX),
            Regexp(SLUG_PATTERN, message=SLUG_HINT),
        ],
        description=(
            "The pledge's public address is /p/ followed by this. "
            "Leave it empty to make one from the title. It cannot change once the pledge is open."
        ),
    )
    preamble = TextAreaField(
        "Preamble",
        filters=[clean_text],
        validators=[DataRequired("Write the preamble signers read first."), no_control_characters],
        description="Why this pledge exists. A blank line starts a new paragraph.",
    )
    guidelines = TextAreaField(
        "Guidelines for signers (optional)",
        filters=[clean_text],
        validators=[Optional(), no_control_characters],
        description="Shown above the form as “Before you sign”.",
    )
    goal = IntegerField(
        "Goal (optional)",
        validators=[
            Optional(),
            NumberRange(
                min=1, max=GOAL_MAX, message="The goal is a number of signatures, 1 or more."
            ),
        ],
        description="How many signatures you aim for; shown as a progress bar.",
    )
    checkin_cadence_days = IntegerField(
        "Check-in every (days)",
        default=30,
        validators=[
            InputRequired("Say how often signers are asked to check in."),
            NumberRange(
                min=1,
                max=CADENCE_MAX_DAYS,
                message=f"Choose between 1 and {CADENCE_MAX_DAYS} days.",
            ),
        ],
        description="The length of a commitment cycle: signers get a reminder at its end.",
    )
    premoderation = BooleanField(
        "Moderate new signatures before they appear on the wall",
        description="Confirmed signatures then wait for a moderator's approval.",
    )


class CommitmentForm(FlaskForm):
    text = StringField(
        "New commitment",
        filters=[clean_line],
        validators=[
            DataRequired("Write the commitment."),
            Length(max=COMMITMENT_MAX),
            no_control_characters,
        ],
        description=(
            "One sentence a signer takes on, such as “I will listen to women peacebuilders first.”"
        ),
    )
    required = BooleanField("Required: part of every signature")


class RewordForm(FlaskForm):
    text = StringField(
        "Wording",
        filters=[clean_line],
        validators=[
            DataRequired("A commitment cannot be empty."),
            Length(max=COMMITMENT_MAX),
            no_control_characters,
        ],
        description="Those who signed keep the words they agreed to; new signers get these.",
    )


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(["up", "down"])])


class ButtonForm(FlaskForm):
    """A lone button (open, close, retire, remove…): the form is there for its CSRF token."""


class OrganizerForm(FlaskForm):
    email = EmailField(
        "Their email",
        filters=[strip],
        validators=[DataRequired("Tell us their email address."), Length(max=EMAIL_MAX)],
        description="They need an organizer account already; they then run this pledge with you.",
    )


class CosignerForm(FlaskForm):
    organization = SelectField(
        "Organization",
        coerce=int,
        validators=[InputRequired("Choose an organization.")],
    )

    def __init__(self, organizations: list[Organization], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization.choices = [(o.id, o.name) for o in organizations]
