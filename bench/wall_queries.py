"""The wall's uncached cost at scale: what a cache miss costs, page by page.

    python bench/wall_queries.py [--signatures 100000,1000000] [--repeat 5]
                                 [--database-url URL] [--in-place] [--keep]

For each size N: a scratch database seeded with N confirmed demo signers (``pledges
seed-demo``, timed), then, in this process, ``wall.service.wall_page`` (the queries a wall
or API page runs when no cached copy serves it) for the first page, the page after the newest
90%, a country and a role filter (first and deep), and the API's page (no counts); each the
median of ``--repeat`` runs, with its number of SQL statements. The aim (from the issue):
a million costs the same as 100,000, so the ratio per row stays near 1x. The machine's load
average is printed beside the figures: other work on it slows every row alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

AIM_RATIO = 1.5  # a million's page at most this much dearer than 100,000's


def measure(database_url: str, repeat: int) -> dict[str, tuple[float, int]]:
    """Median milliseconds and statements per case, in a fresh app on ``database_url``."""
    os.environ["DATABASE_URL"] = database_url
    from sqlalchemy import event, func, select

    from pledges import create_app
    from pledges.extensions import db
    from pledges.models import Pledge, Signature
    from pledges.wall.service import Cursor, WallFilters, wall_page

    app = create_app()
    results: dict[str, tuple[float, int]] = {}
    with app.app_context(), app.test_request_context():
        statements = [0]

        def count(*_args):
            statements[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == common.SLUG))
        signatures = db.session.scalar(
            select(func.count()).select_from(Signature).where(Signature.pledge_id == pledge.id)
        )
        depth = db.session.execute(
            select(Signature.public_since, Signature.public_id)
            .where(Signature.pledge_id == pledge.id)
            .order_by(Signature.public_since.desc(), Signature.public_id.desc())
            .offset(int(signatures * 0.9))
            .limit(1)
        ).first()
        deep = Cursor(depth[0].date(), depth[1])
        cases = {
            "first page": {},
            "deep page (90%)": {"before": deep},
            "country KE": {"filters": WallFilters.parse("KE", None)},
            "country KE, deep": {"filters": WallFilters.parse("KE", None), "before": deep},
            "role woman": {"filters": WallFilters.parse(None, "woman")},
            "API page, deep": {"before": deep, "counts": False},
        }
        for label, kwargs in cases.items():
            times = []
            for _ in range(repeat):
                statements[0] = 0
                started = time.perf_counter()
                wall_page(pledge, 50, **kwargs)
                times.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            results[label] = (statistics.median(times), statements[0])
        event.remove(db.engine, "before_cursor_execute", count)
        db.session.remove()
        db.engine.dispose()
    return results


def run(args: argparse.Namespace) -> int:
    sizes = [int(s.replace("_", "")) for s in args.signatures.split(",")]
    measured: dict[int, dict[str, tuple[float, int]]] = {}
    for size in sizes:
        print(f"\n== {size:,} signatures ==", flush=True)
        with (
            common.workdir(args.keep) as workdir,
            common.scratch_database(args.database_url, workdir, args.in_place) as url,
        ):
            env = common.app_environment(url, workdir)
            seconds = common.prepare_database(env, size)
            print(f"  seeded in {seconds:.1f} s (load average {os.getloadavg()[0]:.2f})")
            os.environ.update(env)
            measured[size] = measure(url, args.repeat)
            for label, (ms, count) in measured[size].items():
                print(f"  {label:20} {ms:8.1f} ms  {count:3} statements")
    print(f"\nLoad average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if len(sizes) > 1:
        small, large = measured[sizes[0]], measured[sizes[-1]]
        print(f"{sizes[-1]:,} against {sizes[0]:,}:")
        for label in small:
            ratio = large[label][0] / small[label][0] if small[label][0] else float("inf")
            verdict = "aim met" if ratio <= AIM_RATIO else "aim missed"
            print(f"  {label:20} {ratio:5.2f}x  (aim <= {AIM_RATIO}x: {verdict})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=5)
    common.add_database_arguments(parser)
    return common.main_wrapper(lambda: run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
