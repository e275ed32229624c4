from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from pledges.dossier.content import AUDIENCES
from pledges.models import DossierAudience


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
