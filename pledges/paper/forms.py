from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from pledges.forms import UPLOAD_MAX_BYTES, clean_line, no_control_characters, strip
from pledges.models import EMAIL_MAX, NAME_MAX, ORGANIZATION_MAX, Visibility
from pledges.paper.service import (
    DEFAULT_VISIBILITY,
    MAX_ROWS,
    SHORT_VISIBILITY_LABELS,
    RowInput,
)

VISIBILITY_CHOICES = [SelectChoice(v.value, SHORT_VISIBILITY_LABELS.lazy(v)) for v in Visibility]


class SheetForm(FlaskForm):
    language = SelectField(lazy_gettext("Language of the sheet"))
    submit = SubmitField(lazy_gettext("Make a sheet"))

    def __init__(self, languages: list[tuple[str, str]], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = languages


class RowForm(Form):
    """One signer's row, as written on the sheet. A row left empty is no row: it is neither
    checked nor saved."""

    line = HiddenField()
    name = StringField(
        lazy_gettext("Name"),
        filters=[clean_line],
        validators=[Length(max=NAME_MAX), no_control_characters],
    )
    organization = StringField(
        lazy_gettext("Organization"),
        filters=[clean_line],
        validators=[Optional(), Length(max=ORGANIZATION_MAX), no_control_characters],
    )
    country = StringField(
        lazy_gettext("Country"),
        filters=[clean_line],
        validators=[Length(max=60)],
        render_kw={"list": "country-codes", "autocomplete": "off", "size": "4"},
    )
    visibility = SelectField(
        lazy_gettext("Shown as"), choices=VISIBILITY_CHOICES, default=DEFAULT_VISIBILITY.value
    )
    email = StringField(
        lazy_gettext("Email (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=EMAIL_MAX)],
        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"},
    )
    discreet_mail = BooleanField(lazy_gettext("Discreet emails"))
    commitments = StringField(
        lazy_gettext("Commitments (numbers)"),
        filters=[clean_line],
        validators=[Length(max=60)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "size": "6"},
    )
    signed = BooleanField(lazy_gettext("Signed on the sheet"))

    #: What makes a row non-empty: anything typed (the select and boxes have defaults).
    TYPED = ("name", "organization", "country", "email", "commitments")

    @property
    def is_blank(self) -> bool:
        return not any((getattr(self, name).data or "").strip() for name in self.TYPED)

    def validate(self, extra_validators=None) -> bool:
        if self.is_blank:
            return True
        valid = super().validate(extra_validators)
        if not self.name.data:
            self.name.errors = [*self.name.errors, lazy_gettext("Type the name as written.")]
            valid = False
        if not self.signed.data:
            self.signed.errors = [
                *self.signed.errors,
                lazy_gettext(
                    "Only a row signed on the sheet is entered: tick “Signed on the sheet”."
                ),
            ]
            valid = False
        return valid

    def row_input(self) -> RowInput:
        return RowInput(
            line=int(self.line.data),
            name=self.name.data or "",
            organization=self.organization.data or "",
            country=self.country.data or "",
            visibility=self.visibility.data or "",
            email=self.email.data or "",
            commitments=self.commitments.data or "",
            discreet_mail=bool(self.discreet_mail.data),
        )


class BatchForm(FlaskForm):
    rows = FieldList(FormField(RowForm), min_entries=0, max_entries=MAX_ROWS)
    save = SubmitField(lazy_gettext("Save the signed rows"))
    add_rows = SubmitField(lazy_gettext("Add rows"))


class ScanForm(FlaskForm):
    scan = FileField(
        lazy_gettext("Scan or photo of the sheet"),
        validators=[
            FileRequired(lazy_gettext("Choose the scan to upload.")),
            FileSize(UPLOAD_MAX_BYTES, message=lazy_gettext("The file is larger than 10 MB.")),
        ],
        description=lazy_gettext(
            "PDF, JPEG or PNG, up to 10 MB. Only its fingerprint (SHA-256) is stored, "
            "unless you choose to keep it."
        ),
    )
    keep = BooleanField(
        lazy_gettext("Keep the scan"),
        description=lazy_gettext(
            "Only the pledge's organizers can open it. It shows every signer's handwriting "
            "and signature: keep it only if you must."
        ),
    )
    submit = SubmitField(lazy_gettext("Upload"))
