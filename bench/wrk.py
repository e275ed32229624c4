"""Load from wrk (Debian's package), a C load generator that outruns the server it measures.

A Python load generator saturates before a 2-worker gunicorn does (ours reached about 2,200
hello requests per second where wrk reaches twice that), which compresses every ratio it
prints. wrk runs the request loop in C; a small Lua script (``lua/``) reports its summary as
one JSON line, and, for the signing run, drives GET-then-POST and records what was
acknowledged.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from common import HOST, BenchError

LUA_DIR = Path(__file__).resolve().parent / "lua"
MARKER = "WRKJSON "
DURATION_LINE = re.compile(r"\d+ requests in ([\d.]+)(us|ms|s|m)\b")
DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
BAD_STATUS_LINE = re.compile(r"Non-2xx or 3xx responses: (\d+)")
SOCKET_ERRORS_LINE = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)


def executable() -> str:
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk is not installed: `make bench` installs it (Debian: apt install wrk)")
    return found


@dataclass
class WrkResult:
    name: str
    requests: int
    seconds: float
    mean_ms: float
    p95_ms: float
    bad_status: int  # answers that are not 2xx or 3xx
    socket_errors: int
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.name:<18} {self.rate:8.1f} req/s  mean {self.mean_ms:6.2f} ms  "
            f"p95 {self.p95_ms:6.2f} ms  n={self.requests}"
            + (f"  bad status {self.bad_status}" if self.bad_status else "")
            + (f"  socket errors {self.socket_errors}" if self.socket_errors else "")
        )


def run(
    name: str,
    port: int,
    path: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    headers: dict[str, str] | None = None,
    script: str = "report.lua",
    script_args: list[str] | None = None,
) -> WrkResult:
    """``wrk`` against ``http://HOST:port/path`` for ``seconds``; parsed from its JSON line."""
    command = [
        executable(),
        "--threads",
        str(threads),
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--script",
        str(LUA_DIR / script),
    ]
    for key, value in (headers or {}).items():
        command += ["--header", f"{key}: {value}"]
    command.append(f"http://{HOST}:{port}{path}")
    if script_args:
        command += ["--", *script_args]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        raise BenchError(f"wrk failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(lines[-1][len(MARKER) :])
    took = DURATION_LINE.search(proc.stdout)
    if took is None:
        raise BenchError(f"wrk printed no duration:\n{proc.stdout}")
    seconds = float(took.group(1)) * DURATION_UNITS[took.group(2)]
    bad = BAD_STATUS_LINE.search(proc.stdout)
    socket_errors = SOCKET_ERRORS_LINE.search(proc.stdout)
    return WrkResult(
        name=name,
        requests=data["requests"],
        seconds=seconds,
        mean_ms=data["mean_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        bad_status=int(bad.group(1)) if bad else 0,
        socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
        extra={k: v for k, v in data.items() if k.startswith("x_")},
    )
