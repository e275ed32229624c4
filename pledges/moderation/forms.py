from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from pledges.forms import clean_line, clean_text, no_control_characters
from pledges.infrastructure.converters import positive_int
from pledges.models import REASON_MAX, ReportReason, ReportResolution
from pledges.moderation.service import REPORT_DETAILS_MAX

REPORT_REASON_LABELS = {
    ReportReason.UNSAFE: lazy_gettext("Showing this person puts them in danger"),
    ReportReason.FAKE: lazy_gettext("This is not a real person, or not who it claims to be"),
    ReportReason.ABUSIVE: lazy_gettext("The name or note is abusive or hateful"),
    ReportReason.SPAM: lazy_gettext("Spam or advertising"),
    ReportReason.OTHER: lazy_gettext("Something else"),
}

REASON_HINT = lazy_gettext(
    "Kept in the audit log and shown to this pledge's organizers, never in public."
)
REASON_REQUIRED = lazy_gettext("Say why: the reason is kept in the audit log.")


def _reason_field(label, required: bool = True) -> TextAreaField:
    validators = [Length(max=REASON_MAX), no_control_characters]
    if required:
        validators.insert(0, DataRequired(REASON_REQUIRED))
    else:
        validators.insert(0, Optional())
    return TextAreaField(
        label, filters=[clean_text], validators=validators, description=REASON_HINT
    )


def typed_as_utc(value: datetime | None) -> datetime | None:
    """A datetime-local input sends no time zone; its label says the time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class HideForm(FlaskForm):
    reason = _reason_field(lazy_gettext("Why hide this signature?"))


class UnhideForm(FlaskForm):
    reason = _reason_field(lazy_gettext("Why show it again?"))


class ReviewShownForm(FlaskForm):
    """ "Mark all shown as reviewed": the ids of the rows on the page."""

    ids = HiddenField()

    def signature_ids(self) -> list[int]:
        ids = (positive_int(i.strip()) for i in (self.ids.data or "").split(","))
        return [i for i in ids if i is not None]


class BulkForm(FlaskForm):
    email_domain = StringField(
        lazy_gettext("Email domain"),
        filters=[clean_line],
        validators=[Optional(), Length(max=253), no_control_characters],
        description=lazy_gettext(
            "Matches addresses at this domain and at its subdomains, e.g. example.org."
        ),
    )
    signed_from = DateTimeLocalField(
        lazy_gettext("Signed from (UTC)"),
        format="%Y-%m-%dT%H:%M",
        filters=[typed_as_utc],
        validators=[Optional()],
    )
    signed_until = DateTimeLocalField(
        lazy_gettext("Signed until (UTC)"),
        format="%Y-%m-%dT%H:%M",
        filters=[typed_as_utc],
        validators=[Optional()],
    )
    reason = _reason_field(lazy_gettext("Why hide them?"), required=False)
    # Which button was pressed: "preview" counts, "hide" acts.
    step = HiddenField(default="preview")

    @property
    def confirming(self) -> bool:
        return self.step.data == "hide"

    def validate_reason(self, field) -> None:
        if self.confirming and not field.data:
            raise ValidationError(REASON_REQUIRED)


class ReportForm(FlaskForm):
    reason = RadioField(
        lazy_gettext("What is wrong with this entry?"),
        choices=[
            SelectChoice(reason.value, label) for reason, label in REPORT_REASON_LABELS.items()
        ],
        validators=[InputRequired(lazy_gettext("Choose what is wrong."))],
    )
    details = TextAreaField(
        lazy_gettext("Anything the moderators should know (optional)"),
        filters=[clean_text],
        validators=[Optional(), Length(max=REPORT_DETAILS_MAX), no_control_characters],
        description=lazy_gettext(
            "Only the pledge's moderators read this. Please do not include your "
            "own contact details unless you want them to have them."
        ),
    )
    # A honeypot: hidden from people (and from screen readers), filled in by bots.
    website = StringField(
        lazy_gettext("Leave this field empty"), render_kw={"tabindex": "-1", "autocomplete": "off"}
    )

    def validate_website(self, field) -> None:
        if field.data:
            raise ValidationError(
                lazy_gettext("This field must stay empty: it is there to catch automated reports.")
            )


class ResolveForm(FlaskForm):
    resolution = RadioField(
        lazy_gettext("Resolve these reports"),
        choices=[
            SelectChoice(
                ReportResolution.DISMISSED.value,
                lazy_gettext("Dismiss: the entry stays on the wall"),
            ),
            SelectChoice(
                ReportResolution.HIDDEN.value, lazy_gettext("Hide the entry from the wall")
            ),
        ],
        validators=[InputRequired(lazy_gettext("Choose how to resolve the reports."))],
    )
    reason = _reason_field(lazy_gettext("Reason (required to hide)"), required=False)

    def validate_reason(self, field) -> None:
        if self.resolution.data == ReportResolution.HIDDEN and not field.data:
            raise ValidationError(
                lazy_gettext("Say why the entry is hidden: the reason is kept in the audit log.")
            )
