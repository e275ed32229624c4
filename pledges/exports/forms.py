from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation

from pledges.dashboard.service import STATUS_LABELS
from pledges.exports.service import DEFAULT_COLUMNS, DEFAULT_STATUSES, Column
from pledges.forms import MultiCheckboxField


def at_least_one(message):
    """Like DataRequired, without marking each checkbox of the group ``required``."""

    def check(form, field) -> None:
        if not field.data:
            raise StopValidation(message)

    return check


class ExportForm(FlaskForm):
    """What to put in the CSV. Sent by GET: downloading changes nothing, so no CSRF token,
    and the choices stay in the address for the next export."""

    class Meta:
        csrf = False

    columns = MultiCheckboxField(
        lazy_gettext("Columns"),
        default=DEFAULT_COLUMNS,
        validators=[at_least_one(lazy_gettext("Choose at least one column."))],
    )
    statuses = MultiCheckboxField(
        lazy_gettext("Signatures to include"),
        description=lazy_gettext("Withdrawn signatures keep only their country and ally role."),
        choices=[
            SelectChoice(status.value, STATUS_LABELS.lazy(status)) for status in STATUS_LABELS
        ],
        default=DEFAULT_STATUSES,
        validators=[at_least_one(lazy_gettext("Choose at least one kind of signature."))],
    )
    download = SubmitField(lazy_gettext("Download CSV"))

    def __init__(self, columns: list[Column], **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns.choices = [SelectChoice(column.key, column.heading) for column in columns]
