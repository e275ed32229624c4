"""A small, bounded HTTP load generator for loopback benchmarks (standard library only).

Every run is bounded twice: by a duration and by a maximum number of operations, so a
benchmark can never run away. Only loopback hosts are accepted: this is a tool for
measuring a server on the same machine, not for loading anyone else's.

The client is kept cheap because it shares the CPU with the server it measures: one
blocking socket per request, a pre-built request, and only the status line and the
Content-Length header parsed. Gunicorn's sync workers close the connection after each
response, so every request opens a new connection (``Connection: close``).

Two levels:

* ``run_bounded(operation, ...)``: call ``operation()`` from N threads until the time or
  count runs out; ``operation`` returns None on success or a short error string.
* ``run_get(host, port, path, ...)``: the common case, GET one path, 200 is success.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "LoadResult",
    "Response",
    "check_loopback",
    "http_request",
    "run_bounded",
    "run_get",
]


def check_loopback(host: str) -> str:
    """Return ``host`` if every address it resolves to is loopback, else raise ValueError."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ValueError(f"cannot resolve {host!r}: {exc}") from exc
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise ValueError(
            f"refusing to load {host!r} ({', '.join(sorted(addresses))}): loopback hosts only"
        )
    return host


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]


def _recv_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _parse(raw: bytes, parse_headers: bool) -> Response:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ConnectionError(f"incomplete response ({len(raw)} bytes)")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise ConnectionError(f"bad status line {lines[0][:80]!r}")
    status = int(parts[1])
    headers: list[tuple[str, str]] = []
    length = None
    chunked = False
    for line in lines[1:]:
        key, _, value = line.partition(b":")
        lkey = key.strip().lower()
        if lkey == b"content-length":
            length = int(value.strip())
        elif lkey == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        if parse_headers:
            headers.append((key.strip().decode("latin-1"), value.strip().decode("latin-1")))
    if chunked:
        body = _dechunk(body)
    elif length is not None and len(body) != length:
        raise ConnectionError(f"truncated body: {len(body)} of {length} bytes")
    return Response(status, headers, body)


def _dechunk(data: bytes) -> bytes:
    out = []
    pos = 0
    while True:
        end = data.index(b"\r\n", pos)
        size = int(data[pos:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        start = end + 2
        out.append(data[start : start + size])
        pos = start + size + 2


def build_request(
    method: str,
    host: str,
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    for key, value in (headers or {}).items():
        lines.append(f"{key}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def http_request(
    host: str,
    port: int,
    method: str = "GET",
    path: str = "/",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 30.0,
    raw_request: bytes | None = None,
    parse_headers: bool = True,
) -> Response:
    """One request on a fresh connection, read to the server's close."""
    request = raw_request or build_request(method, host, port, path, headers, body)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        raw = _recv_all(sock)
    return _parse(raw, parse_headers)


@dataclass
class LoadResult:
    name: str
    concurrency: int
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # successful operations, seconds
    errors: Counter = field(default_factory=Counter)  # error description -> count
    stopped_by: str = ""  # "duration" or "max_requests"

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def requests(self) -> int:
        return self.ok + self.error_count

    @property
    def rate(self) -> float:
        """Successful operations per second."""
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def mean(self) -> float:
        return sum(self.latencies) / len(self.latencies) if self.latencies else math.nan

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def merge(self, other: LoadResult) -> LoadResult:
        """Add another run of the same load (e.g. a later round) into this one."""
        self.elapsed += other.elapsed
        self.latencies.extend(other.latencies)
        self.errors.update(other.errors)
        self.stopped_by = other.stopped_by
        return self

    def summary(self) -> str:
        line = (
            f"{self.name:<12} {self.requests:>7} req in {self.elapsed:5.1f} s  "
            f"{self.rate:8.1f} req/s  mean {self.mean * 1000:7.1f} ms  "
            f"p95 {self.percentile(95) * 1000:7.1f} ms  errors {self.error_count}"
        )
        if self.errors:
            top = ", ".join(f"{msg} x{n}" for msg, n in self.errors.most_common(3))
            line += f"  [{top}]"
        return line


def run_bounded(
    operation: Callable[[], str | None],
    *,
    name: str = "load",
    concurrency: int = 8,
    duration: float = 10.0,
    max_requests: int = 100_000,
) -> LoadResult:
    """Run ``operation`` from ``concurrency`` threads until ``duration`` seconds have passed
    or ``max_requests`` operations have started, whichever comes first.

    ``operation`` returns None when it succeeded, or a short error description; an
    exception counts as an error named after its type.
    """
    if concurrency < 1 or duration <= 0 or max_requests < 1:
        raise ValueError("concurrency, duration and max_requests must be positive")
    result = LoadResult(name=name, concurrency=concurrency)
    tickets = itertools.count()  # next() is atomic under the GIL
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + duration
    stopped = {"why": "duration"}

    def worker() -> None:
        latencies: list[float] = []
        errors: Counter = Counter()
        clock = time.perf_counter
        while True:
            if next(tickets) >= max_requests:
                stopped["why"] = "max_requests"
                break
            began = clock()
            if began >= deadline:
                break
            try:
                error = operation()
            except Exception as exc:  # noqa: BLE001 - counted, never fatal
                error = f"{type(exc).__name__}: {str(exc)[:60]}"
            if error is None:
                latencies.append(clock() - began)
            else:
                errors[error] += 1
        with lock:
            result.latencies.extend(latencies)
            result.errors.update(errors)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Each request has its own socket timeout; the join timeout is a last resort.
        thread.join(duration + 120)
    result.elapsed = time.perf_counter() - start
    result.stopped_by = stopped["why"]
    return result


def run_get(
    host: str,
    port: int,
    path: str,
    *,
    name: str | None = None,
    concurrency: int = 8,
    duration: float = 10.0,
    max_requests: int = 100_000,
    timeout: float = 30.0,
    expect: Callable[[Response], str | None] | None = None,
) -> LoadResult:
    """GET ``path`` repeatedly; any status but 200 (or a failed ``expect``) is an error."""
    check_loopback(host)
    request = build_request("GET", host, port, path, {"User-Agent": "pledges-bench"})

    def operation() -> str | None:
        response = http_request(
            host, port, raw_request=request, timeout=timeout, parse_headers=False
        )
        if response.status != 200:
            return f"HTTP {response.status}"
        return expect(response) if expect else None

    return run_bounded(
        operation,
        name=name or path,
        concurrency=concurrency,
        duration=duration,
        max_requests=max_requests,
    )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="GET one loopback URL, bounded.")
    parser.add_argument("url", help="e.g. http://127.0.0.1:8000/hello")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    args = parser.parse_args()
    from urllib.parse import urlsplit

    parts = urlsplit(args.url)
    if parts.scheme != "http" or not parts.hostname:
        parser.error("only http://HOST[:PORT]/PATH URLs")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    print(
        run_get(
            parts.hostname,
            parts.port or 80,
            path,
            concurrency=args.concurrency,
            duration=args.duration,
            max_requests=args.max_requests,
        ).summary()
    )
