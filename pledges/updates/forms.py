from __future__ import annotations

import re

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from pledges.forms import clean_line, clean_text, no_control_characters
from pledges.infrastructure.i18n import language_name
from pledges.models import TITLE_MAX, UPDATE_BODY_MAX, Pledge
from pledges.updates.service import MAX_GOALS, UpdateText, languages_of

GOAL_MAX = 100_000_000


def update_form(pledge: Pledge, *args, **kwargs) -> FlaskForm:
    """A title and a text for each of the pledge's languages, its own first (required by
    the service; translations may stay empty)."""

    class UpdateForm(FlaskForm):
        def texts(self) -> dict[str, UpdateText]:
            return {
                locale: UpdateText(
                    self[f"title_{locale}"].data or "", self[f"body_{locale}"].data or ""
                )
                for locale in self.locales
            }

    locales = languages_of(pledge)
    UpdateForm.locales = locales
    for locale in locales:
        name = language_name(locale)
        setattr(
            UpdateForm,
            f"title_{locale}",
            StringField(
                lazy_gettext("Title (%(language)s)", language=name),
                filters=[clean_line],
                validators=[Optional(), Length(max=TITLE_MAX), no_control_characters],
            ),
        )
        setattr(
            UpdateForm,
            f"body_{locale}",
            TextAreaField(
                lazy_gettext("Text (%(language)s)", language=name),
                filters=[clean_text],
                validators=[Optional(), Length(max=UPDATE_BODY_MAX), no_control_characters],
            ),
        )
    return UpdateForm(*args, **kwargs)


def parse_goals(text: str) -> list[int]:
    """ "100, 500, 1000" -> [100, 500, 1000]; plain ASCII digits only."""
    parts = [part for part in re.split(r"[\s,;]+", text.strip()) if part]
    goals = []
    for part in parts:
        if not re.fullmatch(r"[0-9]{1,9}", part) or not 0 < int(part) <= GOAL_MAX:
            raise ValueError(part)
        goals.append(int(part))
    return goals


class GoalsForm(FlaskForm):
    goals = StringField(
        lazy_gettext("Next goals"),
        description=lazy_gettext(
            "Signature counts, separated by commas, such as 100, 500, 1000. When the pledge "
            "reaches one, the next becomes its goal and an update is drafted for you."
        ),
        filters=[clean_line],
        validators=[Length(max=MAX_GOALS * 11), no_control_characters],
    )

    def validate_goals(self, field) -> None:
        try:
            field.parsed = parse_goals(field.data or "")
        except ValueError as exc:
            raise ValidationError(
                lazy_gettext(
                    "“%(value)s” is not a signature count: use whole numbers such as 100, 500.",
                    value=str(exc),
                )
            ) from exc


class WantsUpdatesForm(FlaskForm):
    wants_updates = BooleanField(lazy_gettext("Email me updates about this pledge"))
