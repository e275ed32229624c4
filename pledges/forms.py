"""Form pieces shared by every feature."""

from __future__ import annotations

import re
import unicodedata

from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_line(value: str | None) -> str:
    """One line of text as a person meant it: NFC, single spaces, trimmed."""
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFC", value).split())


def clean_text(value: str | None) -> str:
    """Several lines: NFC, Windows line ends folded, trailing space trimmed."""
    if value is None:
        return ""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return value.strip()


def no_control_characters(form, field) -> None:
    if field.data and _CONTROL.search(field.data):
        raise ValidationError("Remove the invisible control characters from this text.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
