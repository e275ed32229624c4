"""Writing emails into the outbox, in the same transaction as whatever caused them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import delete

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import MailStatus, OutboxEmail, Signature

#: Set on the session when it holds new outbox rows, read by the dispatcher after commit.
PENDING_FLAG = "pledges.mail_pending"


def queue_email(
    to: str, subject: str, template: str, *, about: Signature | None = None, **context: Any
) -> OutboxEmail:
    """Render ``templates/email/<template>.txt`` and ``.html`` into an outbox row.

    The row is only added to the session: it is committed, or rolled back, together with
    the change that caused it. ``about`` links the message to the signature it concerns,
    so withdrawing that signature also erases the mail about it.
    """
    message = OutboxEmail(
        signature=about,
        to_address=to,
        subject=subject,
        body_text=render_template(f"email/{template}.txt", subject=subject, **context),
        body_html=render_template(f"email/{template}.html", subject=subject, **context),
    )
    db.session.add(message)
    db.session.info[PENDING_FLAG] = True
    return message


def purge_sent_mail() -> int:
    """Delete sent messages older than OUTBOX_RETENTION_DAYS: their recipients, subjects
    and bodies are needed for nothing once delivered. Pending and dead ones stay (dead
    letters can still be retried). Returns how many went; the caller commits."""
    cutoff = utcnow() - timedelta(days=current_app.config["OUTBOX_RETENTION_DAYS"])
    result = db.session.execute(
        delete(OutboxEmail)
        .where(OutboxEmail.status == MailStatus.SENT, OutboxEmail.sent_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
