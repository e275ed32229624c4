from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, Optional, ValidationError

from pledges.countries import country_names
from pledges.forms import StaticOptionsSelect, clean_line, clean_text, no_control_characters, strip
from pledges.models import NOTE_MAX, ORGANIZATION_MAX

WEBSITE_MAX = 300  # organizations.website


@cache
def _country_choices() -> tuple[SelectChoice, ...]:
    # The sign form's list of countries, with "none" first: an organization may span many.
    return (
        SelectChoice("", "No single country"),
        *(SelectChoice(code, name) for code, name in country_names().items()),
    )


class OrganizationForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[clean_line],
        validators=[
            DataRequired("Give the organization's name."),
            Length(max=ORGANIZATION_MAX),
            no_control_characters,
        ],
        description="Signers who type this name when they sign are linked to the organization.",
    )
    country = SelectField(
        "Country (optional)", choices=_country_choices, widget=StaticOptionsSelect()
    )
    website = URLField(
        "Website (optional)",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=WEBSITE_MAX),
            URL(message="Enter a full web address, like https://example.org."),
        ],
    )
    description = TextAreaField(
        "Short description (optional)",
        filters=[clean_text],
        validators=[Optional(), Length(max=NOTE_MAX), no_control_characters],
        description=f"Shown on its public page. Up to {NOTE_MAX} characters.",
    )

    def validate_country(self, field) -> None:
        if field.data and field.data not in country_names():
            raise ValidationError("Choose a country from the list.")

    def validate_website(self, field) -> None:
        if field.data and urlsplit(field.data).scheme.lower() not in ("http", "https"):
            raise ValidationError("Only http:// and https:// addresses can be linked.")
