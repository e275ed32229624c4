"""CSV export: rows per second and peak memory, streaming 250,000 rows against 10,000.

    python bench/export.py [--rows 250000] [--small 10000] [--database-url URL]

Seeds a scratch database with the demo pledge holding ``--rows`` confirmed synthetic
signers (``pledges seed-demo``) and a second pledge holding ``--small``, then downloads
each pledge's export through the export view itself (form validation, audit entry,
``stream_with_context`` generator) with every column an organizer can choose, reading the
response chunk by chunk as a client would. Each export runs twice: once timed, once under
tracemalloc for the peak of Python allocations while streaming. The process's maximum
resident set size (getrusage) before and after the large export is printed too.

The aim (from the export issue): memory stays flat, so the large export's peak is at
most 1.5x the small one's. A missed aim is reported, not an error.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

AIM = 1.5
SMALL_SLUG = "export-small"


@dataclass
class Run:
    rows: int
    seconds: float
    megabytes: float  # of CSV written
    peak_mib: float  # tracemalloc peak while streaming

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def export(app, user, slug: str, columns: list[str]) -> tuple[int, int]:
    """Stream one export through the view; return (data rows, bytes)."""
    from flask_login import login_user

    from pledges.exports.routes import signatures

    query = urlencode(
        [("columns", c) for c in columns] + [("statuses", "confirmed"), ("download", "1")]
    )
    with app.test_request_context(f"/organize/{slug}/export?{query}"):
        login_user(user)
        response = signatures(slug)
        if response.status_code != 200 or not response.is_streamed:
            raise common.BenchError(f"export of {slug} answered {response.status_code}")
        lines = size = 0
        for chunk in response.response:
            lines += chunk.count(b"\r\n")
            size += len(chunk)
        response.close()
    return lines - 1, size


def measure(app, user, slug: str, columns: list[str]) -> Run:
    began = time.perf_counter()
    rows, size = export(app, user, slug, columns)
    seconds = time.perf_counter() - began
    tracemalloc.start()
    tracemalloc.reset_peak()
    export(app, user, slug, columns)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return Run(rows, seconds, size / 1e6, peak / 2**20)


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run(args: argparse.Namespace) -> int:
    with (
        common.workdir(args.keep) as workdir,
        common.scratch_database(args.database_url, workdir, args.in_place) as url,
    ):
        env = common.app_environment(url, workdir)
        common.prepare_database(env, args.rows)
        os.environ.update(env)
        from sqlalchemy import select

        from pledges import create_app
        from pledges.accounts.service import create_user
        from pledges.demo import DEMO_SLUG, add_synthetic_signatures
        from pledges.exports import service
        from pledges.extensions import db
        from pledges.models import Commitment, Pledge, PledgeOrganizer, PledgeStatus

        app = create_app()
        with app.app_context():
            demo = db.session.scalar(select(Pledge).where(Pledge.slug == DEMO_SLUG))
            small = Pledge(
                slug=SMALL_SLUG,
                title="Export benchmark, small",
                preamble="For the export benchmark.",
                status=PledgeStatus.OPEN,
                opened_at=demo.opened_at,
                commitments=[
                    Commitment(position=c.position, text=c.text, required=c.required)
                    for c in demo.commitments
                ],
            )
            db.session.add(small)
            db.session.flush()
            print(f"Adding {args.small:,} signatures to a second pledge...", flush=True)
            add_synthetic_signatures(small, args.small, seed=2012)
            user = create_user("bench-organizer@example.org", "a long bench password here")
            for pledge in (demo, small):
                db.session.add(PledgeOrganizer(pledge_id=pledge.id, user_id=user.id))
            db.session.commit()
            user_id = user.id
            columns = [c.key for c in service.COLUMNS]

        with app.app_context():
            from pledges.models import User

            user = db.session.get(User, user_id)
            db.session.expunge(user)
        print(f"Streaming exports of {len(columns)} columns (batch {service.BATCH})...")
        export(app, user, SMALL_SLUG, columns)  # warm-up: imports, template, first queries
        small_run = measure(app, user, SMALL_SLUG, columns)
        rss_before = max_rss_mib()
        large_run = measure(app, user, DEMO_SLUG, columns)
        rss_after = max_rss_mib()

    print(f"Database: {common.display_url(url) if args.database_url else 'SQLite (WAL)'}")
    for name, result in (("small", small_run), ("large", large_run)):
        print(
            f"{name:5} {result.rows:>9,} rows  {result.seconds:7.2f} s  "
            f"{result.rows_per_second:>9,.0f} rows/s  {result.megabytes:7.1f} MB of CSV  "
            f"peak {result.peak_mib:6.2f} MiB (tracemalloc)"
        )
    ratio = large_run.peak_mib / small_run.peak_mib
    print(
        f"max RSS {rss_before:.0f} MiB before the large export, {rss_after:.0f} MiB after "
        f"(+{rss_after - rss_before:.1f} MiB)"
    )
    print(
        f"peak memory ratio large/small   {ratio:.2f}x for {large_run.rows / small_run.rows:.0f}x "
        f"the rows   (aim <= {AIM:g}x: {'aim met' if ratio <= AIM else 'aim missed'})"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--small", type=int, default=10_000)
    common.add_database_arguments(parser)
    args = parser.parse_args()
    return common.main_wrapper(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
