"""Sending one update to 100,000 subscribed signers through the outbox and real SMTP.

    python bench/mail_delivery.py [--signers 100000] [--kill-at 0.5] [--claim-seconds 20]
                                  [--batch 200] [--database-url postgresql+psycopg://...]
                                  [--in-place] [--keep]

A scratch database (SQLite file, or a pledges_bench database on the PostgreSQL server named)
is migrated and seeded in bulk with N confirmed signers (``pledges seed-demo``, COPY on
PostgreSQL), every one of whom asks for updates (one UPDATE). Then two runs, each with an
update of its own written, published and fanned out to the outbox first (``run_send`` in a
child process, rate unlimited), and a local SMTP sink (aiosmtpd) in a process of its own
that writes one line per message received (time, recipient, Message-ID) to a file:

1. **straight**: one ``pledges deliver-mail`` process (MAIL_TRANSPORT=smtp, the real
   SmtpTransport, batches of ``--batch``) sends the outbox to the sink and exits;
2. **killed**: the same, SIGKILLed once ``--kill-at`` of the messages have reached the sink,
   then ``pledges deliver-mail --loop`` restarted until the outbox has nothing pending. The
   killed process's claimed batch waits out its lease (``--claim-seconds``, MAIL_CLAIM_SECONDS)
   before the restarted one sends it.

The deliverer's RSS is read from /proc every 0.2 s: printed are its peak (and os.wait4's) and
its RSS at 10%, 50% and 90% of the messages, to show it stays flat. Emails per second run
from the deliverer's start to the last message the sink received. After each run: how many
subscribed signers received 0, 1 and more than 1 email, and whether every repeat carried
the Message-ID of the first copy (a receiver de-duplicating by it shows one).

Exit status 0 when the runs worked (a repeat inside the one-message window is reported, not
a failure: delivery is at least once); 1 when a signer got nothing or a stranger got mail,
or the run itself failed.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

HERE = Path(__file__).resolve()
RSS_SAMPLE_SECONDS = 0.2


# Child modes.


def _app():
    sys.path.insert(0, str(common.PROJECT_ROOT))
    from pledges import create_app

    return create_app()


def fan_out_child(title: str) -> None:
    """Subscribe every signer, write, publish and send an update, and hand its emails to
    the outbox (the job a queue worker runs); print how many and how long it took."""
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
                    title, "Thank you for signing. On Monday we handed over the pledge."
                )
            },
        )
        service.publish(news)
        db.session.commit()
        started = time.perf_counter()
        send = service.start_send(news)
        db.session.commit()
        service.run_send(send.id)
        seconds = time.perf_counter() - started
        print(f"FANNED {service.subscriber_count(pledge)} {seconds:.3f}", flush=True)


def sink_child(port: int, log_path: str) -> None:
    """An SMTP server on ``port`` that accepts everything and writes, per message and
    recipient, ``<time>\\t<recipient>\\t<Message-ID>`` to ``log_path``; ``CONNECT`` per
    EHLO/HELO (one per SMTP connection). Runs until SIGTERM."""
    import re

    from aiosmtpd.controller import Controller

    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - closed at SIGTERM below
    # A regular expression, not the email parser: the sink shares the two cores with the
    # deliverer it measures.
    message_id_header = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)

    class Counting:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
            log.write(f"{time.time():.6f}\tCONNECT\t\n")
            session.host_name = hostname
            return responses

        async def handle_HELO(self, server, session, envelope, hostname):  # noqa: N802
            log.write(f"{time.time():.6f}\tCONNECT\t\n")
            session.host_name = hostname
            return f"250 {server.hostname}"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            found = message_id_header.search(envelope.original_content)
            message_id = found.group(1).decode() if found else ""
            now = time.time()
            for address in envelope.rcpt_tos:
                log.write(f"{now:.6f}\t{address.lower()}\t{message_id}\n")
            return "250 OK"

    controller = Controller(Counting(), hostname=common.HOST, port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    print("READY", flush=True)
    stop.wait()
    controller.stop()
    log.close()


# The orchestrator.


@dataclass
class Received:
    per_recipient: Counter[str] = field(default_factory=Counter)
    message_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    connections: int = 0
    first_at: float = 0.0
    last_at: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.per_recipient.values())


def read_sink(path: Path) -> Received:
    received = Received()
    with path.open() as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue  # a line still being written
            at, who, message_id = float(parts[0]), parts[1], parts[2]
            if who == "CONNECT":
                received.connections += 1
                continue
            received.per_recipient[who] += 1
            received.message_ids[who].add(message_id)
            received.first_at = received.first_at or at
            received.last_at = at
    return received


def count_lines(path: Path) -> int:
    """Messages received so far (CONNECT lines included: close enough to steer by)."""
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


class Sink:
    def __init__(self, env: dict[str, str], workdir: Path, name: str) -> None:
        self.port = common.free_port()
        self.path = workdir / f"sink-{name}.tsv"
        self.path.touch()
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(HERE), "--sink", str(self.port), str(self.path)],
            env=env,
            cwd=common.PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.proc.stdout.readline().strip() != "READY":
            raise common.BenchError("the SMTP sink did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)


class RssSampler(threading.Thread):
    """The RSS of one process over time, with how many messages the sink had by then."""

    def __init__(self, pid: int, sink: Sink) -> None:
        super().__init__(daemon=True)
        self.pid, self.sink = pid, sink
        self.samples: list[tuple[int, float]] = []  # (messages received, RSS in MB)
        self.finished = threading.Event()

    def run(self) -> None:
        while not self.finished.is_set():
            rss = rss_mb(self.pid)
            if rss is None:
                return
            self.samples.append((count_lines(self.sink.path), rss))
            self.finished.wait(RSS_SAMPLE_SECONDS)

    def at(self, messages: int) -> float | None:
        """The RSS sampled when the sink first had ``messages``."""
        for received, rss in self.samples:
            if received >= messages:
                return rss
        return None


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def subscribed(database_url: str) -> set[str]:
    from sqlalchemy import create_engine, text

    from pledges.config import normalize_database_url

    engine = create_engine(normalize_database_url(database_url))
    try:
        with engine.connect() as connection:
            return {
                email.lower()
                for (email,) in connection.execute(
                    text(
                        "SELECT email FROM signatures WHERE wants_updates AND status = 'confirmed'"
                    )
                )
            }
    finally:
        engine.dispose()


PENDING = "SELECT count(*) FROM outbox_emails WHERE status = 'pending'"


def fan_out(env: dict[str, str], title: str) -> int:
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(HERE), "--fan-out", title],
        env=env,
        cwd=common.PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise common.BenchError(f"the fan-out failed:\n{out.stderr[-3000:]}")
    _, subscribers, seconds = next(
        line for line in out.stdout.splitlines() if line.startswith("FANNED ")
    ).split()
    print(
        f"  fan-out: {int(subscribers):,} update emails handed to the outbox in "
        f"{float(seconds):.1f} s (rate unlimited)",
        flush=True,
    )
    return int(subscribers)


def deliverer(env: dict[str, str], workdir: Path, name: str, loop: bool) -> subprocess.Popen:
    args = [common.executable("pledges"), "deliver-mail"]
    if loop:
        args += ["--loop", "--interval", "1"]
    return common.spawn(args, env, workdir / f"deliverer-{name}.log")


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise common.BenchError(f"timed out waiting for {what}")
        time.sleep(0.2)


def flat(sampler: RssSampler, expected: int) -> str:
    points = [(share, sampler.at(int(expected * share))) for share in (0.1, 0.5, 0.9)]
    return ", ".join(
        f"{share:.0%}: {rss:.0f} MB" if rss is not None else f"{share:.0%}: -"
        for share, rss in points
    )


def report(received: Received, expected: set[str], label: str) -> bool:
    """Print 0 / 1 / more per subscribed signer; False when one got nothing or a stranger
    got mail."""
    counts = Counter(min(received.per_recipient.get(who, 0), 2) for who in expected)
    strangers = set(received.per_recipient) - expected
    repeats = [who for who in expected if received.per_recipient.get(who, 0) > 1]
    same_id = sum(1 for who in repeats if len(received.message_ids[who]) == 1)
    print(
        f"  {label}: of {len(expected):,} subscribed signers, {counts[0]:,} received 0 emails, "
        f"{counts[1]:,} exactly 1, {counts[2]:,} more than 1"
        + (f" ({same_id} of them with the same Message-ID on every copy)" if repeats else "")
        + (f"; {len(strangers):,} addresses that did not subscribe got mail" if strangers else "")
    )
    return counts[0] == 0 and not strangers


def straight_run(env: dict[str, str], workdir: Path, url: str) -> bool:
    print("Run 1, straight: one `pledges deliver-mail` sends the whole outbox", flush=True)
    total = fan_out(env, "We met the district commissioner")
    expected = subscribed(url)
    sink = Sink(env, workdir, "straight")
    try:
        env = {**env, "SMTP_PORT": str(sink.port)}
        started = time.time()
        proc = deliverer(env, workdir, "straight", loop=False)
        sampler = RssSampler(proc.pid, sink)
        sampler.start()
        code, peak = common.reap(proc)
        sampler.finished.set()
        sampler.join()
        if code != 0:
            log = (workdir / "deliverer-straight.log").read_text(errors="replace")
            raise common.BenchError(f"deliver-mail failed:\n{log[-3000:]}")
        time.sleep(1)  # the sink writes its last lines
    finally:
        sink.stop()
    received = read_sink(sink.path)
    seconds = received.last_at - started
    sampled = max((rss for _, rss in sampler.samples), default=0.0)
    print(
        f"  delivered {received.total:,} of {total:,} emails in {seconds:.1f} s: "
        f"{received.total / seconds:,.0f} emails/s over {received.connections:,} SMTP "
        f"connections\n"
        f"  deliverer's peak RSS {peak:.0f} MB (sampled: {sampled:.0f} MB); RSS at "
        f"{flat(sampler, total)}",
        flush=True,
    )
    pending = common.scalar(url, PENDING)
    if pending:
        print(f"  {pending:,} messages still pending in the outbox")
    return report(received, expected, "straight")


def killed_run(env: dict[str, str], workdir: Path, url: str, kill_at: float) -> bool:
    print(
        f"Run 2, killed: `pledges deliver-mail` SIGKILLed at {kill_at:.0%}, then restarted",
        flush=True,
    )
    total = fan_out(env, "The district commissioner answered")
    expected = subscribed(url)
    sink = Sink(env, workdir, "killed")
    try:
        env = {**env, "SMTP_PORT": str(sink.port)}
        started = time.time()
        first = deliverer(env, workdir, "killed-1", loop=False)
        sampler = RssSampler(first.pid, sink)
        sampler.start()
        wait_until(
            lambda: count_lines(sink.path) >= total * kill_at or first.poll() is not None,
            3600,
            "half the messages",
        )
        first.send_signal(signal.SIGKILL)
        killed_at = time.time()
        _, first_peak = common.reap(first)
        sampler.finished.set()
        sampler.join()
        at_kill = read_sink(sink.path).total
        print(
            f"  SIGKILLed after {killed_at - started:.1f} s with {at_kill:,} emails received; "
            f"peak RSS {first_peak:.0f} MB (RSS at {flat(sampler, total)})",
            flush=True,
        )
        second = deliverer(env, workdir, "killed-2", loop=True)
        second_sampler = RssSampler(second.pid, sink)
        second_sampler.start()
        wait_until(lambda: common.scalar(url, PENDING) == 0, 3600, "an empty outbox")
        second.send_signal(signal.SIGTERM)
        _, second_peak = common.reap(second)
        second_sampler.finished.set()
        second_sampler.join()
        time.sleep(1)
    finally:
        sink.stop()
    received = read_sink(sink.path)
    seconds = received.last_at - started
    print(
        f"  restarted `deliver-mail --loop` finished the outbox; the killed batch waited out "
        f"its lease: {received.total:,} emails in {seconds:.1f} s, "
        f"{received.total / seconds:,.0f} emails/s including that wait; "
        f"restarted process's peak RSS {second_peak:.0f} MB",
        flush=True,
    )
    return report(received, expected, "killed and restarted")


def run(args: argparse.Namespace, workdir: Path) -> int:
    sys.path.insert(0, str(common.PROJECT_ROOT))
    with common.scratch_database(args.database_url, workdir, in_place=args.in_place) as url:
        print(f"Database: {common.display_url(url)}", flush=True)
        env = common.app_environment(url, workdir)
        common.prepare_database(env, args.signers)
        env.update(
            MAIL_TRANSPORT="smtp",
            SMTP_HOST=common.HOST,
            SMTP_SECURITY="none",
            MAIL_BATCH_SIZE=str(args.batch),
            MAIL_CLAIM_SECONDS=str(args.claim_seconds),
            UPDATE_EMAILS_PER_MINUTE="0",
            UPDATE_BATCH_SIZE="2000",
        )
        ok = True
        if not args.kill_only:
            ok = straight_run(env, workdir, url) and ok
        if args.kill_at > 0:
            ok = killed_run(env, workdir, url, args.kill_at) and ok
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=200, help="MAIL_BATCH_SIZE")
    parser.add_argument(
        "--claim-seconds",
        type=int,
        default=20,
        help="MAIL_CLAIM_SECONDS: how long the killed process's batch waits (default 20)",
    )
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="share sent before the kill (0: no kill run)"
    )
    parser.add_argument("--kill-only", action="store_true", help="skip the straight run")
    common.add_database_arguments(parser)
    parser.add_argument("--fan-out", help=argparse.SUPPRESS)
    parser.add_argument("--sink", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fan_out is not None:
        fan_out_child(args.fan_out)
        return 0
    if args.sink is not None:
        sink_child(int(args.sink[0]), args.sink[1])
        return 0
    with common.workdir(args.keep) as workdir:
        return common.main_wrapper(lambda: run(args, workdir))


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
