from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from flask_babel import force_locale, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from pledges.domain.countries import country_names, current_locale
from pledges.forms import CountrySelectField, clean_line, clean_text, no_control_characters, strip
from pledges.models import NOTE_MAX, ORGANIZATION_MAX

WEBSITE_MAX = 300  # organizations.website


def _in_locale(locale: str, message) -> str:
    with force_locale(locale):
        return str(message)


def _country_choices() -> tuple[SelectChoice, ...]:
    return _country_choices_in(current_locale())


@cache
def _country_choices_in(locale: str) -> tuple[SelectChoice, ...]:
    # The sign form's list of countries, with "none" first: an organization may span many.
    return (
        # A plain string in that language: the rendered option list is cached per choices.
        SelectChoice("", _in_locale(locale, lazy_gettext("No single country"))),
        *(SelectChoice(code, name) for code, name in country_names(locale).items()),
    )


class OrganizationForm(FlaskForm):
    name = StringField(
        lazy_gettext("Name"),
        filters=[clean_line],
        validators=[
            DataRequired(lazy_gettext("Give the organization's name.")),
            Length(max=ORGANIZATION_MAX),
            no_control_characters,
        ],
        description=lazy_gettext(
            "Signers who type this name when they sign are linked to the organization."
        ),
    )
    country = CountrySelectField(lazy_gettext("Country (optional)"), choices=_country_choices)
    website = URLField(
        lazy_gettext("Website (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=WEBSITE_MAX),
            URL(message=lazy_gettext("Enter a full web address, like https://example.org.")),
        ],
    )
    description = TextAreaField(
        lazy_gettext("Short description (optional)"),
        filters=[clean_text],
        validators=[Optional(), Length(max=NOTE_MAX), no_control_characters],
        description=lazy_gettext(
            "Shown on its public page. Up to %(max)s characters.", max=NOTE_MAX
        ),
    )

    def validate_country(self, field) -> None:
        if field.data and field.data not in country_names():
            raise ValidationError(lazy_gettext("Choose a country from the list."))

    def validate_website(self, field) -> None:
        if not field.data:
            return
        try:
            scheme = urlsplit(field.data).scheme.lower()
        except ValueError:  # "http://[::1": unbalanced brackets
            if field.errors:  # URL() has said so already
                raise StopValidation() from None
            raise ValidationError(
                lazy_gettext("Enter a full web address, like https://example.org.")
            ) from None
        if scheme not in ("http", "https"):
            raise ValidationError(
                lazy_gettext("Only http:// and https:// addresses can be linked.")
            )
