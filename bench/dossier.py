"""Advocacy dossier: build time and peak memory for pledges of growing size.

    python bench/dossier.py [--sizes 1000,10000,100000] [--audience officials]
                            [--part-size 2000] [--database-url postgresql+psycopg://...]

For each size N: a scratch database (SQLite file, or a pledges_bench database on the
PostgreSQL server named), migrated and seeded with the demo pledge and N confirmed
synthetic signers (pledges.demo.add_synthetic_signatures, through ``pledges seed-demo``),
then ``pledges export-dossier`` run as a child process, timed on the wall clock, with the
child's own peak RSS (os.wait4's rusage: only that process, not the seeding before it).
Prints pages, size, seconds and MB per size, and the ratios between sizes. The aims (from
the issue): 10,000 signers in under 20 s and 300 MB; 100,000 in about the same memory.
A missed aim is reported, not an error.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

AIM_SECONDS_10K = 20.0
AIM_MB = 300.0


def measure_export(env: dict[str, str], output: Path, audience: str, part_size: int) -> dict:
    """Run ``pledges export-dossier`` and return its seconds, peak RSS and report line."""
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our own venv's executable, fixed arguments
        [
            common.executable("pledges"),
            "export-dossier",
            common.SLUG,
            "-o",
            str(output),
            "--audience",
            audience,
            *(["--part-size", str(part_size)] if part_size else []),
        ],
        env=env,
        cwd=common.PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # wait4 gives this child's own rusage; reading stdout first keeps the pipe from filling.
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise common.BenchError(f"export-dossier failed ({proc.returncode}):\n{out[-3000:]}")
    match = re.search(r"([\d,]+) pages, ([\d.,]+) MB", out)
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "pages": int(match.group(1).replace(",", "")) if match else 0,
        "mb": float(match.group(2).replace(",", "")) if match else 0.0,
    }


def run(args: argparse.Namespace) -> int:
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    results: dict[int, dict] = {}
    for size in sizes:
        print(f"\n== {size:,} signers ==", flush=True)
        with (
            common.workdir(args.keep) as workdir,
            common.scratch_database(args.database_url, workdir, args.in_place) as url,
        ):
            env = common.app_environment(url, workdir)
            env["PLEDGES_INSTANCE"] = str(workdir / "instance")
            common.prepare_database(env, size)
            print(f"Building the {args.audience} dossier...", flush=True)
            results[size] = result = measure_export(
                env, workdir / "dossier.pdf", args.audience, args.part_size
            )
            print(
                f"  {result['pages']:,} pages, {result['mb']:.1f} MB, "
                f"{result['seconds']:.1f} s ({result['cpu']:.1f} s CPU), "
                f"peak RSS {result['rss_mb']:.0f} MB",
                flush=True,
            )

    print(f"\nDossier ({args.audience}), {common.display_url(args.database_url or 'sqlite://')}")
    print(f"{'signers':>10} {'pages':>7} {'MB':>6} {'seconds':>8} {'CPU s':>6} {'peak RSS MB':>12}")
    for size, r in results.items():
        print(
            f"{size:>10,} {r['pages']:>7,} {r['mb']:>6.1f} {r['seconds']:>8.1f}"
            f" {r['cpu']:>6.1f} {r['rss_mb']:>12.0f}"
        )
    ordered = sorted(results)
    for smaller, larger in zip(ordered, ordered[1:], strict=False):
        a, b = results[smaller], results[larger]
        print(
            f"{larger:,} / {smaller:,}: time x{b['seconds'] / a['seconds']:.1f} "
            f"(CPU x{b['cpu'] / a['cpu']:.1f}), "
            f"memory x{b['rss_mb'] / a['rss_mb']:.2f}"
        )
    if 10_000 in results:
        r = results[10_000]
        met = r["seconds"] < AIM_SECONDS_10K and r["rss_mb"] < AIM_MB
        print(
            f"10,000 signers: {r['seconds']:.1f} s (aim < {AIM_SECONDS_10K:g}), "
            f"{r['rss_mb']:.0f} MB (aim < {AIM_MB:g}): {'aim met' if met else 'aim missed'}"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--audience", choices=["officials", "funders", "media"], default="officials"
    )
    parser.add_argument("--part-size", type=int, default=0, help="signers per part of the list")
    common.add_database_arguments(parser)
    args = parser.parse_args()
    return common.main_wrapper(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
