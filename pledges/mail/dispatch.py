"""Delivering mail from inside the web process, right after the commit that queued it.

With ``MAIL_DISPATCH=thread`` (the default without the job queue) each web process keeps one
daemon thread, started by its first request, that wakes when a commit has queued mail, and
every few seconds for retries and for mail queued elsewhere (``pledges send-reminders``,
another host). It holds no state of its own: the outbox table is the queue, so several
processes or hosts can run it at once. A command that queues mail delivers it itself before
exiting (``deliver_before_exit``): a daemon thread would die with the command, perhaps
mid-send.
With ``MAIL_DISPATCH=queue`` (the default with the job queue, ``JOBS_BACKEND=rq``) a commit
that queued mail enqueues a delivery job (``deliver_outbox``) for ``pledges worker``, and the
worker's scheduler enqueues one every minute for retries and anything missed.
With ``MAIL_DISPATCH=worker`` nothing is sent from web processes and ``pledges deliver-mail
--loop`` does all delivery.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app, has_app_context
from flask_babel import lazy_gettext
from sqlalchemy import event
from sqlalchemy.orm import Session

from pledges.infrastructure import jobs
from pledges.mail.delivery import DeliveryReport, deliver_due
from pledges.mail.outbox import PENDING_FLAG

log = logging.getLogger(__name__)

EXTENSION_KEY = "pledges.mail_dispatcher"
RETRY_POLL_SECONDS = 5.0


class Dispatcher:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def kick(self) -> None:
        with self._lock:
            # Started lazily so that a forking server (gunicorn) starts one per worker.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pledges-mail", daemon=True)
                self._thread.start()
        self._wake.set()

    def ensure_running(self) -> None:
        """Start the thread, once, so that it also delivers mail this process did not queue."""
        if not self._stopping and (self._thread is None or not self._thread.is_alive()):
            self.kick()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Finish the current round and end the thread (tests, orderly shutdown)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(RETRY_POLL_SECONDS)
            self._wake.clear()
            if self._stopping:
                break
            try:
                with self.app.app_context():
                    while deliver_due().attempted:
                        pass
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.exception("mail delivery round failed; retrying shortly")


@jobs.label(lazy_gettext("Delivering the mail outbox"))
def deliver_outbox() -> None:
    """A job: send everything due in the outbox now."""
    while deliver_due().attempted:
        pass


class QueueDispatcher:
    """``MAIL_DISPATCH=queue``: each commit that queued mail asks the job queue for a
    delivery, unless one is waiting to start already."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def kick(self) -> None:
        try:
            jobs.enqueue_unless_waiting(deliver_outbox)
        except jobs.QueueUnavailable:  # committed already: the scheduled round sends it
            log.exception("could not enqueue mail delivery; the next scheduled round sends it")

    def stop(self, timeout: float | None = 5.0) -> None:
        pass


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(PENDING_FLAG, False) and has_app_context():
        dispatcher = current_app.extensions.get(EXTENSION_KEY)
        if dispatcher is not None:
            dispatcher.kick()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_FLAG, None)


def deliver_before_exit() -> DeliveryReport | None:
    """For a command that queued mail: with thread dispatch, end the thread once its round
    is finished and deliver what is due here, so nothing is cut off by the command exiting.
    None with queue or worker dispatch, where workers deliver."""
    dispatcher = current_app.extensions.get(EXTENSION_KEY)
    if not isinstance(dispatcher, Dispatcher):
        return None
    dispatcher.stop(timeout=None)
    report = DeliveryReport()
    while (round_report := deliver_due()).attempted:
        report.sent += round_report.sent
        report.failed += round_report.failed
        report.dead += round_report.dead
    return report


def init_app(app: Flask) -> None:
    if app.config["MAIL_DISPATCH"] == "queue":
        app.extensions[EXTENSION_KEY] = QueueDispatcher(app)
    elif app.config["MAIL_DISPATCH"] == "thread":
        dispatcher = Dispatcher(app)
        app.extensions[EXTENSION_KEY] = dispatcher
        # Started by the first request of each (possibly forked) web process, not by commands.
        app.before_request(dispatcher.ensure_running)
