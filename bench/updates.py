"""Emailing one organizer's update to 100,000 subscribed signers, through real SMTP.

    python bench/updates.py [--signers 100000] [--deliverers 2] [--kill-at 0.5]
                            [--database-url postgresql+psycopg://...] [--keep]

A scratch database (SQLite file, or a pledges_bench database on the PostgreSQL server named)
is migrated and seeded in bulk with N confirmed demo signers (``pledges seed-demo``), all of
whom ask for updates (one UPDATE). An update is written, published and its send started:
one ``update_deliveries`` row per signer by INSERT … SELECT (timed). Then:

- a local SMTP sink (aiosmtpd, in this process) counts every message by recipient;
- ``--deliverers`` processes run ``pledges deliver-mail --loop`` with MAIL_TRANSPORT=smtp
  (pledges.mail.transports.SmtpTransport) against the sink;
- the fan-out worker is a child process that calls the job, ``pledges.updates.service.run_send``,
  as a queue worker would. When ``--kill-at`` of the signers have been handed to the outbox it
  is SIGKILLed, mid-batch, and a new worker is started that runs the same job again.

Printed: the INSERT … SELECT time, the fan-out workers' time and peak RSS (os.wait4: each
child's own), the deliverers' peak RSS, emails per second from the send's start to the last
email received, and the check that every subscribed signer received exactly one email
(count in the sink by recipient). The run fails (exit 1) when that check fails.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

HERE = Path(__file__).resolve()


# Child modes: run inside the app, from the environment the orchestrator prepared.


def _app():
    sys.path.insert(0, str(common.PROJECT_ROOT))
    from pledges import create_app

    return create_app()


def setup_child() -> None:
    """Subscribe every signer, write and publish an update, start its send; print its id."""
    from sqlalchemy import select, update

    from pledges.extensions import db
    from pledges.models import Pledge, Signature
    from pledges.updates import service

    app = _app()
    with app.app_context():
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == common.SLUG))
        db.session.execute(
            update(Signature).where(Signature.pledge_id == pledge.id).values(wants_updates=True)
        )
        db.session.commit()
        news = service.save_update(
            pledge,
            {
                pledge.language: service.UpdateText(
                    "We met the district commissioner",
                    "Thank you for signing. On Monday we handed over the pledge.",
                )
            },
        )
        service.publish(news)
        db.session.commit()
        started = time.perf_counter()
        send = service.start_send(news)
        db.session.commit()
        seconds = time.perf_counter() - started
        print(f"SEND {send.id} {service.subscriber_count(pledge)} {seconds:.3f}", flush=True)


def fan_out_child(send_id: int) -> None:
    from pledges.updates.service import run_send

    app = _app()
    with app.app_context():
        run_send(send_id)


# The orchestrator.


def start_sink():
    from aiosmtpd.controller import Controller

    class Counting:
        def __init__(self) -> None:
            self.received: Counter[str] = Counter()
            self.last_at = 0.0
            self.lock = threading.Lock()

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            with self.lock:
                for address in envelope.rcpt_tos:
                    self.received[address.lower()] += 1
                self.last_at = time.perf_counter()
            return "250 OK"

    handler = Counting()
    controller = Controller(handler, hostname=common.HOST, port=common.free_port())
    controller.start()
    return controller, handler


def outboxed(database_url: str, send_id: int) -> int:
    return common.scalar(
        database_url,
        "SELECT count(*) FROM update_deliveries WHERE send_id = :send AND state = 'outboxed'",
        {"send": send_id},
    )


def outbox_rows_per_signer(database_url: str) -> dict[int, int]:
    from sqlalchemy import create_engine, text

    from pledges.config import normalize_database_url

    engine = create_engine(normalize_database_url(database_url))
    try:
        with engine.connect() as connection:
            return dict(
                connection.execute(
                    text(
                        "SELECT signature_id, count(*) FROM outbox_emails"
                        " WHERE template = 'update' GROUP BY signature_id"
                    )
                ).all()
            )
    finally:
        engine.dispose()


def expected_recipients(database_url: str) -> set[str]:
    from sqlalchemy import create_engine, text

    from pledges.config import normalize_database_url

    engine = create_engine(normalize_database_url(database_url))
    try:
        with engine.connect() as connection:
            return {
                address.lower()
                for (address,) in connection.execute(
                    text(
                        "SELECT email FROM signatures WHERE wants_updates AND status = 'confirmed'"
                    )
                )
            }
    finally:
        engine.dispose()


def run(args: argparse.Namespace, workdir: Path) -> int:
    sys.path.insert(0, str(common.PROJECT_ROOT))
    with common.scratch_database(args.database_url, workdir, in_place=False) as url:
        env = common.app_environment(url, workdir)
        common.prepare_database(env, args.signers)
        controller, sink = start_sink()
        try:
            env.update(
                MAIL_TRANSPORT="smtp",
                SMTP_HOST=common.HOST,
                SMTP_PORT=str(controller.port),
                SMTP_SECURITY="none",
                UPDATE_EMAILS_PER_MINUTE=str(args.per_minute),
                UPDATE_BATCH_SIZE=str(args.batch),
            )
            out = subprocess.run(  # noqa: S603 - our own interpreter and script
                [sys.executable, str(HERE), "--setup"],
                env=env,
                cwd=common.PROJECT_ROOT,
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                raise common.BenchError(f"setup failed:\n{out.stderr[-3000:]}")
            out = out.stdout
            line = next(x for x in out.splitlines() if x.startswith("SEND "))
            _, send_id, subscribers, insert_seconds = line.split()
            send_id, subscribers = int(send_id), int(subscribers)
            print(
                f"Send {send_id}: {subscribers:,} subscribed signers; delivery rows written by "
                f"INSERT … SELECT in {float(insert_seconds):.2f} s"
            )
            expected = expected_recipients(url)
            started = time.perf_counter()
            deliverers = (
                []
                if args.fan_out_only
                else [
                    common.spawn(
                        [
                            common.executable("pledges"),
                            "deliver-mail",
                            "--loop",
                            "--interval",
                            "0.2",
                        ],
                        env,
                        workdir / f"deliverer-{n}.log",
                    )
                    for n in range(args.deliverers)
                ]
            )
            worker = [sys.executable, str(HERE), "--fan-out", str(send_id)]
            first = common.spawn(worker, env, workdir / "worker-1.log")
            kill_when = int(subscribers * args.kill_at)
            while first.poll() is None and outboxed(url, send_id) < kill_when:
                time.sleep(0.2)
            killed_at = outboxed(url, send_id)
            if first.poll() is None:
                first.send_signal(signal.SIGKILL)
            _, first_rss = common.reap(first)
            print(
                f"Fan-out worker SIGKILLed with {killed_at:,} of {subscribers:,} handed to the "
                f"outbox, after {time.perf_counter() - started:.1f} s; peak RSS {first_rss:.0f} MB"
            )
            second = common.spawn(worker, env, workdir / "worker-2.log")
            code, second_rss = common.reap(second)
            if code != 0:
                log = (workdir / "worker-2.log").read_text(errors="replace")
                raise common.BenchError(f"the restarted worker failed:\n{log[-3000:]}")
            fanned = time.perf_counter() - started
            print(
                f"Restarted worker finished the fan-out at {fanned:.1f} s; peak RSS "
                f"{second_rss:.0f} MB"
            )
            print(f"Fan-out: {subscribers / fanned:,.0f} emails/s handed to the outbox")
            if args.fan_out_only:
                per_signer = outbox_rows_per_signer(url)
                wrong = {k: n for k, n in per_signer.items() if n != 1}
                if len(per_signer) != subscribers or wrong:
                    print(
                        f"FAILED: {subscribers - len(per_signer):,} signers have no outbox row, "
                        f"{len(wrong):,} have more than one"
                    )
                    return 1
                print(f"Every one of the {subscribers:,} subscribers has exactly one outbox row.")
                return 0
            deadline = time.perf_counter() + args.timeout
            while sum(sink.received.values()) < subscribers and time.perf_counter() < deadline:
                time.sleep(0.5)
            time.sleep(2)  # anything sent twice would arrive now
            for proc in deliverers:
                proc.send_signal(signal.SIGTERM)
            rss = [common.reap(proc)[1] for proc in deliverers]
            elapsed = sink.last_at - started
            received = sum(sink.received.values())
            print(
                f"Delivered {received:,} emails in {elapsed:.1f} s: "
                f"{received / elapsed:,.0f} emails/s ({args.deliverers} deliver-mail processes, "
                f"peak RSS {', '.join(f'{r:.0f}' for r in rss)} MB)"
            )
        finally:
            controller.stop()
        twice = {address: n for address, n in sink.received.items() if n > 1}
        missing = expected - set(sink.received)
        strangers = set(sink.received) - expected
        if twice or missing or strangers:
            print(
                f"FAILED: {len(missing):,} subscribers got nothing, {len(twice):,} got more than "
                f"one, {len(strangers):,} who did not subscribe got one"
            )
            return 1
        print(f"Every one of the {len(expected):,} subscribed signers received exactly one email.")
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signers", type=int, default=100_000)
    parser.add_argument("--deliverers", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.5)
    parser.add_argument("--per-minute", type=int, default=0, help="UPDATE_EMAILS_PER_MINUTE")
    parser.add_argument("--batch", type=int, default=500, help="UPDATE_BATCH_SIZE")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument(
        "--fan-out-only",
        action="store_true",
        help="no SMTP: check exactly one outbox row per subscribed signer instead",
    )
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fan-out", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup_child()
        return 0
    if args.fan_out is not None:
        fan_out_child(args.fan_out)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="pledges-bench-updates-"))
    try:
        return run(args, workdir)
    except common.BenchError as error:
        print(f"Run failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if args.keep:
            print(f"Kept {workdir}")
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
