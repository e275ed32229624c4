"""The app's own commands for the ``pledges`` command (``pledges/__main__.py``), registered by
``create_app``."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from pledges.extensions import db
from pledges.infrastructure.database import checkpoint

if TYPE_CHECKING:
    from pledges.mail.delivery import DeliveryReport


@click.command("seed-demo")
@click.option("--signatures", "count", default=200, show_default=True, type=click.IntRange(0))
@click.option("--if-empty", is_flag=True, help="Do nothing if any pledge exists already.")
@click.option(
    "--seed", "random_seed", type=int, default=None, help="Make the fake signers repeatable."
)
@with_appcontext
def seed_demo_command(count: int, if_empty: bool, random_seed: int | None) -> None:
    """Create the demo pledge (from the 2011 dialogue) and COUNT synthetic confirmed signers."""
    from pledges import demo

    if if_empty and demo.any_pledge_exists():
        click.echo("Pledges exist already; demo content left alone.")
        return
    started = time.perf_counter()
    pledge = demo.ensure_demo_pledge()
    db.session.commit()
    with click.progressbar(length=count, label="Signing demo allies") as bar:
        demo.add_synthetic_signatures(pledge, count, seed=random_seed, progress=bar.update)
    db.session.commit()
    click.echo(
        f"Demo pledge /p/{pledge.slug}: {count} signatures added "
        f"in {time.perf_counter() - started:.1f} s."
    )


#: Longest pause between attempts of ``deliver-mail --loop`` while the database is down.
MAX_DELIVERY_BACKOFF = 60.0


@click.command("deliver-mail")
@click.option("--loop", is_flag=True, help="Keep delivering as mail arrives, until stopped.")
@click.option(
    "--interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between rounds with --loop.",
)
@with_appcontext
def deliver_mail_command(loop: bool, interval: float) -> None:
    """Send the emails waiting in the outbox, batch after batch until none is due (failed
    ones wait for their retry)."""
    from pledges.mail.delivery import deliver_due

    if not loop:
        while (report := deliver_due()).attempted:
            _echo_delivery(report)
        return
    # SIGTERM (systemd, docker stop) ends the loop once the batch being sent is recorded.
    stopping = threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    failures = 0
    try:
        while not stopping.is_set():
            try:
                report = deliver_due()
            except Exception as error:  # noqa: BLE001 - a database hiccup must not end the loop
                db.session.remove()
                failures += 1
                pause = min(interval * 2 ** (failures - 1), MAX_DELIVERY_BACKOFF)
                click.echo(
                    f"Delivery failed ({_one_line(error)}); retrying in {pause:g} s.", err=True
                )
                stopping.wait(pause)
                continue
            failures = 0
            _echo_delivery(report)
            if not report.attempted:
                stopping.wait(interval)
    except KeyboardInterrupt:
        pass  # Ctrl-C: a message cut off mid-send is sent again once its claim runs out
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    click.echo("Stopped.")


def _echo_delivery(report: DeliveryReport | None) -> None:
    if report is not None and report.attempted:
        click.echo(f"sent {report.sent}, will retry {report.failed}, gave up {report.dead}")


def _one_line(error: Exception) -> str:
    """An error as one line, its email addresses masked (driver errors quote parameters)."""
    from pledges.mail.delivery import mask_addresses

    first_line = next(iter(str(error).strip().splitlines()), "")
    return mask_addresses(f"{type(error).__name__}: {first_line}"[:300])


@click.command("mail-status")
@click.option("--retry-dead", is_flag=True, help="Queue every dead message again.")
@with_appcontext
def mail_status_command(retry_dead: bool) -> None:
    """Show the outbox: pending, sent and dead messages, and why the dead ones failed."""
    from pledges.mail import delivery

    if retry_dead:
        count = delivery.retry_dead()
        db.session.commit()
        click.echo(f"{count} dead message{'s' if count != 1 else ''} queued again")
    status = delivery.outbox_status()
    click.echo(", ".join(f"{name}: {count}" for name, count in status.counts.items()))
    for message in status.dead:
        click.echo(
            f"dead #{message.id} to {delivery.masked(message.to_address)} "
            f"after {message.attempts} attempts, queued {message.created_at:%Y-%m-%d %H:%M} UTC: "
            f"{delivery.mask_addresses(message.last_error or '')}"
        )


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Email every confirmed signer whose check-in cycle has ended. Safe to run twice."""
    from pledges.checkins.service import send_due_reminders
    from pledges.mail.dispatch import deliver_before_exit

    sent = send_due_reminders()
    click.echo(f"{sent} reminder{'s' if sent != 1 else ''} queued")
    report = deliver_before_exit()
    if report is None and sent and current_app.config["MAIL_DISPATCH"] == "queue":
        click.echo("The workers of the job queue send them.")
    _echo_delivery(report)


@click.command("send-updates")
@with_appcontext
def send_updates_command() -> None:
    """Carry on every update emailing left running (its job died with a restart, say):
    hands the rest of each to the outbox here, at UPDATE_EMAILS_PER_MINUTE. Safe to run
    twice, or beside a job still running: no signer gets an update twice."""
    from pledges.mail.dispatch import deliver_before_exit
    from pledges.updates.service import run_send, running_sends

    sends = running_sends()
    for send_id in sends:
        run_send(send_id)
    click.echo(f"{len(sends)} update send{'s' if len(sends) != 1 else ''} carried on")
    _echo_delivery(deliver_before_exit())


@click.command("purge-ip-hashes")
@with_appcontext
def purge_ip_hashes_command() -> None:
    """Forget the IP hashes of signatures and reports older than IP_HASH_RETENTION_DAYS
    (schedule it daily)."""
    from pledges.infrastructure.abuse import purge_ip_hashes

    purged = purge_ip_hashes()
    db.session.commit()
    checkpoint()  # the forgotten hashes leave the WAL too
    click.echo(f"{purged} IP hash{'es' if purged != 1 else ''} forgotten")


@click.command("purge-sent-mail")
@with_appcontext
def purge_sent_mail_command() -> None:
    """Delete sent emails older than OUTBOX_RETENTION_DAYS (schedule it daily)."""
    from pledges.mail.outbox import purge_sent_mail

    purged = purge_sent_mail()
    db.session.commit()
    checkpoint()
    click.echo(f"{purged} sent email{'s' if purged != 1 else ''} deleted")


@click.command("recount")
@with_appcontext
def recount_command() -> None:
    """Rebuild every pledge's signature counters from the signatures themselves."""
    from sqlalchemy import select

    from pledges.domain.tallies import recount
    from pledges.models import Pledge

    for pledge in db.session.scalars(select(Pledge)):
        tally = recount(pledge.id)
        click.echo(f"{pledge.slug}: {tally.total} confirmed")
    db.session.commit()


@click.command("create-user")
@click.argument("email")
@click.option(
    "--role", type=click.Choice(["admin", "organizer"]), default="organizer", show_default=True
)
@click.option("--name", default="", help="How the account is shown to other organizers.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@with_appcontext
def create_user_command(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an organizer or admin account for EMAIL (the password is asked for)."""
    from pledges.accounts import service
    from pledges.domain.rules import RuleError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = service.create_user(email, password, role=role, name=name)
    except RuleError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@click.command("export-dossier")
@click.argument("slug")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The PDF file to write (replaced only once the dossier is complete).",
)
@click.option(
    "--audience",
    type=click.Choice(["officials", "funders", "media"]),
    default="officials",
    show_default=True,
)
@click.option(
    "--part-size",
    type=click.IntRange(1),
    default=None,
    help="Signers laid out per part of the list (memory against speed; default 2000).",
)
@with_appcontext
def export_dossier_command(slug: str, output: Path, audience: str, part_size: int | None) -> None:
    """Write the advocacy dossier of the pledge SLUG to a PDF file, and record it for
    verification."""
    from sqlalchemy import select

    from pledges.dossier import service
    from pledges.models import Pledge

    pledge = db.session.scalar(select(Pledge).where(Pledge.slug == slug))
    if pledge is None:
        raise click.ClickException(f"No pledge with the slug {slug!r}.")
    try:
        dossier = service.request_dossier(pledge, audience)
    except service.DossierError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    started = time.perf_counter()
    with click.progressbar(length=1, label="Building the dossier") as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            service.issue(dossier, output.resolve(), progress=progress, part_size=part_size)
        except OSError as error:  # the service has marked the dossier failed
            reason = error.strerror or str(error)
            raise click.ClickException(f"Cannot write {output}: {reason}.") from error
    click.echo(
        f"{output}: {dossier.pages:,} pages, {dossier.size_bytes / 1e6:,.1f} MB, "
        f"{dossier.signatures:,} signatures, in {time.perf_counter() - started:.1f} s. "
        f"Verification code {dossier.verification_code}."
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also enqueue the scheduled work (reminders, mail retries, purges) and the retries "
    "due; safe on several workers at once.",
)
@click.option("--name", default=None, help="The worker's name in Redis (default: random).")
@with_appcontext
def worker_command(burst: bool, with_scheduler: bool, name: str | None) -> None:
    """Run the jobs of the queue on Redis (JOBS_BACKEND=rq): dossier builds, mail, reminders."""
    from pledges.infrastructure import jobs
    from pledges.schedule import SCHEDULE

    app = current_app._get_current_object()  # noqa: SLF001 - the worker keeps the app itself
    if app.config["JOBS_BACKEND"] != jobs.RQ:
        raise click.ClickException(
            "No job queue: set REDIS_URL (or JOBS_BACKEND=rq). Without one, jobs run inside "
            "the web process and no worker is needed."
        )
    jobs.work(app, burst=burst, with_scheduler=with_scheduler, schedule=SCHEDULE, name=name)


def init_app(app: Flask) -> None:
    from pledges.infrastructure.backup import backup_command, restore_command

    for command in (
        seed_demo_command,
        deliver_mail_command,
        mail_status_command,
        send_reminders_command,
        send_updates_command,
        purge_ip_hashes_command,
        purge_sent_mail_command,
        recount_command,
        create_user_command,
        export_dossier_command,
        worker_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
