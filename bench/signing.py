"""Signing benchmark: submissions per second through the real form, and none lost.

    python bench/signing.py [--submissions 1000] [--duration 60] [--concurrency 16]
                            [--database-url URL] [--in-place] [--keep]

Serves the app with gunicorn (2 sync workers) on a fresh migrated database (SQLite in WAL
mode by default) holding the demo pledge and no signatures. K concurrent clients each loop:

    GET  /p/joining-forces   -> session cookie, CSRF token
    POST /p/joining-forces   -> 302 to /p/joining-forces/thanks = an acknowledged signature

bounded by a submission count and a duration. Afterwards the database is opened and every
acknowledged email must be stored exactly once in ``signatures``; outbox rows are counted.
Exit status is non-zero if the run failed: server did not start, a submission was not
acknowledged, or an acknowledged signature is missing or duplicated.
"""

from __future__ import annotations

import argparse
import html
import itertools
import os
import re
import secrets
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import loadgen  # noqa: E402
from common import HOST, SLUG, BenchError  # noqa: E402

WALL_PATH = f"/p/{SLUG}/wall"
SIGN_PATH = f"/p/{SLUG}"
THANKS_PATH = f"/p/{SLUG}/thanks"
CSRF_INPUT = re.compile(rb'<input[^>]*name="csrf_token"[^>]*>')
VALUE_ATTR = re.compile(rb'value="([^"]*)"')
COMMITMENT_INPUT = re.compile(rb'<input[^>]*name="commitments"[^>]*>')
ROLES = ["man", "woman", "other", "undisclosed"]
VISIBILITIES = ["full", "initial", "organization", "anonymous"]
COUNTRIES = ["KE", "PK", "LK", "BI", "NL", "US", "IN", "NG", "CO"]


def csrf_token(page: bytes) -> str | None:
    tag = CSRF_INPUT.search(page)
    value = VALUE_ATTR.search(tag.group(0)) if tag else None
    return html.unescape(value.group(1).decode()) if value else None


def commitment_ids(page: bytes) -> tuple[list[str], list[str]]:
    """(all commitment ids, required ids) from the sign form: the required ones are fixed
    (hidden inputs, shown with a mark rather than as boxes one could untick), the others
    checkboxes."""
    every, required = [], []
    for tag in COMMITMENT_INPUT.findall(page):
        value = VALUE_ATTR.search(tag)
        if not value:
            continue
        every.append(value.group(1).decode())
        if b'type="hidden"' in tag:
            required.append(value.group(1).decode())
    return every, required


def session_cookie(response: loadgen.Response) -> str | None:
    for header in response.header_all("Set-Cookie"):
        pair = header.split(";", 1)[0].strip()
        if pair.startswith("session="):
            return pair
    return None


class Signer:
    """One submission per call; remembers the emails the server acknowledged."""

    def __init__(self, port: int, every: list[str], required: list[str]) -> None:
        self.port = port
        self.optional = [c for c in every if c not in required]
        self.required = required
        self.run = secrets.token_hex(3)
        self.numbers = itertools.count()
        self.lock = threading.Lock()
        self.acknowledged: list[str] = []
        self.unacknowledged: list[str] = []  # sent, but the answer was not a redirect
        self.post_latencies: list[float] = []

    def form(self, n: int, email: str, token: str) -> bytes:
        visibility = VISIBILITIES[n % len(VISIBILITIES)]
        organization = "Chemchemi Ya Ukweli" if visibility == "organization" or n % 5 == 0 else ""
        fields = [
            ("csrf_token", token),
            ("name", f"Bench Signer {n}"),
            ("email", email),
            ("country", COUNTRIES[n % len(COUNTRIES)]),
            ("role", ROLES[n % len(ROLES)]),
            ("organization", organization),
            ("visibility", visibility),
            *[("commitments", c) for c in self.required],
            *[("commitments", c) for c in self.optional[: n % (len(self.optional) + 1)]],
            ("personal_note", "Peace starts at home." if n % 7 == 0 else ""),
            ("consent", "y"),
        ]
        return urlencode(fields).encode()

    def __call__(self) -> str | None:
        page = loadgen.http_request(HOST, self.port, "GET", SIGN_PATH)
        if page.status != 200:
            return f"GET HTTP {page.status}"
        cookie, token = session_cookie(page), csrf_token(page.body)
        if not cookie or not token:
            return "GET without session cookie or CSRF token"
        n = next(self.numbers)
        email = f"bench-{self.run}-{n}@example.org"
        body = self.form(n, email, token)
        began = time.perf_counter()
        try:
            response = loadgen.http_request(
                HOST,
                self.port,
                "POST",
                SIGN_PATH,
                headers={
                    "Cookie": cookie,
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Referer": f"http://{HOST}:{self.port}{SIGN_PATH}",
                },
                body=body,
            )
        except BaseException:
            with self.lock:
                self.unacknowledged.append(email)
            raise
        elapsed = time.perf_counter() - began
        location = response.header("Location") or ""
        if response.status == 302 and location.split("?", 1)[0].endswith(THANKS_PATH):
            with self.lock:
                self.acknowledged.append(email)
                self.post_latencies.append(elapsed)
            return None
        with self.lock:
            self.unacknowledged.append(email)
        return f"POST HTTP {response.status}" + (f" -> {location}" if location else "")


class Readers(threading.Thread):
    """While people sign: K readers load the wall, then the bare /hello route, in turn."""

    def __init__(self, port: int, concurrency: int, seconds: float) -> None:
        super().__init__(daemon=True)
        self.port, self.concurrency, self.seconds = port, concurrency, seconds
        self.results: list[loadgen.LoadResult] = []

    def run(self) -> None:
        for name, path in (("wall (busy)", WALL_PATH), ("hello (busy)", "/hello")):
            self.results.append(
                loadgen.run_get(
                    HOST,
                    self.port,
                    path,
                    name=name,
                    concurrency=self.concurrency,
                    duration=self.seconds,
                )
            )

    def report(self) -> list[str]:
        lines = ["  " + r.summary() for r in self.results]
        if len(self.results) == 2 and self.results[1].rate:
            ratio = self.results[0].rate / self.results[1].rate
            lines.append(f"  wall / hello throughput while signing: {ratio:.2f}x")
        return lines


class WorkerKiller(threading.Thread):
    """SIGKILLs one gunicorn worker once ``at`` submissions have been acknowledged."""

    def __init__(self, master_pid: int, signer: Signer, at: int) -> None:
        super().__init__(daemon=True)
        self.master_pid, self.signer, self.at = master_pid, signer, at
        self.killed: int | None = None
        self.killed_after: int | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.01):
            if len(self.signer.acknowledged) >= self.at:
                workers = common.worker_pids(self.master_pid)
                if workers:
                    os.kill(workers[0], signal.SIGKILL)
                    self.killed, self.killed_after = workers[0], len(self.signer.acknowledged)
                return

    def stop(self) -> None:
        self._halt.set()
        self.join(1)

    def report(self) -> str:
        if self.killed is None:
            return "no worker was killed (the run ended first)"
        return f"killed worker {self.killed} with SIGKILL after {self.killed_after} acknowledged"


def audit(database_url: str, signer: Signer) -> dict[str, int]:
    """Compare what the server acknowledged with what the database holds."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            stored: dict[str, int] = {}
            for email, count in conn.execute(
                text("SELECT email, COUNT(*) FROM signatures WHERE email LIKE :p GROUP BY email"),
                {"p": f"bench-{signer.run}-%"},
            ):
                stored[email] = count
            outbox = conn.execute(text("SELECT COUNT(*) FROM outbox_emails")).scalar_one()
            total = conn.execute(text("SELECT COUNT(*) FROM signatures")).scalar_one()
            journal = None
            if database_url.startswith("sqlite"):
                journal = conn.execute(text("PRAGMA journal_mode")).scalar_one()
    finally:
        engine.dispose()
    acknowledged = set(signer.acknowledged)
    return {
        "acknowledged": len(signer.acknowledged),
        "acknowledged_unique": len(acknowledged),
        "stored_rows": total,
        "missing": sum(1 for e in acknowledged if e not in stored),
        "duplicated": sum(1 for e in acknowledged if stored.get(e, 0) > 1),
        "stored_unacknowledged": sum(1 for e in signer.unacknowledged if e in stored),
        "outbox_rows": outbox,
        "journal_mode": journal,
    }


def run(args: argparse.Namespace) -> int:
    with common.workdir(args.keep) as workdir:
        with common.scratch_database(args.database_url, workdir, args.in_place) as database_url:
            backend = "PostgreSQL" if common.is_postgresql(database_url) else "SQLite"
            print(f"Database: {backend} {common.display_url(database_url)}")
            env = common.app_environment(database_url, workdir)
            # With readers, give the wall something to show; signers start from zero otherwise.
            common.prepare_database(env, args.wall_signatures if args.readers else 0)
            print(
                f"Starting gunicorn (2 sync workers); {args.concurrency} clients, "
                f"{args.submissions:,} submissions or {args.duration:g} s"
            )
            with common.gunicorn(env, workdir, workers=2) as server:
                print(f"  serving on port {server.port}")
                page = loadgen.http_request(HOST, server.port, "GET", SIGN_PATH)
                if page.status != 200:
                    raise BenchError(f"GET {SIGN_PATH} answered HTTP {page.status}")
                every, required = commitment_ids(page.body)
                if not every or not required:
                    raise BenchError("could not find the commitments on the sign form")
                print(f"  commitments on the form: {len(every)} ({len(required)} required)")
                signer = Signer(server.port, every, required)
                readers = None
                if args.readers:
                    readers = Readers(server.port, args.readers, args.reader_seconds)
                    readers.start()
                killer = None
                if args.kill_worker_at:
                    killer = WorkerKiller(server.proc.pid, signer, args.kill_worker_at)
                    killer.start()
                cpu_before = common.tree_cpu_seconds(server.proc.pid)
                result = loadgen.run_bounded(
                    signer,
                    name="sign",
                    concurrency=args.concurrency,
                    duration=args.duration,
                    max_requests=args.submissions,
                )
                cpu_after = common.tree_cpu_seconds(server.proc.pid)
                if killer is not None:
                    killer.stop()
                print("  " + result.summary().replace(" req ", " sub "))
                if killer is not None:
                    print(f"  {killer.report()}")
                if readers is not None:
                    readers.join()
                    print("\n".join(readers.report()))
                server_log = server.log_tail(20)
            report = audit(database_url, signer)

    posts = sorted(signer.post_latencies)
    p95 = posts[min(len(posts) - 1, int(len(posts) * 0.95))] if posts else float("nan")
    mean_post = sum(posts) / len(posts) if posts else float("nan")
    print()
    print(
        f"Results ({backend}"
        f"{', journal_mode=' + report['journal_mode'] if report['journal_mode'] else ''}, "
        f"2 sync workers, {args.concurrency} clients):"
    )
    print(
        f"  submissions          {result.requests:6d} in {result.elapsed:.1f} s "
        f"(stopped by {result.stopped_by})"
    )
    print(f"  submissions/s        {result.rate:8.1f}   (acknowledged GET+POST per second)")
    print(f"  POST latency         mean {mean_post * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    if cpu_before is not None and cpu_after is not None and result.requests:
        print(
            f"  server CPU           {(cpu_after - cpu_before) / result.requests * 1000:.1f} ms "
            "per submission (GET form + POST)"
        )
    print(f"  acknowledged         {report['acknowledged']:6d}")
    print(
        f"  errors               {result.error_count:6d}"
        + (f"   {dict(result.errors.most_common(5))}" if result.errors else "")
    )
    print(f"  missing              {report['missing']:6d}   (acknowledged, not in signatures)")
    print(
        f"  duplicated           {report['duplicated']:6d}   (acknowledged, stored more than once)"
    )
    print(f"  stored, not acked    {report['stored_unacknowledged']:6d}")
    print(f"  signatures rows      {report['stored_rows']:6d}")
    print(f"  outbox rows          {report['outbox_rows']:6d}")

    problems = []
    if report["acknowledged"] == 0:
        problems.append("no submission was acknowledged")
    if report["acknowledged_unique"] != report["acknowledged"]:
        problems.append("the same email was acknowledged twice")
    if report["missing"]:
        problems.append(f"{report['missing']} acknowledged signatures are missing")
    if report["duplicated"]:
        problems.append(f"{report['duplicated']} acknowledged signatures are duplicated")
    server_errors = sum(n for error, n in result.errors.items() if "HTTP 5" in error)
    if server_errors:
        problems.append(f"{server_errors} submissions answered with a server error")
    if args.kill_worker_at:
        # Requests in flight on the killed worker lose their connection: they were never
        # acknowledged, so the signer would send again. That is the expected cost.
        dropped = result.error_count - server_errors
        print(f"  cut off by the kill   {dropped:6d}   (connection lost, not acknowledged)")
    elif result.error_count:
        problems.append(f"{result.error_count} submissions failed")
    if report["outbox_rows"] < report["acknowledged"]:
        problems.append("fewer outbox rows than acknowledged signatures")
    if problems:
        if server_log.strip():
            print("\ngunicorn log (tail):\n" + server_log, file=sys.stderr)
        raise BenchError("; ".join(problems))
    print("  every acknowledged signature is stored exactly once")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=1000, help="maximum submissions")
    parser.add_argument("--duration", type=float, default=60.0, help="maximum seconds")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--kill-worker-at",
        type=int,
        default=0,
        metavar="N",
        help="SIGKILL one gunicorn worker after N acknowledged signatures (fault proof)",
    )
    parser.add_argument(
        "--readers",
        type=int,
        default=0,
        metavar="K",
        help="also load the wall, then /hello, from K clients while people sign",
    )
    parser.add_argument(
        "--reader-seconds", type=float, default=6.0, help="seconds of each reader phase"
    )
    parser.add_argument(
        "--wall-signatures",
        type=int,
        default=10_000,
        help="confirmed signatures seeded first when --readers is given",
    )
    common.add_database_arguments(parser)
    args = parser.parse_args()
    return common.main_wrapper(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
