from __future__ import annotations

from functools import cache

from flask_babel import force_locale, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from pledges.domain.countries import country_names, current_locale
from pledges.domain.signers import (
    SigningError,
    check_commitments,
    check_visibility,
    normalize_email,
)
from pledges.forms import (
    CountrySelectField,
    MultiCheckboxField,
    clean_line,
    clean_text,
    no_control_characters,
    strip,
)
from pledges.models import (
    EMAIL_MAX,
    NAME_MAX,
    NOTE_MAX,
    ORGANIZATION_MAX,
    AllyRole,
    Pledge,
    Publication,
    Visibility,
)
from pledges.presentation.display import ROLE_LABELS, VISIBILITY_LABELS
from pledges.signing.service import check_email_allowed

# Lazy labels: built once, shown in the language of each request.
ROLE_CHOICES = [SelectChoice(role.value, ROLE_LABELS.lazy(role)) for role in AllyRole]
VISIBILITY_CHOICES = [SelectChoice(v.value, VISIBILITY_LABELS.lazy(v)) for v in Visibility]
PUBLICATION_LABELS = {
    Publication.NOW: lazy_gettext("As soon as I confirm"),
    Publication.WEEK: lazy_gettext("7 days after I confirm"),
    Publication.MONTH: lazy_gettext("30 days after I confirm"),
    Publication.ON_CLOSE: lazy_gettext("When the pledge closes"),
    Publication.NEVER: lazy_gettext("Never: count me, but do not show me"),
}
DISCREET_MAIL_HINT = lazy_gettext(
    "For a shared phone or inbox: our emails then come from a plain sender name, with a "
    "plain subject like “Your link”, and say nothing of this pledge until opened."
)

# Said under the signer's own example entry, after a submit.
PUBLICATION_NOTES = {
    Publication.NOW: lazy_gettext("Shown from the day you confirm."),
    Publication.WEEK: lazy_gettext("Shown from 7 days after you confirm."),
    Publication.MONTH: lazy_gettext("Shown from 30 days after you confirm."),
    Publication.ON_CLOSE: lazy_gettext("Shown from the day the pledge closes."),
    Publication.NEVER: lazy_gettext("Never shown: you are only counted."),
}
PUBLICATION_CHOICES = [SelectChoice(p.value, PUBLICATION_LABELS[p]) for p in Publication]

# Naming an anonymous or organization-only signer's gender beside their country can be
# enough to find them: only a named entry shows it unless the signer asks.
SHOWS_ROLE_BY_DEFAULT = frozenset({Visibility.FULL, Visibility.INITIAL})


def shows_role_by_default(visibility: str | None) -> bool:
    return visibility in SHOWS_ROLE_BY_DEFAULT


def resolve_show_role(visibility: str | None, ticked: bool, proposed: str | None) -> bool:
    """ "Show that I sign as a man/woman/…": a checkbox whose proposed state follows the
    visibility chosen, with or without script.

    The page sends, in ``proposed``, the state it proposed ("on"/"off"); a box left as
    proposed follows the visibility finally chosen (a signer who picks "anonymous" without
    script, and leaves the box ticked as it came for the default "initial", is not shown
    with their role). A box the signer changed ("" once the script saw it touched, or a
    state other than the one proposed) is their choice.
    """
    if proposed in ("on", "off") and ticked == (proposed == "on"):
        return shows_role_by_default(visibility)
    return ticked


def _in_locale(locale: str, message) -> str:
    with force_locale(locale):
        return str(message)


def _country_choices() -> tuple[SelectChoice, ...]:
    return _country_choices_in(current_locale())


@cache
def _country_choices_in(locale: str) -> tuple[SelectChoice, ...]:
    return (
        # A plain string in that language: the rendered option list is cached per choices.
        SelectChoice("", _in_locale(locale, lazy_gettext("Choose your country…"))),
        *(SelectChoice(code, name) for code, name in country_names(locale).items()),
    )


class VisibilityFields:
    """Shared by signing and by the signer's page: the rule lives in pledges/domain/signers.py."""

    def validate_organization(self, field) -> None:
        try:
            check_visibility(self.visibility.data or "", field.data or "")
        except SigningError as exc:
            raise ValidationError(exc.message) from exc


class ValidAddress:
    """WTForms' ``Email`` check, made by ``normalize_email``: the service and this form's
    own rules ask it too, and it checks an address once per request."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: EmailField) -> None:
        try:
            normalize_email(field.data or "")
        except SigningError as exc:
            raise ValidationError(self.message) from exc


class SignForm(VisibilityFields, FlaskForm):
    name = StringField(
        lazy_gettext("Your full name"),
        filters=[clean_line],
        validators=[
            DataRequired(lazy_gettext("Tell us your name.")),
            Length(max=NAME_MAX),
            no_control_characters,
        ],
        description=lazy_gettext("Shown in public only as you choose below."),
        # WCAG 1.3.5: the signer's own details, named so phones and browsers can fill them in.
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        lazy_gettext("Email"),
        filters=[strip],
        validators=[
            DataRequired(
                lazy_gettext("Tell us your email address, so you can confirm your signature.")
            ),
            Length(max=EMAIL_MAX),
            ValidAddress(lazy_gettext("Enter a valid email address, like name@example.org.")),
        ],
        description=lazy_gettext(
            "Never shown publicly. We email you a link to confirm, and one to your private page."
        ),
        render_kw={"autocomplete": "email"},
    )
    country = CountrySelectField(
        lazy_gettext("Country"),
        choices=_country_choices,
        validators=[InputRequired(lazy_gettext("Choose your country."))],
        render_kw={"autocomplete": "country"},
    )
    role = RadioField(
        lazy_gettext("I sign as"),
        choices=ROLE_CHOICES,
        validators=[InputRequired(lazy_gettext("Choose how you sign (or “Prefers not to say”)."))],
        description=lazy_gettext(
            "The wall shows it beside your entry only if you tick “Show that I sign as…” "
            "below; otherwise it is only counted, in the pledge's totals."
        ),
    )
    # Required only when the signer chooses to be shown as a member of it: the label must
    # not say "optional" then (pledges/domain/signers.py: check_visibility).
    organization = StringField(
        lazy_gettext("Organization"),
        filters=[clean_line],
        # No Optional(): it would end the checks on an empty field before validate_organization
        # says that "Only my organization" needs one, leaving that to a second round.
        validators=[Length(max=ORGANIZATION_MAX), no_control_characters],
        description=lazy_gettext(
            "Needed if you choose “Only my organization” below. The wall shows it beside a "
            "full name, or as “A member of …”; never beside an initial or an anonymous entry."
        ),
        render_kw={"autocomplete": "organization"},
    )
    visibility = RadioField(
        lazy_gettext("On the public wall, show"),
        choices=VISIBILITY_CHOICES,
        default=Visibility.INITIAL.value,
        validators=[InputRequired(lazy_gettext("Choose how you want to appear on the wall."))],
        description=lazy_gettext(
            "Where being named is dangerous, choose anonymous: only your country is shown."
        ),
    )
    show_role = BooleanField(
        lazy_gettext("Show that I sign as a man, a woman or another gender"),
        default=shows_role_by_default(Visibility.INITIAL),
        description=lazy_gettext(
            "Ticked for a name or initial. For anonymous and organization-only entries it "
            "starts unticked: beside your country, it could help someone find you."
        ),
        render_kw={"data-shown-by-default-for": " ".join(sorted(SHOWS_ROLE_BY_DEFAULT))},
    )
    # An empty label, never shown: without one WTForms makes one from the field's name through
    # its own message catalog, which Flask-WTF reads from disk again on every request.
    show_role_proposed = HiddenField(
        "", default="on" if shows_role_by_default(Visibility.INITIAL) else "off"
    )
    publication = RadioField(
        lazy_gettext("When may the wall show me?"),
        choices=PUBLICATION_CHOICES,
        default=Publication.NOW.value,
        validators=[InputRequired(lazy_gettext("Choose when the wall may show you."))],
        description=lazy_gettext(
            "You count in the total at once, whatever you choose. "
            "You can change this later on your private page."
        ),
    )
    discreet_mail = BooleanField(
        lazy_gettext("Send me discreet emails"),
        description=DISCREET_MAIL_HINT,
    )
    # Off unless ticked: updates are mail the signer asked for (pledges/updates).
    wants_updates = BooleanField(lazy_gettext("Email me updates about this pledge"))
    commitments = MultiCheckboxField(lazy_gettext("My commitments"), coerce=int)
    personal_note = TextAreaField(
        lazy_gettext("Why I sign (optional)"),
        filters=[clean_text],
        validators=[Optional(), Length(max=NOTE_MAX), no_control_characters],
        description=lazy_gettext(
            "Shown on the wall with your signature, as you chose to appear. "
            "Up to %(max)s characters.",
            max=NOTE_MAX,
        ),
    )
    # A honeypot: hidden from people (and from screen readers), filled in by bots.
    website = StringField(
        lazy_gettext("Leave this field empty"),
        render_kw={"tabindex": "-1", "autocomplete": "off"},
    )
    consent = BooleanField(
        lazy_gettext(
            "I agree that this pledge keeps my name and email to confirm and show my signature "
            "as I chose, and that I can withdraw at any time."
        ),
        validators=[
            DataRequired(lazy_gettext("Please agree, or we cannot record your signature."))
        ],
    )

    def __init__(self, pledge: Pledge, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pledge = pledge
        self.commitments.choices = [SelectChoice(c.id, c.text) for c in pledge.offered_commitments]
        if not self.is_submitted():
            self.commitments.data = [c.id for c in pledge.offered_commitments if c.required]

    @property
    def chosen_show_role(self) -> bool:
        return resolve_show_role(
            self.visibility.data, bool(self.show_role.data), self.show_role_proposed.data
        )

    def settle_show_role(self) -> None:
        """After a submit with errors: the box as it will be stored, proposed again only if
        that is the default for the visibility chosen."""
        chosen = self.chosen_show_role
        self.show_role.data = chosen
        if chosen == shows_role_by_default(self.visibility.data):
            self.show_role_proposed.data = "on" if chosen else "off"
        else:
            self.show_role_proposed.data = ""

    def validate_email(self, field) -> None:
        """The service's rules on the address, here too, so that every error comes in one
        round: a disposable address is said together with a missing country."""
        if field.errors:  # not an address yet: its format is the thing to fix first
            return
        try:
            check_email_allowed(normalize_email(field.data or ""))
        except SigningError as exc:
            raise ValidationError(exc.message) from exc

    def validate_website(self, field) -> None:
        if field.data:
            raise ValidationError(
                lazy_gettext("This field must stay empty: it is there to catch automated sign-ups.")
            )

    def validate_country(self, field) -> None:
        if field.data not in country_names():
            raise ValidationError(lazy_gettext("Choose your country from the list."))

    def validate_commitments(self, field) -> None:
        try:
            check_commitments(self.pledge, field.data or [])
        except SigningError as exc:
            raise ValidationError(exc.message) from exc
