from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired


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
