"""Organizers' updates to signers: written in the pledge's languages, drafted and previewed,
published on the pledge page, the wall and the feed, and emailed to the signers who asked.

Emailing an update to 100,000 signers is an ``UpdateSend``: one ``update_deliveries`` row per
subscribed signer, written by one INSERT … SELECT, then handed to the outbox batch by batch
by ``run_send`` (a job, through ``pledges.infrastructure.jobs.enqueue``). Each batch claims
its rows with a conditional UPDATE and writes their emails to the outbox in the same
transaction, so a worker killed mid-run loses the whole batch or none of it, and running the
job again skips every row done: exactly one email per signer per update. The emails are
spaced at ``UPDATE_EMAILS_PER_MINUTE`` through the outbox's own schedule (``next_attempt_at``),
whatever the number of delivery processes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from pledges.domain import milestones, transitions
from pledges.domain.rules import RuleError
from pledges.domain.signers import issue_hide_tokens
from pledges.domain.tallies import tally_for
from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.i18n import signer_language
from pledges.infrastructure.jobs import enqueue
from pledges.infrastructure.urls import external_url
from pledges.mail.discreet import subject_for
from pledges.mail.outbox import PersonalBodies, queue_rendered, render_with_stand_ins
from pledges.mail.unsubscribe import OneClickLink
from pledges.models import (
    DeliveryState,
    MailStatus,
    OutboxEmail,
    Pledge,
    PledgeUpdate,
    PledgeUpdateTranslation,
    SendStatus,
    Signature,
    SignatureStatus,
    UpdateDelivery,
    UpdateSend,
    UpdateStatus,
)

log = logging.getLogger(__name__)

#: How far ahead of its time an email may wait in the outbox: what a pause cannot take back
#: beyond the rows it returns, and how long the job sleeps at most between batches.
LOOKAHEAD = timedelta(seconds=60)
#: Updates listed on the pledge page and the wall.
RECENT_UPDATES = 3
#: Greatest number of goals an organizer may line up.
MAX_GOALS = 20


class UpdateError(RuleError):
    """A rule on updates was broken."""


@dataclass(frozen=True)
class UpdateText:
    title: str
    body: str


# Writing.


def languages_of(pledge: Pledge) -> list[str]:
    """The pledge's own language first, then those it is translated into."""
    return list(dict.fromkeys([pledge.language, *(t.locale for t in pledge.translations)]))


def texts_of(update: PledgeUpdate) -> dict[str, UpdateText]:
    texts = {t.locale: UpdateText(t.title, t.body) for t in update.translations}
    texts[update.pledge.language] = UpdateText(update.title, update.body)
    return texts


def save_update(
    pledge: Pledge, texts: Mapping[str, UpdateText], update: PledgeUpdate | None = None
) -> PledgeUpdate:
    """Create or edit an update from its text per language (the pledge's own is required;
    a translation left empty is dropped). The caller commits."""
    original = texts.get(pledge.language)
    if original is None or not original.title.strip() or not original.body.strip():
        raise UpdateError(
            gettext("Give the update a title and a text in the pledge's own language."),
            field=f"title_{pledge.language}",
        )
    creating = update is None
    if update is None:
        update = PledgeUpdate(pledge_id=pledge.id, status=UpdateStatus.DRAFT)
        db.session.add(update)
    update.title, update.body = original.title.strip(), original.body.strip()
    kept = {t.locale: t for t in update.translations}
    translations = []
    for locale in languages_of(pledge)[1:]:
        text = texts.get(locale)
        title, body = (text.title.strip(), text.body.strip()) if text else ("", "")
        if not title and not body:
            continue
        if not title or not body:
            raise UpdateError(
                gettext("A translation needs both its title and its text."),
                field=f"title_{locale}" if not title else f"body_{locale}",
            )
        row = kept.get(locale) or PledgeUpdateTranslation(locale=locale)
        row.title, row.body = title, body
        translations.append(row)
    update.translations = translations
    db.session.flush()
    audit.record("update.create" if creating else "update.edit", pledge=pledge, target=update)
    if update.status == UpdateStatus.PUBLISHED:
        transitions.wall_content_changed(pledge.id)
    return update


def publish(update: PledgeUpdate) -> None:
    if update.status == UpdateStatus.PUBLISHED:
        return
    update.status = UpdateStatus.PUBLISHED
    update.published_at = utcnow()
    audit.record("update.publish", pledge=update.pledge, target=update)
    transitions.wall_content_changed(update.pledge_id)


def update_of(pledge: Pledge, update_id: int) -> PledgeUpdate | None:
    return db.session.scalar(
        select(PledgeUpdate).where(
            PledgeUpdate.id == update_id, PledgeUpdate.pledge_id == pledge.id
        )
    )


def updates_of(pledge: Pledge) -> list[PledgeUpdate]:
    """Every update of the pledge for its organizers: drafts first, then newest first."""
    return list(
        db.session.scalars(
            select(PledgeUpdate)
            .where(PledgeUpdate.pledge_id == pledge.id)
            .order_by(
                (PledgeUpdate.status == UpdateStatus.PUBLISHED),
                PledgeUpdate.published_at.desc(),
                PledgeUpdate.created_at.desc(),
                PledgeUpdate.id.desc(),
            )
        )
    )


# Reading, in public.


@dataclass(frozen=True)
class PublicUpdate:
    id: int
    title: str
    body: str
    published_on: datetime
    language: str


def in_language(update: PledgeUpdate, language: str) -> PublicUpdate:
    """The update in ``language`` where translated, else in the pledge's own."""
    text = texts_of(update).get(language)
    if text is None:
        language = update.pledge.language
        text = UpdateText(update.title, update.body)
    assert update.published_at is not None
    return PublicUpdate(update.id, text.title, text.body, update.published_at, language)


def published_updates(
    pledge: Pledge, language: str, limit: int | None = None
) -> list[PublicUpdate]:
    """The pledge's published updates, newest first, in ``language`` where translated."""
    query = (
        select(PledgeUpdate)
        .where(PledgeUpdate.pledge_id == pledge.id, PledgeUpdate.status == UpdateStatus.PUBLISHED)
        .order_by(PledgeUpdate.published_at.desc(), PledgeUpdate.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [in_language(u, language) for u in db.session.scalars(query)]


def published_update(pledge: Pledge, update_id: int, language: str) -> PublicUpdate | None:
    update = update_of(pledge, update_id)
    if update is None or update.status != UpdateStatus.PUBLISHED:
        return None
    return in_language(update, language)


# Milestones.


def set_goals(pledge: Pledge, goals: list[int]) -> None:
    """The organizer's step-up goals from now on; each must be above the current count."""
    total = tally_for(pledge.id).total
    if len(set(goals)) > MAX_GOALS:
        raise UpdateError(
            gettext("Line up at most %(count)s goals.", count=MAX_GOALS), field="goals"
        )
    low = [goal for goal in goals if goal <= total]
    if low:
        raise UpdateError(
            gettext(
                "Each goal must be above the current count (%(total)s): %(goals)s is not.",
                total=total,
                goals=", ".join(str(goal) for goal in sorted(set(low))),
            ),
            field="goals",
        )
    milestones.set_goals(pledge, goals)
    audit.record("pledge.goals", pledge=pledge, details={"goals": sorted(set(goals))})
    transitions.wall_content_changed(pledge.id)


# The signer's choice.

UPDATES_ONE_CLICK = OneClickLink("pledges updates unsubscribe")


def unsubscribe_token(signature: Signature) -> str:
    return UPDATES_ONE_CLICK.token(signature.id)


def signature_for_unsubscribe_token(token: str) -> Signature | None:
    return UPDATES_ONE_CLICK.signature(token)


def set_wants_updates(signature: Signature, wanted: bool) -> None:
    if signature.status == SignatureStatus.WITHDRAWN:
        raise UpdateError(gettext("This signature was withdrawn."))
    signature.wants_updates = wanted


def unsubscribe(signature: Signature) -> None:
    """Stop the signer's update emails, including those of a send under way that were not
    handed to the outbox yet; repeating it is harmless."""
    signature.wants_updates = False


# Sending.


def receives_updates():
    """The SQL condition for "this signer gets update emails now": asked for them, and
    counted on the pledge (``tallies.counts_on_wall``: confirmed; not held, hidden by the
    moderators or withdrawn), with an address to write to."""
    return and_(
        Signature.wants_updates.is_(True),
        Signature.status == SignatureStatus.CONFIRMED,
        Signature.email.is_not(None),
    )


def subscriber_count(pledge: Pledge) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Signature)
            .where(Signature.pledge_id == pledge.id, receives_updates())
        )
        or 0
    )


def send_of(update: PledgeUpdate) -> UpdateSend | None:
    return db.session.scalar(select(UpdateSend).where(UpdateSend.update_id == update.id))


def start_send(update: PledgeUpdate) -> UpdateSend:
    """Email a published update to every subscribed signer: one delivery row each, written
    by one INSERT … SELECT whatever their number. Once per update. The caller commits,
    then calls ``enqueue_send``."""
    if update.status != UpdateStatus.PUBLISHED:
        raise UpdateError(gettext("Publish the update before emailing it."))
    send = UpdateSend(update_id=update.id, status=SendStatus.RUNNING)
    try:
        with db.session.begin_nested():
            db.session.add(send)
    except IntegrityError:
        raise UpdateError(gettext("This update has been emailed already.")) from None
    table = UpdateDelivery.__table__
    db.session.execute(
        table.insert().from_select(
            ["send_id", "update_id", "signature_id", "state"],
            select(
                bindparam("send_id", send.id),
                bindparam("update_id", update.id),
                Signature.id,
                bindparam("state", DeliveryState.QUEUED.value),
            )
            .where(Signature.pledge_id == update.pledge_id, receives_updates())
            .order_by(Signature.id),
        )
    )
    audit.record("update.send", pledge=update.pledge, target=update)
    return send


def enqueue_send(send: UpdateSend) -> None:
    enqueue(run_send, send.id)


def pause(send: UpdateSend) -> int:
    """Stop handing this send's emails to the outbox, and take back those waiting there
    that no delivery process has taken yet. Returns how many were taken back."""
    paused = db.session.execute(
        update(UpdateSend)
        .where(UpdateSend.id == send.id, UpdateSend.status == SendStatus.RUNNING)
        .values(status=SendStatus.PAUSED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not paused:
        return 0
    waiting = dict(
        db.session.execute(
            select(UpdateDelivery.outbox_email_id, UpdateDelivery.id)
            .join(OutboxEmail, OutboxEmail.id == UpdateDelivery.outbox_email_id)
            .where(
                UpdateDelivery.send_id == send.id,
                OutboxEmail.status == MailStatus.PENDING,
                OutboxEmail.attempts == 0,
                OutboxEmail.claimed_until.is_(None),
            )
        ).all()
    )
    taken_back: list[int] = []
    ids = list(waiting)
    for start in range(0, len(ids), transitions.BATCH):
        # Conditional: a row a delivery process claimed meanwhile is left to it.
        taken_back += db.session.scalars(
            delete(OutboxEmail)
            .where(
                OutboxEmail.id.in_(ids[start : start + transitions.BATCH]),
                OutboxEmail.status == MailStatus.PENDING,
                OutboxEmail.claimed_until.is_(None),
            )
            .returning(OutboxEmail.id)
            .execution_options(synchronize_session=False)
        ).all()
    deliveries = [waiting[outbox_id] for outbox_id in taken_back]
    for batch in transitions.chunks(deliveries):
        db.session.execute(
            update(UpdateDelivery)
            .where(UpdateDelivery.id.in_(batch))
            .values(state=DeliveryState.QUEUED, outbox_email_id=None)
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        update(UpdateSend)
        .where(UpdateSend.id == send.id)
        .values(next_slot_at=None)
        .execution_options(synchronize_session=False)
    )
    audit.record("update.pause", pledge=send.update.pledge, target=send.update)
    return len(taken_back)


def resume(send: UpdateSend) -> bool:
    """Carry on where the send stopped; the caller commits, then calls ``enqueue_send``."""
    resumed = db.session.execute(
        update(UpdateSend)
        .where(UpdateSend.id == send.id, UpdateSend.status == SendStatus.PAUSED)
        .values(status=SendStatus.RUNNING)
        .execution_options(synchronize_session=False)
    ).rowcount
    if resumed:
        audit.record("update.resume", pledge=send.update.pledge, target=send.update)
    return bool(resumed)


@dataclass(frozen=True)
class SendProgress:
    queued: int  # not delivered yet: before the outbox, or waiting in it
    sent: int
    failed: int  # given up on by the outbox (dead letters, retried from /admin/mail)
    skipped: int  # no longer subscribed, or hidden or withdrawn since the send began

    @property
    def total(self) -> int:
        return self.queued + self.sent + self.failed + self.skipped


def progress(send: UpdateSend) -> SendProgress:
    counts = {"queued": 0, "sent": 0, "failed": 0, "skipped": 0}
    rows = db.session.execute(
        select(UpdateDelivery.state, OutboxEmail.status, func.count())
        .outerjoin(OutboxEmail, OutboxEmail.id == UpdateDelivery.outbox_email_id)
        .where(UpdateDelivery.send_id == send.id)
        .group_by(UpdateDelivery.state, OutboxEmail.status)
    )
    for state, mail_status, count in rows:
        if state == DeliveryState.QUEUED:
            counts["queued"] += count
        elif state == DeliveryState.SKIPPED:
            counts["skipped"] += count
        elif mail_status == MailStatus.PENDING:
            counts["queued"] += count
        elif mail_status == MailStatus.DEAD:
            counts["failed"] += count
        else:
            # Sent; or its outbox row is gone: purged after OUTBOX_RETENTION_DAYS once sent,
            # or erased with a signer who withdrew.
            counts["sent"] += count
    return SendProgress(**counts)


def running_sends() -> list[int]:
    return list(
        db.session.scalars(
            select(UpdateSend.id)
            .where(UpdateSend.status == SendStatus.RUNNING)
            .order_by(UpdateSend.id)
        )
    )


#: Called after each batch is committed, with the send's id (tests interrupt a run here).
after_batch: list[Callable[[int], None]] = []


def run_send(send_id: int) -> None:
    """The job: hand the send's emails to the outbox batch by batch, each batch no further
    ahead of its time than LOOKAHEAD, until none is left or the send is paused. Safe to run
    again, or twice at once: every row is claimed once."""
    while True:
        send = db.session.get(UpdateSend, send_id, populate_existing=True)
        if send is None or send.status != SendStatus.RUNNING:
            db.session.commit()
            return
        wait = (
            (send.next_slot_at - utcnow() - LOOKAHEAD).total_seconds() if send.next_slot_at else 0
        )
        db.session.commit()  # no transaction held while sleeping
        if wait > 0:
            time.sleep(min(wait, 5.0))  # and look again: paused meanwhile?
            continue
        if not fan_out_batch(send_id):
            return
        for hook in after_batch:
            hook(send_id)


def fan_out_batch(send_id: int) -> bool:
    """Write the next batch of the send's emails to the outbox, in one transaction; False
    when none was left (the send is then marked done)."""
    config = current_app.config
    send = db.session.get(UpdateSend, send_id, populate_existing=True)
    if send is None or send.status != SendStatus.RUNNING:
        db.session.rollback()
        return False
    per_minute = config["UPDATE_EMAILS_PER_MINUTE"]
    size = config["UPDATE_BATCH_SIZE"]
    if per_minute:
        size = min(size, per_minute)  # a batch spans at most a minute of sending
    candidates = (
        select(UpdateDelivery.id)
        .where(UpdateDelivery.send_id == send_id, UpdateDelivery.state == DeliveryState.QUEUED)
        .order_by(UpdateDelivery.id)
        .limit(size)
        .scalar_subquery()
    )
    # The claim: only rows still queued are ours, whoever else runs this send.
    claimed = db.session.execute(
        update(UpdateDelivery)
        .where(UpdateDelivery.id.in_(candidates), UpdateDelivery.state == DeliveryState.QUEUED)
        .values(state=DeliveryState.OUTBOXED)
        .returning(UpdateDelivery.id, UpdateDelivery.signature_id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        left = db.session.scalar(
            select(func.count())
            .select_from(UpdateDelivery)
            .where(UpdateDelivery.send_id == send_id, UpdateDelivery.state == DeliveryState.QUEUED)
        )
        if left:  # another run claimed these first; more are there
            db.session.commit()
            return True
        send.status = SendStatus.DONE
        send.finished_at = utcnow()
        db.session.commit()
        return False
    update_row = send.update
    texts = texts_of(update_row)
    signatures = {
        row.id: row
        for row in db.session.execute(
            select(Signature.id, Signature.email, Signature.locale, Signature.discreet_mail).where(
                Signature.id.in_([signature_id for _, signature_id in claimed]), receives_updates()
            )
        )
    }
    now = utcnow()
    slot = max(now, send.next_slot_at or now)
    spacing = timedelta(minutes=1) / per_minute if per_minute else timedelta(0)
    hide_tokens = issue_hide_tokens(sorted(signatures))
    rendered: dict[str, RenderedUpdate] = {}
    messages: list[dict] = []
    written: list[int] = []
    skipped: list[int] = []
    for delivery_id, signature_id in sorted(claimed):
        signer = signatures.get(signature_id)
        if signer is None:
            skipped.append(delivery_id)
            continue
        if signer.locale not in rendered:
            rendered[signer.locale] = _render(update_row, texts, signer.locale)
        email = rendered[signer.locale]
        links = {
            "unsubscribe_url": external_url(
                "updates.unsubscribe", token=UPDATES_ONE_CLICK.token(signer.id)
            ),
            "hide_url": external_url("me.hide", token=hide_tokens[signer.id]),
        }
        body_text, body_html = email.bodies.put_in(links)
        messages.append(
            {
                "signature_id": signer.id,
                "template": "update",
                "to_address": signer.email,
                "subject": subject_for(signer, email.subject, email.neutral_subject),
                "body_text": body_text,
                "body_html": body_html,
                "list_unsubscribe": links["unsubscribe_url"],
                "next_attempt_at": slot,
            }
        )
        written.append(delivery_id)
        slot += spacing
    outbox_ids = queue_rendered(messages)
    if written:
        table = UpdateDelivery.__table__  # Core: one executemany, not the ORM's bulk path
        db.session.execute(
            table.update()
            .where(table.c.id == bindparam("delivery_id"))
            .values(outbox_email_id=bindparam("outbox_id")),
            [{"delivery_id": d, "outbox_id": o} for d, o in zip(written, outbox_ids, strict=True)],
        )
    if skipped:
        db.session.execute(
            update(UpdateDelivery)
            .where(UpdateDelivery.id.in_(skipped))
            .values(state=DeliveryState.SKIPPED)
            .execution_options(synchronize_session=False)
        )
    send.next_slot_at = slot
    db.session.commit()
    return True


@dataclass(frozen=True)
class RenderedUpdate:
    subject: str
    neutral_subject: str  # for a signer who asked for discreet mail (pledges.mail.discreet)
    bodies: PersonalBodies  # each signer's own links to be put in


def _render(update_row: PledgeUpdate, texts: dict[str, UpdateText], locale: str) -> RenderedUpdate:
    """The update's email in ``locale``, rendered once for the signers of a batch who read
    that language, with stand-ins for each one's unsubscribe and hide links."""
    pledge = update_row.pledge
    text = texts.get(locale) or texts[pledge.language]
    with signer_language(locale):
        return RenderedUpdate(
            subject=text.title,
            neutral_subject=gettext("News"),
            bodies=render_with_stand_ins(
                "update",
                ["unsubscribe_url", "hide_url"],
                subject=text.title,
                update=text,
                update_url=external_url(
                    "updates.public_update",
                    slug=pledge.slug,
                    update_id=update_row.id,
                    **({"content": locale} if locale in texts else {}),
                ),
            ),
        )
