from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from pledges.checkins.service import check_renewal, renewal_choices
from pledges.domain.rules import RuleError
from pledges.forms import MultiCheckboxField
from pledges.models import Signature


class CommitmentsForm(FlaskForm):
    commitments = MultiCheckboxField(lazy_gettext("My commitments for the next cycle"), coerce=int)

    def __init__(self, signature: Signature, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.signature = signature
        # Each in the words the signer would be held to: those they signed, if they hold it.
        self.options = renewal_choices(signature)
        self.commitments.choices = [SelectChoice(c.id, c.text) for c in self.options]

    def validate_commitments(self, field) -> None:
        try:
            check_renewal(self.signature, field.data or [])
        except RuleError as exc:
            raise ValidationError(exc.message) from exc
