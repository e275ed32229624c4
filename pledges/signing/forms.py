from __future__ import annotations

from functools import cache

from flask_babel import force_locale, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from pledges.domain.countries import country_names, current_locale
from pledges.domain.signers import SigningError, check_commitments, check_visibility
from pledges.forms import (
    MultiCheckboxField,
    StaticOptionsSelect,
    clean_line,
    clean_text,
    no_control_characters,
    strip,
)
from pledges.models import (
    EMAIL_MAX,
    NAME_MAX,
    NOTE_MAX,
    ORGANIZATION_MAX,
    AllyRole,
    Pledge,
    Visibility,
)
from pledges.presentation.display import ROLE_LABELS, VISIBILITY_LABELS

# Lazy labels: built once, shown in the language of each request.
ROLE_CHOICES = [SelectChoice(role.value, ROLE_LABELS.lazy(role)) for role in AllyRole]
VISIBILITY_CHOICES = [SelectChoice(v.value, VISIBILITY_LABELS.lazy(v)) for v in Visibility]


def _in_locale(locale: str, message) -> str:
    with force_locale(locale):
        return str(message)


def _country_choices() -> tuple[SelectChoice, ...]:
    return _country_choices_in(current_locale())


@cache
def _country_choices_in(locale: str) -> tuple[SelectChoice, ...]:
    return (
        # A plain string in that language: the rendered option list is cached per choices.
        SelectChoice("", _in_locale(locale, lazy_gettext("Choose your country…"))),
        *(SelectChoice(code, name) for code, name in country_names(locale).items()),
    )


class VisibilityFields:
    """Shared by signing and by the signer's page: the rule lives in pledges/domain/signers.py."""

    def validate_organization(self, field) -> None:
        try:
            check_visibility(self.visibility.data or "", field.data or "")
        except SigningError as exc:
            raise ValidationError(exc.message) from exc


class SignForm(VisibilityFields, FlaskForm):
    name = StringField(
        lazy_gettext("Your full name"),
        filters=[clean_line],
        validators=[
            DataRequired(lazy_gettext("Tell us your name.")),
            Length(max=NAME_MAX),
            no_control_characters,
        ],
        description=lazy_gettext("Shown in public only as you choose below."),
        # WCAG 1.3.5: the signer's own details, named so phones and browsers can fill them in.
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        lazy_gettext("Email"),
        filters=[strip],
        validators=[
            DataRequired(
                lazy_gettext("Tell us your email address, so you can confirm your signature.")
            ),
            Length(max=EMAIL_MAX),
            Email(lazy_gettext("Enter a valid email address, like name@example.org.")),
        ],
        description=lazy_gettext(
            "Never shown publicly. We email you a link to confirm, and one to your private page."
        ),
        render_kw={"autocomplete": "email"},
    )
    country = SelectField(
        lazy_gettext("Country"),
        choices=_country_choices,
        validators=[InputRequired(lazy_gettext("Choose your country."))],
        widget=StaticOptionsSelect(),
        render_kw={"autocomplete": "country"},
    )
    role = RadioField(
        lazy_gettext("I sign as"),
        choices=ROLE_CHOICES,
        validators=[InputRequired(lazy_gettext("Choose how you sign (or “Prefers not to say”)."))],
    )
    organization = StringField(
        lazy_gettext("Organization (optional)"),
        filters=[clean_line],
        validators=[Optional(), Length(max=ORGANIZATION_MAX), no_control_characters],
        render_kw={"autocomplete": "organization"},
    )
    visibility = RadioField(
        lazy_gettext("On the public wall, show"),
        choices=VISIBILITY_CHOICES,
        default=Visibility.INITIAL.value,
        validators=[InputRequired(lazy_gettext("Choose how you want to appear on the wall."))],
        description=lazy_gettext(
            "Where being named is dangerous, choose anonymous: only your country is shown."
        ),
    )
    commitments = MultiCheckboxField(lazy_gettext("My commitments"), coerce=int)
    personal_note = TextAreaField(
        lazy_gettext("Why I sign (optional)"),
        filters=[clean_text],
        validators=[Optional(), Length(max=NOTE_MAX), no_control_characters],
        description=lazy_gettext(
            "Shown on the wall with your signature, as you chose to appear. "
            "Up to %(max)s characters.",
            max=NOTE_MAX,
        ),
    )
    # A honeypot: hidden from people (and from screen readers), filled in by bots.
    website = StringField(
        lazy_gettext("Leave this field empty"),
        render_kw={"tabindex": "-1", "autocomplete": "off"},
    )
    consent = BooleanField(
        lazy_gettext(
            "I agree that this pledge keeps my name and email to confirm and show my signature "
            "as I chose, and that I can withdraw at any time."
        ),
        validators=[
            DataRequired(lazy_gettext("Please agree, or we cannot record your signature."))
        ],
    )

    def __init__(self, pledge: Pledge, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pledge = pledge
        self.commitments.choices = [SelectChoice(c.id, c.text) for c in pledge.offered_commitments]
        if not self.is_submitted():
            self.commitments.data = [c.id for c in pledge.offered_commitments if c.required]

    def validate_website(self, field) -> None:
        if field.data:
            raise ValidationError(
                lazy_gettext("This field must stay empty: it is there to catch automated sign-ups.")
            )

    def validate_country(self, field) -> None:
        if field.data not in country_names():
            raise ValidationError(lazy_gettext("Choose your country from the list."))

    def validate_commitments(self, field) -> None:
        try:
            check_commitments(self.pledge, field.data or [])
        except SigningError as exc:
            raise ValidationError(exc.message) from exc
