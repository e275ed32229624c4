from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from pledges.domain.signers import SigningError, normalize_email
from pledges.forms import clean_line, clean_text, no_control_characters, strip
from pledges.models import COMMENT_MAX, EMAIL_MAX, MAX_PARTNERS, NAME_MAX

SHOW_NAME_HINT = lazy_gettext(
    "Leave this unticked to appear only as “an accountability partner”. Where supporting "
    "gender equality is risky, being named in public can put you in danger. Your name is "
    "never shown beside a signer who is not named in full, so as not to point at them."
)


class InviteForm(FlaskForm):
    max_partners = MAX_PARTNERS

    name = StringField(
        lazy_gettext("Their name"),
        filters=[clean_line],
        validators=[
            DataRequired(lazy_gettext("Tell us your partner's name.")),
            Length(max=NAME_MAX),
            no_control_characters,
        ],
        description=lazy_gettext("Used in our email to them. Shown in public only if they agree."),
    )
    email = EmailField(
        lazy_gettext("Their email"),
        filters=[strip],
        validators=[
            DataRequired(
                lazy_gettext("Tell us your partner's email address, so we can send them the link.")
            ),
            Length(max=EMAIL_MAX),
        ],
        description=lazy_gettext(
            "We email them a private link to your actions. Never shown publicly."
        ),
    )

    def validate_email(self, field) -> None:
        try:
            normalize_email(field.data)
        except SigningError as exc:
            raise ValidationError(exc.message) from exc


class ReplyForm(FlaskForm):
    body = TextAreaField(
        lazy_gettext("Your answer"),
        filters=[clean_text],
        validators=[
            DataRequired(lazy_gettext("Write your answer first.")),
            Length(max=COMMENT_MAX),
            no_control_characters,
        ],
        description=lazy_gettext("Your partners see it on their page."),
    )


class ShowNameForm(FlaskForm):
    """Accepting the role, or changing the choice later: the same one question."""

    show_name = BooleanField(
        lazy_gettext("Show my name next to the actions I confirm on the public wall"),
        description=SHOW_NAME_HINT,
    )


class QueryForm(FlaskForm):
    body = TextAreaField(
        lazy_gettext("Ask about this action"),
        filters=[clean_text],
        validators=[
            DataRequired(lazy_gettext("Write your question, so it can be answered.")),
            Length(max=COMMENT_MAX),
            no_control_characters,
        ],
        description=lazy_gettext(
            "We email the signer, who answers here. Only they and their accountability "
            "partners see it. Asking takes back a confirmation until you confirm again."
        ),
    )
