"""The audit log in people's words: each stored act (``signature.hide``, ``pledge.open`` …)
told as a sentence in the reader's language, the one place that maps an act to its words.

Signers are named only as they chose to be shown in public ("an anonymous signer from
Kenya", "Amina O. from Kenya"), never by the name they gave us: the log is read by every
organizer of the pledge and every admin. Organizers and admins are named with their role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import flask_babel
from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from flask_babel import gettext, lazy_gettext, ngettext, pgettext
from sqlalchemy import select

from pledges.domain.countries import country_name
from pledges.extensions import db
from pledges.models import (
    AuditEntry,
    Commitment,
    DocumentVariant,
    Organization,
    Signature,
    SignatureStatus,
    User,
    UserRole,
    Visibility,
)
from pledges.presentation.display import (
    SIGNATURE_STATUS_LABELS,
    Labels,
    format_date,
    initial_name,
)

#: What the audit log's filter offers: each act by a short name.
ACTION_LABELS = Labels(
    {
        "signature.hide": lazy_gettext("Signature hidden"),
        "signature.unhide": lazy_gettext("Signature shown again"),
        "signature.approve": lazy_gettext("Signature approved"),
        "signature.review": lazy_gettext("Signature marked reviewed"),
        "signatures.bulk_hide": lazy_gettext("Signatures hidden at once"),
        "reports.dismiss": lazy_gettext("Reports dismissed"),
        "reports.hide": lazy_gettext("Signature hidden after reports"),
        "signature.pdf": lazy_gettext("Signed pledge downloaded"),
        "export.csv": lazy_gettext("Spreadsheet downloaded"),
        "dossier.export": lazy_gettext("Dossier built"),
        "pledge.create": lazy_gettext("Pledge created"),
        "pledge.update": lazy_gettext("Pledge settings changed"),
        "pledge.open": lazy_gettext("Pledge opened"),
        "pledge.reopen": lazy_gettext("Pledge reopened"),
        "pledge.close": lazy_gettext("Pledge closed"),
        "pledge.language": lazy_gettext("Pledge language changed"),
        "translation.add": lazy_gettext("Translation added"),
        "translation.update": lazy_gettext("Translation changed"),
        "translation.remove": lazy_gettext("Translation removed"),
        "commitment.add": lazy_gettext("Commitment added"),
        "commitment.reword": lazy_gettext("Commitment reworded"),
        "commitment.require": lazy_gettext("Commitment made required"),
        "commitment.unrequire": lazy_gettext("Commitment made optional"),
        "commitment.move": lazy_gettext("Commitment moved"),
        "commitment.retire": lazy_gettext("Commitment retired"),
        "commitment.restore": lazy_gettext("Commitment restored"),
        "organizer.add": lazy_gettext("Organizer added"),
        "organizer.remove": lazy_gettext("Organizer removed"),
        "cosigner.add": lazy_gettext("Co-signing organization added"),
        "cosigner.remove": lazy_gettext("Co-signing organization removed"),
        "organization.create": lazy_gettext("Organization created"),
        "organization.update": lazy_gettext("Organization changed"),
        "user.create": lazy_gettext("Account created"),
        "user.invite": lazy_gettext("Organizer invited"),
        "user.deactivate": lazy_gettext("Account deactivated"),
        "user.reactivate": lazy_gettext("Account reactivated"),
        "user.role": lazy_gettext("Role changed"),
        "user.password_reset": lazy_gettext("Password set from an emailed link"),
        "user.password_change": lazy_gettext("Password changed"),
        "user.sessions_end": lazy_gettext("Other sessions logged out"),
        "mail.retry_dead": lazy_gettext("Undelivered mail retried"),
        "job.retry": lazy_gettext("Failed job retried"),
        "pledge.goals": lazy_gettext("Goals set"),
        "update.create": lazy_gettext("Update drafted"),
        "update.edit": lazy_gettext("Update edited"),
        "update.publish": lazy_gettext("Update published"),
        "update.send": lazy_gettext("Update emailed"),
        "update.pause": lazy_gettext("Update emails paused"),
        "update.resume": lazy_gettext("Update emails resumed"),
        "paper.sheet": lazy_gettext("Paper sheet printed"),
        "signature.paper": lazy_gettext("Paper signature entered"),
        "paper.scan": lazy_gettext("Paper sheet scan checked"),
        "paper.scan_delete": lazy_gettext("Paper sheet scan deleted"),
        "session.schedule": lazy_gettext("Dialogue session scheduled"),
        "session.delete": lazy_gettext("Dialogue session deleted"),
        "session.attendance": lazy_gettext("Attendance taken"),
    }
)


def role_label(role: str) -> str:
    """An account's role inside a sentence: "(organizer)"."""
    if role == UserRole.ADMIN:
        return pgettext("user role, in a sentence", "admin")
    if role == UserRole.ORGANIZER:
        return pgettext("user role, in a sentence", "organizer")
    return role


#: The settings of a pledge and of an organization, as a change names them.
FIELD_LABELS = Labels(
    {
        "title": lazy_gettext("title"),
        "slug": lazy_gettext("web address"),
        "preamble": lazy_gettext("preamble"),
        "guidelines": lazy_gettext("guidelines for signers"),
        "goal": lazy_gettext("goal"),
        "checkin_cadence_days": lazy_gettext("check-in cadence"),
        "premoderation": lazy_gettext("pre-moderation"),
        "name": lazy_gettext("name"),
        "country": lazy_gettext("country"),
        "website": lazy_gettext("website"),
        "description": lazy_gettext("description"),
    }
)

AUDIENCE_PHRASES = Labels(
    {
        "officials": lazy_gettext("for officials"),
        "funders": lazy_gettext("for funders"),
        "media": lazy_gettext("for the media"),
    }
)


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as a reader sees it."""

    id: int
    at: datetime
    sentence: str
    reason: str
    pledge_title: str | None

    @property
    def when(self) -> str:
        """ "4 December 2026, 10:32" (UTC)."""
        return f"{format_date(self.at)}, {self.at.strftime('%H:%M')}"


@dataclass
class _Context:
    """The people and things the entries on one page speak of, each loaded once."""

    signatures: dict[int, Signature]
    users: dict[int, User]
    commitments: dict[int, Commitment]
    organizations: dict[int, Organization]


def audit_lines(entries: Sequence[AuditEntry]) -> list[AuditLine]:
    """The entries as sentences, in the order given."""
    context = _load(entries)
    return [
        AuditLine(
            id=entry.id,
            at=entry.at,
            sentence=sentence(entry, context),
            reason=entry.reason,
            pledge_title=entry.pledge.title if entry.pledge is not None else None,
        )
        for entry in entries
    ]


def _ids(entries: Iterable[AuditEntry], table: str) -> set[int]:
    return {e.target_id for e in entries if e.target_type == table and e.target_id is not None}


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _load(entries: Sequence[AuditEntry]) -> _Context:
    user_ids = _ids(entries, User.__tablename__) | {e.user_id for e in entries if e.user_id}
    return _Context(
        signatures=_by_id(Signature, _ids(entries, Signature.__tablename__)),
        users=_by_id(User, user_ids),
        commitments=_by_id(Commitment, _ids(entries, Commitment.__tablename__)),
        organizations=_by_id(Organization, _ids(entries, Organization.__tablename__)),
    )


# The pieces of a sentence.


def _person(user: User | None, fallback: str) -> str:
    """An organizer or admin: "Amina Ochieng (organizer)"; their address if they gave no name."""
    if user is None:
        return fallback
    return gettext(
        "%(name)s (%(role)s)",
        name=user.name or user.email,
        role=role_label(user.role),
    )


def _actor(entry: AuditEntry, context: _Context) -> str:
    if entry.user_id is None and entry.actor == "cli":
        return gettext("Someone at the server's command line")
    return _person(context.users.get(entry.user_id) if entry.user_id else None, entry.actor)


def signer_phrase(signature: Signature | None) -> str:
    """A signer as the public may know them, with their country."""
    if signature is None:
        return gettext("a signer whose signature is no longer held")
    if signature.status == SignatureStatus.WITHDRAWN:
        return gettext("a signer who has since withdrawn")
    visibility = signature.visibility
    if visibility == Visibility.FULL:
        name = signature.full_name
    elif visibility == Visibility.INITIAL:
        name = initial_name(signature.full_name)
    elif visibility == Visibility.ORGANIZATION and signature.organization_name:
        name = gettext("a member of %(organization)s", organization=signature.organization_name)
    else:
        name = gettext("an anonymous signer")
    return gettext(
        "%(signer)s from %(country)s", signer=name, country=country_name(signature.country)
    )


def _commitment(entry: AuditEntry, context: _Context) -> str:
    details = entry.details or {}
    commitment = context.commitments.get(entry.target_id) if entry.target_id else None
    position = commitment.position if commitment is not None else details.get("position")
    return str(position) if position is not None else "?"


def _join(items: Iterable[str]) -> str:
    """ "a, b and c" in the reader's language."""
    items = [str(item) for item in items]
    return format_list(items, locale=flask_babel.get_locale() or "en") if items else ""


def _fields(changed: dict) -> str:
    return _join(FIELD_LABELS.get(name, name) for name in changed)


def _languages(codes: Iterable[str]) -> str:
    """Languages named in the reader's language, as in a sentence: "French", "francés"."""
    reader = flask_babel.get_locale() or Locale("en")
    names = []
    for code in codes:
        try:
            names.append(Locale.parse(code).get_display_name(reader) or code)
        except (ValueError, TypeError, UnknownLocaleError):
            names.append(code)
    return _join(names)


def _criteria(details: dict) -> str:
    parts = []
    if details.get("email_domain"):
        parts.append(gettext("email addresses at %(domain)s", domain=details["email_domain"]))
    start, end = details.get("signed_from"), details.get("signed_until")
    if start:
        parts.append(gettext("signed from %(when)s", when=_moment(start)))
    if end:
        parts.append(gettext("signed until %(when)s", when=_moment(end)))
    return _join(parts)


def _moment(iso: str) -> str:
    try:
        value = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return f"{format_date(value)}, {value.strftime('%H:%M')}"


def _n(details: dict, key: str) -> int:
    try:
        return int(details.get(key) or 0)
    except (TypeError, ValueError):
        return 0


Sentence = Callable[[AuditEntry, _Context, str], str]


def _hide(e: AuditEntry, c: _Context, actor: str) -> str:
    return gettext(
        "%(actor)s hid the signature of %(signer)s.",
        actor=actor,
        signer=signer_phrase(c.signatures.get(e.target_id)),
    )


def _bulk_hide(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    count = _n(d, "count")
    return ngettext(
        "%(actor)s hid %(num)s signature at once: %(criteria)s.",
        "%(actor)s hid %(num)s signatures at once: %(criteria)s.",
        count,
        actor=actor,
        criteria=_criteria(d),
    )


def _reports(dismissed: bool) -> Sentence:
    def sentence(e: AuditEntry, c: _Context, actor: str) -> str:
        count = _n(e.details or {}, "reports")
        signer = signer_phrase(c.signatures.get(e.target_id))
        if dismissed:
            return ngettext(
                "%(actor)s dismissed %(num)s report about %(signer)s.",
                "%(actor)s dismissed %(num)s reports about %(signer)s.",
                count,
                actor=actor,
                signer=signer,
            )
        return ngettext(
            "%(actor)s hid the signature of %(signer)s after %(num)s report.",
            "%(actor)s hid the signature of %(signer)s after %(num)s reports.",
            count,
            actor=actor,
            signer=signer,
        )

    return sentence


def _signature_pdf(e: AuditEntry, c: _Context, actor: str) -> str:
    signer = signer_phrase(c.signatures.get(e.target_id))
    if (e.details or {}).get("variant") == DocumentVariant.PDF_A_3B:
        return gettext(
            "%(actor)s downloaded the signed pledge of %(signer)s, as an archival PDF.",
            actor=actor,
            signer=signer,
        )
    return gettext(
        "%(actor)s downloaded the signed pledge of %(signer)s.", actor=actor, signer=signer
    )


def _export(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    statuses = _join(SIGNATURE_STATUS_LABELS.get(s, s) for s in d.get("statuses") or [])
    rows = _n(d, "rows")
    if "email" in (d.get("columns") or []):
        return ngettext(
            "%(actor)s downloaded a spreadsheet of %(num)s signature (%(statuses)s), "
            "with email addresses.",
            "%(actor)s downloaded a spreadsheet of %(num)s signatures (%(statuses)s), "
            "with email addresses.",
            rows,
            actor=actor,
            statuses=statuses,
        )
    return ngettext(
        "%(actor)s downloaded a spreadsheet of %(num)s signature (%(statuses)s).",
        "%(actor)s downloaded a spreadsheet of %(num)s signatures (%(statuses)s).",
        rows,
        actor=actor,
        statuses=statuses,
    )


def _dossier(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    audience = d.get("audience", "")
    return gettext(
        "%(actor)s built a dossier %(audience)s (verification code %(code)s).",
        actor=actor,
        audience=AUDIENCE_PHRASES.get(audience, audience),
        code=d.get("code", ""),
    )


def _pledge_update(e: AuditEntry, c: _Context, actor: str) -> str:
    return gettext(
        "%(actor)s changed the pledge's %(fields)s.",
        actor=actor,
        fields=_fields((e.details or {}).get("changed") or {}),
    )


def _language(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    return gettext(
        "%(actor)s changed the pledge's own language from %(before)s to %(after)s.",
        actor=actor,
        before=_languages([d.get("before", "")]),
        after=_languages([d.get("after", "")]),
    )


def _commitment_add(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    number, text = _commitment(e, c), d.get("text", "")
    if d.get("required"):
        return gettext(
            "%(actor)s added commitment %(number)s, required: “%(text)s”.",
            actor=actor,
            number=number,
            text=text,
        )
    return gettext(
        "%(actor)s added commitment %(number)s: “%(text)s”.", actor=actor, number=number, text=text
    )


def _commitment_reword(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    return gettext(
        "%(actor)s reworded commitment %(number)s from “%(before)s” to “%(after)s”.",
        actor=actor,
        number=_commitment(e, c),
        before=d.get("before", ""),
        after=d.get("after", ""),
    )


def _commitment_move(e: AuditEntry, c: _Context, actor: str) -> str:
    if (e.details or {}).get("direction") == "up":
        return gettext(
            "%(actor)s moved a commitment up, to number %(number)s.",
            actor=actor,
            number=_commitment(e, c),
        )
    return gettext(
        "%(actor)s moved a commitment down, to number %(number)s.",
        actor=actor,
        number=_commitment(e, c),
    )


def _role(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    user = c.users.get(e.target_id) if e.target_id else None
    name = (user.name or user.email) if user is not None else d.get("email", "")
    return gettext(
        "%(actor)s changed the role of %(name)s from %(before)s to %(after)s.",
        actor=actor,
        name=name,
        before=role_label(d.get("from", "")),
        after=role_label(d.get("to", "")),
    )


def _organization_update(e: AuditEntry, c: _Context, actor: str) -> str:
    organization = c.organizations.get(e.target_id) if e.target_id else None
    return gettext(
        "%(actor)s changed the %(fields)s of the organization %(name)s.",
        actor=actor,
        fields=_fields((e.details or {}).get("changed") or {}),
        name=organization.name if organization else "",
    )


def _retry(e: AuditEntry, c: _Context, actor: str) -> str:
    count = _n(e.details or {}, "messages")
    return ngettext(
        "%(actor)s sent %(num)s undelivered message again.",
        "%(actor)s sent %(num)s undelivered messages again.",
        count,
        actor=actor,
    )


def _goals(e: AuditEntry, c: _Context, actor: str) -> str:
    goals = (e.details or {}).get("goals") or []
    return gettext(
        "%(actor)s set the pledge's goals: %(goals)s signers.",
        actor=actor,
        goals=_join(flask_babel.format_number(int(g)) for g in goals if str(g).isdigit()),
    )


def _scan(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    if d.get("kept"):
        return gettext(
            "%(actor)s checked a scan of paper sheet %(code)s and kept it.",
            actor=actor,
            code=d.get("code", ""),
        )
    return gettext(
        "%(actor)s checked a scan of paper sheet %(code)s.", actor=actor, code=d.get("code", "")
    )


def _schedule(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    count = _n(d, "sessions") or 1
    return ngettext(
        "%(actor)s scheduled the dialogue session “%(title)s”.",
        "%(actor)s scheduled a series of %(num)s dialogue sessions, “%(title)s”.",
        count,
        actor=actor,
        title=d.get("title", ""),
    )


def _attendance(e: AuditEntry, c: _Context, actor: str) -> str:
    d = e.details or {}
    return gettext(
        "%(actor)s took attendance at a dialogue session: %(marked)s marked present, "
        "%(unmarked)s unmarked.",
        actor=actor,
        marked=_n(d, "marked"),
        unmarked=_n(d, "unmarked"),
    )


# Each msgid is written out where it is used, so `make translations` finds it.
SENTENCES: dict[str, Sentence] = {
    "signature.hide": _hide,
    "signature.unhide": lambda e, c, actor: gettext(
        "%(actor)s showed the signature of %(signer)s again.",
        actor=actor,
        signer=signer_phrase(c.signatures.get(e.target_id)),
    ),
    "signature.approve": lambda e, c, actor: gettext(
        "%(actor)s approved the signature of %(signer)s.",
        actor=actor,
        signer=signer_phrase(c.signatures.get(e.target_id)),
    ),
    "signature.review": lambda e, c, actor: gettext(
        "%(actor)s reviewed the signature of %(signer)s and left it on the wall.",
        actor=actor,
        signer=signer_phrase(c.signatures.get(e.target_id)),
    ),
    "signatures.bulk_hide": _bulk_hide,
    "reports.dismiss": _reports(dismissed=True),
    "reports.hide": _reports(dismissed=False),
    "signature.pdf": _signature_pdf,
    "export.csv": _export,
    "dossier.export": _dossier,
    "pledge.create": lambda e, c, actor: gettext("%(actor)s created the pledge.", actor=actor),
    "pledge.update": _pledge_update,
    "pledge.open": lambda e, c, actor: gettext("%(actor)s opened the pledge.", actor=actor),
    "pledge.reopen": lambda e, c, actor: gettext("%(actor)s reopened the pledge.", actor=actor),
    "pledge.close": lambda e, c, actor: gettext("%(actor)s closed the pledge.", actor=actor),
    "pledge.language": _language,
    "translation.add": lambda e, c, actor: _translation_text(
        e,
        gettext(
            "%(actor)s added a translation into %(language)s.",
            actor=actor,
            language=_languages([(e.details or {}).get("locale", "")]),
        ),
    ),
    "translation.update": lambda e, c, actor: _translation_text(
        e,
        gettext(
            "%(actor)s changed the translation into %(language)s.",
            actor=actor,
            language=_languages([(e.details or {}).get("locale", "")]),
        ),
    ),
    "translation.remove": lambda e, c, actor: gettext(
        "%(actor)s removed the translation into %(language)s.",
        actor=actor,
        language=_languages([(e.details or {}).get("locale", "")]),
    ),
    "commitment.add": _commitment_add,
    "commitment.reword": _commitment_reword,
    "commitment.require": lambda e, c, actor: gettext(
        "%(actor)s made commitment %(number)s required.", actor=actor, number=_commitment(e, c)
    ),
    "commitment.unrequire": lambda e, c, actor: gettext(
        "%(actor)s made commitment %(number)s optional.", actor=actor, number=_commitment(e, c)
    ),
    "commitment.move": _commitment_move,
    "commitment.retire": lambda e, c, actor: gettext(
        "%(actor)s retired commitment %(number)s: new signers are no longer offered it.",
        actor=actor,
        number=_commitment(e, c),
    ),
    "commitment.restore": lambda e, c, actor: gettext(
        "%(actor)s offered commitment %(number)s again.", actor=actor, number=_commitment(e, c)
    ),
    "organizer.add": lambda e, c, actor: gettext(
        "%(actor)s shared the pledge with %(person)s.", actor=actor, person=_target_person(e, c)
    ),
    "organizer.remove": lambda e, c, actor: gettext(
        "%(actor)s stopped sharing the pledge with %(person)s.",
        actor=actor,
        person=_target_person(e, c),
    ),
    "cosigner.add": lambda e, c, actor: gettext(
        "%(actor)s added %(name)s as a co-signing organization.",
        actor=actor,
        name=_organization_name(e, c),
    ),
    "cosigner.remove": lambda e, c, actor: gettext(
        "%(actor)s removed %(name)s from the co-signing organizations.",
        actor=actor,
        name=_organization_name(e, c),
    ),
    "organization.create": lambda e, c, actor: gettext(
        "%(actor)s created the organization %(name)s.",
        actor=actor,
        name=_organization_name(e, c),
    ),
    "organization.update": _organization_update,
    "user.create": lambda e, c, actor: gettext(
        "%(actor)s created an account for %(person)s.", actor=actor, person=_target_person(e, c)
    ),
    "user.invite": lambda e, c, actor: gettext(
        "%(actor)s invited %(person)s.", actor=actor, person=_target_person(e, c)
    ),
    "user.deactivate": lambda e, c, actor: gettext(
        "%(actor)s deactivated the account of %(person)s.",
        actor=actor,
        person=_target_person(e, c),
    ),
    "user.reactivate": lambda e, c, actor: gettext(
        "%(actor)s reactivated the account of %(person)s.",
        actor=actor,
        person=_target_person(e, c),
    ),
    "user.role": _role,
    "user.password_reset": lambda e, c, actor: gettext(
        "%(actor)s set a new password from an emailed link.", actor=actor
    ),
    "user.password_change": lambda e, c, actor: gettext(
        "%(actor)s changed their password.", actor=actor
    ),
    "user.sessions_end": lambda e, c, actor: gettext(
        "%(actor)s logged out their other sessions.", actor=actor
    ),
    "mail.retry_dead": _retry,
    "job.retry": lambda e, c, actor: gettext("%(actor)s retried a failed job.", actor=actor),
    "pledge.goals": _goals,
    "update.create": lambda e, c, actor: gettext("%(actor)s drafted an update.", actor=actor),
    "update.edit": lambda e, c, actor: gettext("%(actor)s edited an update.", actor=actor),
    "update.publish": lambda e, c, actor: gettext("%(actor)s published an update.", actor=actor),
    "update.send": lambda e, c, actor: gettext(
        "%(actor)s started emailing an update to the signers who asked for updates.", actor=actor
    ),
    "update.pause": lambda e, c, actor: gettext(
        "%(actor)s paused the emails of an update.", actor=actor
    ),
    "update.resume": lambda e, c, actor: gettext(
        "%(actor)s resumed the emails of an update.", actor=actor
    ),
    "paper.sheet": lambda e, c, actor: gettext(
        "%(actor)s made paper sheet %(code)s.", actor=actor, code=(e.details or {}).get("code", "")
    ),
    "signature.paper": lambda e, c, actor: gettext(
        "%(actor)s entered the signature of %(signer)s from paper sheet %(code)s.",
        actor=actor,
        signer=signer_phrase(c.signatures.get(e.target_id)),
        code=(e.details or {}).get("sheet", ""),
    ),
    "paper.scan": _scan,
    "paper.scan_delete": lambda e, c, actor: gettext(
        "%(actor)s deleted the kept scan of paper sheet %(code)s.",
        actor=actor,
        code=(e.details or {}).get("code", ""),
    ),
    "session.schedule": _schedule,
    "session.delete": lambda e, c, actor: gettext(
        "%(actor)s deleted the dialogue session “%(title)s”.",
        actor=actor,
        title=(e.details or {}).get("title", ""),
    ),
    "session.attendance": _attendance,
}


def _translation_text(entry: AuditEntry, text: str) -> str:
    positions = [str(p) for p in (entry.details or {}).get("commitments") or []]
    if not positions:
        return text
    return (
        text
        + " "
        + ngettext(
            "It covers commitment %(positions)s.",
            "It covers commitments %(positions)s.",
            len(positions),
            positions=_join(positions),
        )
    )


def _target_person(entry: AuditEntry, context: _Context) -> str:
    user = context.users.get(entry.target_id) if entry.target_id else None
    return _person(user, (entry.details or {}).get("email", ""))


def _organization_name(entry: AuditEntry, context: _Context) -> str:
    organization = context.organizations.get(entry.target_id) if entry.target_id else None
    return (entry.details or {}).get("name") or (organization.name if organization else "")


def sentence(entry: AuditEntry, context: _Context) -> str:
    actor = _actor(entry, context)
    words = SENTENCES.get(entry.action)
    if words is None:
        # An act recorded by newer code than this: say so rather than show nothing.
        return gettext("%(actor)s did something this version has no words for.", actor=actor)
    return words(entry, context, actor)
