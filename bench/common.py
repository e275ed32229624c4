"""Shared plumbing for the benchmarks: a scratch database, the CLI, a gunicorn server."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
SLUG = "joining-forces"
SCRATCH_PG_DATABASE = "pledges_bench"


class BenchError(RuntimeError):
    """The run itself failed (not a missed aim): the script exits non-zero."""


def executable(name: str) -> str:
    """``name`` from the running interpreter's virtualenv, else from PATH."""
    for directory in (VENV_BIN, PROJECT_ROOT / ".venv" / "bin"):
        if (directory / name).exists():
            return str(directory / name)
    return name


def is_postgresql(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


@contextlib.contextmanager
def scratch_database(url: str | None, workdir: Path, in_place: bool) -> Iterator[str]:
    """Yield a database URL for one run.

    No URL: a fresh SQLite file in ``workdir``. A PostgreSQL URL: a database named
    ``pledges_bench`` created (and dropped afterwards) on that server, unless ``in_place``,
    in which case the given database is used as it is and must be empty.
    """
    if not url:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if not is_postgresql(url) or in_place:
        yield url
        return
    import psycopg
    from sqlalchemy.engine import make_url

    from pledges.config import normalize_database_url

    base = make_url(normalize_database_url(url))
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    target = base.set(database=SCRATCH_PG_DATABASE)

    def admin_execute(sql: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql)

    if base.database == SCRATCH_PG_DATABASE:
        raise BenchError(f"give the URL of another database than {SCRATCH_PG_DATABASE}")
    admin_execute(f'DROP DATABASE IF EXISTS "{SCRATCH_PG_DATABASE}" WITH (FORCE)')
    admin_execute(f'CREATE DATABASE "{SCRATCH_PG_DATABASE}"')
    try:
        yield target.render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(Exception):
            admin_execute(f'DROP DATABASE IF EXISTS "{SCRATCH_PG_DATABASE}" WITH (FORCE)')


def display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def app_environment(database_url: str, workdir: Path, port: int | None = None) -> dict[str, str]:
    """The environment for the CLI and the server: everything in ``workdir``, no real mail."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_hex(32),
        MAIL_DISPATCH="worker",
        MAIL_TRANSPORT="file",
        MAIL_OUTBOX_DIR=str(workdir / "outbox"),
        BASE_URL=f"http://{HOST}:{port or 8000}",
        PYTHONUNBUFFERED="1",
        # Every load-generator client is one loopback address: per-IP rate limits would
        # only measure themselves.
        RATELIMIT_ENABLED="false",
    )
    return env


def run_cli(args: list[str], env: dict[str, str], label: str) -> tuple[float, str]:
    """Run ``pledges ARGS``; return (seconds, output). Raise BenchError on failure."""
    started = time.perf_counter()
    proc = subprocess.run(  # noqa: S603 - our own venv's executable, fixed arguments
        [executable("pledges"), *args],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise BenchError(f"{label} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}")
    return elapsed, proc.stdout


def prepare_database(env: dict[str, str], signatures: int) -> float:
    """Migrate and seed the demo pledge; print and return the seed's wall-clock time."""
    print("Migrating...", flush=True)
    run_cli(["db", "upgrade"], env, "pledges db upgrade")
    print(f"Seeding the demo pledge with {signatures:,} confirmed signatures...", flush=True)
    seconds, output = run_cli(
        ["seed-demo", "--signatures", str(signatures), "--seed", "2011"], env, "pledges seed-demo"
    )
    reported = [line for line in output.splitlines() if "signatures added" in line]
    if reported:
        print(f"  pledges says: {reported[-1].strip()}")
    print(f"  seed-demo --signatures {signatures}: {seconds:.1f} s wall clock (process included)")
    return seconds


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _wait_ready(server: Server, timeout: float) -> None:
    import loadgen

    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(
                f"gunicorn exited with {server.proc.returncode} before answering:\n"
                + server.log_tail()
            )
        try:
            response = loadgen.http_request(HOST, server.port, path="/hello", timeout=5)
            if response.status == 200 and response.body == b"hello":
                return
            last = f"HTTP {response.status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise BenchError(
        f"gunicorn did not answer within {timeout:.0f} s ({last}):\n" + server.log_tail()
    )


def _stop(server: Server) -> None:
    proc = server.proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group started for this server only
            proc.wait(5)
    # Workers left behind by a killed master are in the same (own) process group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str],
    workdir: Path,
    workers: int = 2,
    ready_timeout: float = 60,
    app: str = "benchapp:create_app()",
) -> Iterator[Server]:
    """Serve ``app`` (by default ``benchapp:create_app()``) with ``workers`` sync workers;
    always stopped after."""
    port = free_port()
    env = {**env, "BASE_URL": f"http://{HOST}:{port}"}
    log_path = workdir / f"gunicorn-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(  # noqa: S603 - our own venv's executable, fixed arguments
        [
            executable("gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"{HOST}:{port}",
            "--pythonpath",
            str(BENCH_DIR),
            "--chdir",
            str(PROJECT_ROOT),
            "--log-level",
            "warning",
            app,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches us; we stop the server ourselves
    )
    server = Server(proc, port, log_path)
    try:
        _wait_ready(server, ready_timeout)
        yield server
    finally:
        _stop(server)
        log.close()


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found.extend(int(child) for child in fh.read().split())
    except OSError:
        pass
    return found


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers: the master's direct children."""
    return list(_children(master_pid))


def tree_cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds used so far by ``pid`` and its descendants (Linux only).

    Children that have exited are not counted; gunicorn workers live for the whole run.
    """
    if not os.path.exists(f"/proc/{pid}/stat"):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        stack.extend(_children(current))
    return total


def install_sigterm_handler() -> None:
    """Turn SIGTERM and SIGINT into KeyboardInterrupt so the server is always stopped."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    # Ctrl-C too, even when started in the background where SIGINT is inherited ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pledges-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"(kept {path})")
        else:
            import shutil

            shutil.rmtree(path, ignore_errors=True)


def main_wrapper(run) -> int:
    install_sigterm_handler()
    try:
        return run()
    except BenchError as exc:
        print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; server stopped.", file=sys.stderr)
        return 130


def add_database_arguments(parser) -> None:
    """--database-url, --in-place and --keep, the same for every benchmark."""
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to use (a pledges_bench database is created and dropped on it); "
        "default: a SQLite file (WAL) in a temporary directory",
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="use the --database-url database itself (must be empty) instead of pledges_bench",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start ``args`` from the project root, its output appended to ``log``."""
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(  # noqa: S603 - our own venv's executables, fixed arguments
            args, env=env, cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT
        )


def reap(proc: subprocess.Popen) -> tuple[int, float]:
    """Wait for ``proc``; its exit code and its own peak RSS in MB (os.wait4)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024


def scalar(database_url: str, sql: str, params: dict | None = None) -> int:
    """One value read from the benchmark's database, on a connection of its own."""
    from sqlalchemy import create_engine, text

    from pledges.config import normalize_database_url

    engine = create_engine(normalize_database_url(database_url))
    try:
        with engine.connect() as connection:
            return connection.scalar(text(sql), params or {})
    finally:
        engine.dispose()
