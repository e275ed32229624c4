from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import StringField
from wtforms.validators import DataRequired

#: The largest copy we accept to check; the request limit for that route follows it.
UPLOAD_MAX_BYTES = 10 * 1024 * 1024


class CodeForm(FlaskForm):
    """Typing a code only looks something up: a GET form, no CSRF token in the URL."""

    class Meta:
        csrf = False

    code = StringField(
        lazy_gettext("Verification code"),
        validators=[DataRequired(lazy_gettext("Type the code printed on the document."))],
        description=lazy_gettext(
            "Ten letters and digits, as printed on the document, e.g. 7K3QP-XM2RD."
        ),
    )


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
