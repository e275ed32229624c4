"""The scheduled work, as jobs: what `pledges worker --with-scheduler` enqueues, and how often.

Without the job queue the same work runs from cron through the commands (`pledges
send-reminders`, `pledges purge-ip-hashes`, `pledges purge-sent-mail`); each is safe to run
twice, so a period that enqueues one job too many (a worker restarted) is harmless.
"""

from __future__ import annotations

from flask_babel import lazy_gettext

from pledges.extensions import db
from pledges.infrastructure import jobs
from pledges.infrastructure.database import checkpoint
from pledges.mail.dispatch import deliver_outbox

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@jobs.label(lazy_gettext("Sending check-in reminders"))
def send_reminders() -> None:
    from pledges.checkins.service import send_due_reminders

    send_due_reminders()  # commits signer by signer; each commit asks for a delivery


@jobs.label(lazy_gettext("Forgetting old IP hashes"))
def purge_ip_hashes() -> None:
    from pledges.infrastructure.abuse import purge_ip_hashes as purge

    purge()
    db.session.commit()
    checkpoint()


@jobs.label(lazy_gettext("Deleting old sent mail"))
def purge_sent_mail() -> None:
    from pledges.mail.outbox import purge_sent_mail as purge

    purge()
    db.session.commit()
    checkpoint()


SCHEDULE = (
    # Retries and mail queued where no delivery job was asked for.
    jobs.Every(deliver_outbox, MINUTE),
    jobs.Every(send_reminders, HOUR),
    jobs.Every(purge_ip_hashes, DAY),
    jobs.Every(purge_sent_mail, DAY),
)
