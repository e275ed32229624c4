from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from pledges.dossier.content import AUDIENCES
from pledges.forms import clean_text, no_control_characters
from pledges.models import LETTER_MAX, DossierAudience


class DossierForm(FlaskForm):
    audience = RadioField(
        lazy_gettext("Who is it for?"),
        choices=[SelectChoice(key.value, AUDIENCES[key].eyebrow) for key in DossierAudience],
        default=DossierAudience.OFFICIALS.value,
        description=lazy_gettext(
            "Changes the cover and which sections come first; media dossiers leave out "
            "the list of signers."
        ),
    )
    covering_letter = TextAreaField(
        lazy_gettext("Covering letter (optional)"),
        filters=[clean_text],
        validators=[Optional(), Length(max=LETTER_MAX), no_control_characters],
        description=lazy_gettext(
            "A few words from you to the people who receive the dossier, printed on the page "
            "after the cover. A blank line starts a new paragraph."
        ),
    )
