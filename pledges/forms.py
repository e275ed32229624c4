"""Form pieces shared by every feature."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from markupsafe import Markup
from wtforms import IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

from pledges.domain.countries import country_names
from pledges.domain.rules import RuleError

# Control characters other than tab and line ends, lone surrogates, and Unicode's
# noncharacters (U+FDD0-U+FDEF and the last two code points of every plane): nobody types
# them, and XML (the Atom feed) or PostgreSQL (NUL) cannot store them.
_NONCHARACTERS = "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(0x11))
_CONTROL = re.compile(
    rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufdd0-\ufdef{_NONCHARACTERS}]"
)

# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they
# reorder what follows, so "https://example.org/\u202egpj.exe" reads ".../exe.jpg". A name,
# title, organization or link never needs them; the left-to-right and right-to-left marks
# (U+200E, U+200F, U+061C) only steer neutral characters, cannot reverse a word, and may
# be typed by people writing in right-to-left scripts, so they stay allowed.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def strip(value: str | None) -> str | None:
    return value.strip() if value else value


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


def attach_error(form, error: RuleError) -> None:
    """Show a service's rule error on the field it names, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def has_control_characters(text: str | None) -> bool:
    return bool(text) and _CONTROL.search(text) is not None


def has_bidi_controls(text: str | None) -> bool:
    return bool(text) and _BIDI_CONTROLS.search(text) is not None


def bidi_control_message() -> str:
    return gettext("Remove the invisible text-direction controls from this text.")


def no_control_characters(form, field) -> None:
    """Refuse control characters; in one-line fields (names, organizations, titles,
    addresses, links) also the bidirectional controls that disguise text. Multi-line texts
    may hold them (right-to-left writing): every page and PDF isolates each text, so they
    cannot reach beyond it."""
    if has_control_characters(field.data):
        raise ValidationError(gettext("Remove the invisible control characters from this text."))
    if not isinstance(field, TextAreaField) and has_bidi_controls(field.data):
        raise ValidationError(bidi_control_message())


class ButtonForm(FlaskForm):
    """A lone button (approve, delete, remove, open, retry…): a form only for its CSRF token."""


class OneClickForm(FlaskForm):
    """The one-click unsubscribe button (pledges.mail.unsubscribe). Without a CSRF token: a
    mail client posts it with no session (RFC 8058), and the signed link authorises it."""

    class Meta:
        csrf = False


class WholeNumberField(IntegerField):
    """Every whole number a form takes: plain ASCII digits from ``min`` to ``max``.

    The typed text is checked before it becomes a number, and anything else gets the
    field's own ``message``: ``int()`` also reads " 12 ", "+5", "1_000" and "٣", and
    WTForms' ``NumberRange`` passes the number through ``math.isnan``, which raises
    OverflowError (a 500) on a whole number past a float's range, such as 10**309.
    A leading minus is read only where ``min`` is below zero. An empty field is left to
    the field's ``Optional`` or ``InputRequired`` validator.
    """

    def __init__(self, label=None, validators=None, *, min: int, max: int, message, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min, self.max, self.message = min, max, message
        # Rendered as the input's min and max attributes, as NumberRange's flags were.
        self.flags.min, self.flags.max = min, max

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0]:
            self.data = None
            return
        self.data = self.whole_number(valuelist[0])
        if self.data is None:
            raise ValueError(self.message)

    def whole_number(self, text: str) -> int | None:
        """``text`` as a number within range, or None: never a float, never a long int()."""
        pattern = _SIGNED_DIGITS if self.min < 0 else _DIGITS
        if not pattern.fullmatch(text):
            return None
        widest = max(len(str(self.min)), len(str(self.max)))
        if len(text.lstrip("-").lstrip("0")) > widest:  # too long to be in range: no int()
            return None
        number = int(text)
        return number if self.min <= number <= self.max else None


_DIGITS = re.compile(r"[0-9]+")
_SIGNED_DIGITS = re.compile(r"-?[0-9]+")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StaticOptionsSelect(Select):
    """A <select> whose long, fixed option list (the world's countries) is rendered once.

    WTForms renders every option on every request (a quarter of the sign page's cost with
    ~250 countries); here only the selected option differs between renders.
    """

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        if "required" not in kwargs and "required" in getattr(field, "flags", []):
            kwargs["required"] = True
        options = _options_html(tuple((c.value, c.label) for c in field.choices))
        if field.data:
            marker = Markup('<option value="{}">').format(field.data)
            options = options.replace(marker, marker[:-1] + Markup(" selected>"), 1)
        # html_params escapes every value itself, as in WTForms' own widgets.
        attributes = Markup(html_params(name=field.name, **kwargs))  # noqa: S704
        return Markup("<select {}>{}</select>").format(attributes, options)


class CountrySelectField(SelectField):
    """A choice of country: options "" (none yet) and the codes of ``country_names()``.

    WTForms checks a submitted value by building an option object for each of its ~250
    choices on every submit; a known country code is looked up instead. Anything else is
    left to WTForms' own check, so it is refused with the same message as before.
    """

    widget = StaticOptionsSelect()

    def pre_validate(self, form) -> None:
        if self.process_errors or self.data not in country_names():
            super().pre_validate(form)


@cache
def _options_html(choices: tuple[tuple[str, str], ...]) -> Markup:
    return Markup("").join(
        Markup('<option value="{}">{}</option>').format(value, label) for value, label in choices
    )


#: The largest copy of a document we accept to check; the upload routes' request limit follows.
UPLOAD_MAX_BYTES = 10 * 1024 * 1024


class DocumentForm(FlaskForm):
    document = FileField(
        lazy_gettext("The PDF file"),
        validators=[
            FileRequired(lazy_gettext("Choose the PDF file to check.")),
            FileSize(
                UPLOAD_MAX_BYTES,
                message=lazy_gettext("The file is larger than 10 MB: not one of ours."),
            ),
        ],
        description=lazy_gettext(
            "The file is only read to compute its fingerprint (SHA-256); it is not kept."
        ),
    )
