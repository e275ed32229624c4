from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from pledges.forms import MultiCheckboxField
from pledges.models import Pledge
from pledges.rules import RuleError
from pledges.signing.service import check_commitments


class CommitmentsForm(FlaskForm):
    commitments = MultiCheckboxField("My commitments for the next cycle", coerce=int)

    def __init__(self, pledge: Pledge, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pledge = pledge
        self.commitments.choices = [SelectChoice(c.id, c.text) for c in pledge.commitments]

    def validate_commitments(self, field) -> None:
        try:
            check_commitments(self.pledge, field.data or [])
        except RuleError as exc:
            raise ValidationError(exc.message) from exc


class RemindersForm(FlaskForm):
    """Pause, stop or resume: the button pressed is the choice."""
