"""Writing emails into the outbox, in the same transaction as whatever caused them."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import escape
from sqlalchemy import and_, delete, func, or_, select

from pledges.extensions import db
from pledges.infrastructure.database import bulk_insert_returning_ids, utcnow
from pledges.mail.sealing import sealer
from pledges.mail.transports import FileTransport, message_name
from pledges.models import MailStatus, OutboxEmail, Signature, SignatureStatus

#: Set on the session when it holds new outbox rows, read by the dispatcher after commit.
PENDING_FLAG = "pledges.mail_pending"
# Built once: composing an INSERT costs about a third of running it.
_INSERT_MESSAGE = OutboxEmail.__table__.insert()


def queue_email(
    to: str,
    subject: str,
    template: str,
    *,
    about: Signature | None = None,
    list_unsubscribe: str | None = None,
    **context: Any,
) -> int:
    """Render ``templates/email/<template>.txt`` and ``.html`` into an outbox row; its id.

    The row is written in the session's transaction: it is committed, or rolled back,
    together with the change that caused it. ``about`` links the message to the signature
    it concerns, so withdrawing that signature also erases the mail about it;
    ``list_unsubscribe`` is the link a one-click unsubscribe (RFC 8058) posts to, for the
    kinds of mail a signer can stop from their mail client. The bodies and that link are
    stored encrypted (they work) and dropped once the message is sent.
    """
    return _write_message(
        to,
        subject,
        template,
        about=about,
        body_text=render_template(f"email/{template}.txt", subject=subject, **context),
        body_html=render_template(f"email/{template}.html", subject=subject, **context),
        list_unsubscribe=list_unsubscribe,
    )


def _write_message(
    to: str,
    subject: str,
    template: str,
    *,
    about: Signature | None,
    body_text: str,
    body_html: str,
    list_unsubscribe: str | None = None,
) -> int:
    if about is not None and about.id is None:
        db.session.flush()  # a signature added but not yet written: its id, to link to
    row = _outbox_row(
        sealer(),  # the keys derived once for both bodies and the link
        utcnow(),
        signature_id=about.id if about is not None else None,
        template=template,
        to_address=to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        list_unsubscribe=list_unsubscribe,
    )
    # A Core INSERT, not an OutboxEmail added to the session: nothing reads the row back
    # before the commit, and the unit of work's flush cost several times the statement.
    message_id = db.session.execute(_INSERT_MESSAGE, row).inserted_primary_key[0]
    db.session.info[PENDING_FLAG] = True
    return message_id


def queue_personal_email(
    to: str,
    subject: str,
    template: str,
    *,
    about: Signature,
    values: Mapping[str, str | None],
) -> int:
    """``queue_email`` for a message that differs from others of its template only by the
    strings in ``values``: its two bodies are rendered once per process, language and set
    of values given (``None``: not given), by ``render_with_stand_ins``, and each message
    gets its own values put in. Rendering was most of the cost of a signature's
    confirmation email. The subject is one of the values.
    """
    values = {**values, "subject": subject}
    given = frozenset(name for name, value in values.items() if value is not None)
    key = (template, str(get_locale()), given, frozenset(values))
    bodies = _PERSONAL_BODIES.get(key)
    if bodies is None:
        bodies = render_with_stand_ins(template, given, absent=values.keys() - given)
        if not current_app.jinja_env.auto_reload:  # templates edited while serving
            _PERSONAL_BODIES[key] = bodies
    body_text, body_html = bodies.put_in(values)
    return _write_message(
        to, subject, template, about=about, body_text=body_text, body_html=body_html
    )


#: Per process: a template's bodies with stand-ins, by language and values given.
_PERSONAL_BODIES: dict[tuple, PersonalBodies] = {}
# Random per process, so that no text a template or a translation holds can look like one.
_NONCE = secrets.token_hex(6)
_STAND_IN = re.compile(rf"JF{_NONCE}([a-z_.]+)Q")


@dataclass(frozen=True)
class PersonalBodies:
    """A template's text and HTML bodies, rendered once with a stand-in where each personal
    value goes: they hold no one's values. ``put_in`` makes one person's email of them."""

    text: str
    html: str
    given: frozenset[str]

    def put_in(self, values: Mapping[str, str | None]) -> tuple[str, str]:
        """The (text, HTML) bodies with ``values`` in place of the stand-ins, escaped in
        the HTML as the template would have escaped them (``&`` in a link is ``&amp;``).
        ``values`` must give exactly the values the bodies were rendered with: one given
        that was not would be lost, one missing would leave a stand-in in the mail."""
        given = frozenset(name for name, value in values.items() if value is not None)
        if given != self.given:
            raise ValueError(
                f"values {sorted(given)} given for bodies rendered with {sorted(self.given)}"
            )
        return (
            _STAND_IN.sub(lambda found: values[found.group(1)], self.text),
            _STAND_IN.sub(lambda found: str(escape(values[found.group(1)])), self.html),
        )


def render_with_stand_ins(
    template: str, given: Iterable[str], *, absent: Iterable[str] = (), **shared: Any
) -> PersonalBodies:
    """Render ``templates/email/<template>.txt`` and ``.html`` once for every message that
    differs from the others only by the strings named in ``given``, each rendered as a
    stand-in; ``absent`` names values rendered as ``None`` (not given), and ``shared`` is
    the rest of the context, the same for everyone the bodies are for.

    A value's name is the template's variable (``"manage_url"``) or an object's attribute
    (``"signature.full_name"``: the template gets a ``signature`` that has only the
    attributes named; reading another raises, so a template that comes to need one more
    value fails at once rather than freezing the first person's into everyone's mail).
    A value must reach the body as it is, escaped or not: a filter that changes a stand-in
    raises here rather than sending it.
    """
    given = frozenset(given)
    context: dict[str, Any] = {}
    objects: dict[str, dict[str, str | None]] = {}
    for name in (*given, *absent):
        owner, _, attribute = name.rpartition(".")
        stand_in = _stand_in(name) if name in given else None
        if owner:
            objects.setdefault(owner, {})[attribute] = stand_in
        else:
            context[name] = stand_in
    context.update({owner: _Values(owner, fields) for owner, fields in objects.items()})
    if overlap := context.keys() & shared.keys():
        raise ValueError(f"{sorted(overlap)} both personal and shared")
    bodies = [
        render_template(f"email/{template}.{kind}", **shared, **context) for kind in ("txt", "html")
    ]
    for body in bodies:
        # Compared without case: a filter such as ``upper`` changes the nonce too.
        if body.casefold().count(_NONCE) != len(_STAND_IN.findall(body)):
            raise ValueError(f"email/{template}: a personal value was changed in rendering")
    return PersonalBodies(*bodies, given=given)


def _stand_in(name: str) -> str:
    return f"JF{_NONCE}{name}Q"


class _Values:
    """An object in a template rendered with stand-ins: only the attributes named."""

    def __init__(self, name: str, attributes: dict[str, str | None]) -> None:
        self._name, self._attributes = name, attributes

    def __getattr__(self, attribute: str) -> str | None:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        if attribute not in self._attributes:
            # Not AttributeError, which Jinja would render as an empty string.
            raise LookupError(f"{self._name}.{attribute} is not among this email's personal values")
        return self._attributes[attribute]


def queue_rendered(messages: list[dict[str, Any]]) -> list[int]:
    """Write many emails at once (the same email to many signers, rendered by the caller
    once and personalised by replacing their links): one bulk INSERT, in the caller's
    transaction. Each dict holds ``to_address``, ``subject``, ``template``, ``body_text``,
    ``body_html``, and optionally ``signature_id``, ``list_unsubscribe`` and
    ``next_attempt_at``; bodies and link are sealed here, as ``queue_email`` seals them.
    Returns the rows' ids, in order."""
    if not messages:
        return []
    seal, now = sealer(), utcnow()
    rows = [_outbox_row(seal, now, **message) for message in messages]
    ids = bulk_insert_returning_ids(db.session, OutboxEmail.__table__, rows)
    db.session.info[PENDING_FLAG] = True
    return ids


def _outbox_row(
    seal: Callable[[str | None], str | None],
    now: datetime,
    *,
    to_address: str,
    subject: str,
    template: str,
    body_text: str,
    body_html: str,
    signature_id: int | None = None,
    list_unsubscribe: str | None = None,
    next_attempt_at: datetime | None = None,
) -> dict[str, Any]:
    """A new outbox row: due at ``next_attempt_at`` (default: now), its bodies and
    unsubscribe link sealed with ``seal``."""
    return {
        "signature_id": signature_id,
        "template": template,
        "to_address": to_address,
        "subject": subject,
        "body_text": seal(body_text),
        "body_html": seal(body_html),
        "list_unsubscribe": seal(list_unsubscribe),
        "status": MailStatus.PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": next_attempt_at or now,
    }


def purge_sent_mail() -> int:
    """Delete sent messages older than OUTBOX_RETENTION_DAYS: what delivery left of them
    (template, masked recipient, times) is needed for nothing after that. Pending and dead
    ones stay (dead letters can still be retried). Returns how many went; the caller
    commits."""
    cutoff = utcnow() - timedelta(days=current_app.config["OUTBOX_RETENTION_DAYS"])
    result = db.session.execute(
        delete(OutboxEmail)
        .where(OutboxEmail.status == MailStatus.SENT, OutboxEmail.sent_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def erase_mail(signature_id: int | None, addresses: set[str]) -> list[int]:
    """Delete every message about the signature ``signature_id``, and every message to one
    of ``addresses`` (compared without case) that is not about another signature still
    standing (the same person may have signed another pledge); returns their ids. The
    caller commits, then calls ``forget_delivered_copies``."""
    lowered = sorted({address.casefold() for address in addresses if address})
    about = [OutboxEmail.signature_id == signature_id] if signature_id is not None else []
    to = (
        [
            and_(
                func.lower(OutboxEmail.to_address).in_(lowered),
                or_(
                    OutboxEmail.signature_id.is_(None),
                    OutboxEmail.signature_id.not_in(_standing_signatures(exclude=signature_id)),
                ),
            )
        ]
        if lowered
        else []
    )
    if not about and not to:
        return []
    ids = list(db.session.scalars(select(OutboxEmail.id).where(or_(*about, *to))))
    for start in range(0, len(ids), 500):
        db.session.execute(
            delete(OutboxEmail)
            .where(OutboxEmail.id.in_(ids[start : start + 500]))
            .execution_options(synchronize_session=False)
        )
    return ids


def _standing_signatures(exclude: int | None):
    standing = select(Signature.id).where(Signature.status != SignatureStatus.WITHDRAWN)
    return standing.where(Signature.id != exclude) if exclude is not None else standing


def forget_delivered_copies(ids: list[int], addresses: set[str]) -> int:
    """Delete the file transport's copies of the messages ``ids``, and any other copy sent
    to one of ``addresses`` (one whose outbox row was purged already) unless it is the
    copy of a message about a signature still standing. Returns how many."""
    if current_app.config["MAIL_TRANSPORT"] != "file":
        return 0
    # Its own connection: this runs after the erasing session's commit.
    with db.engine.connect() as connection:
        kept = connection.scalars(
            select(OutboxEmail.id).where(OutboxEmail.signature_id.in_(_standing_signatures(None)))
        ).all()
    return FileTransport(current_app.config["MAIL_OUTBOX_DIR"]).forget(
        {message_name(row_id) for row_id in ids}, addresses, keep={message_name(i) for i in kept}
    )
