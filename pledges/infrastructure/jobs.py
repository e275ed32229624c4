"""Long work run outside the request that asked for it: the one door for enqueuing it.

``enqueue(func, *args)`` runs ``func(*args)`` later, inside an application context, in the
language of the request that enqueued it. ``func`` must be a module-level function (it is
named by its import path, so a worker process can find it) and its arguments plain values
(ids, strings, numbers): the work reads what it needs from the database when it runs, so it
may be retried, and must be safe to run twice.

Two backends, chosen by ``JOBS_BACKEND``:

- ``thread`` (the embedded default, without Redis): the job runs in a daemon thread of this
  process, as the app has always done for long dossier builds. One process, nothing to run
  beside it; a job dies with its process.
- ``rq`` (the default when ``REDIS_URL`` is set): the job goes onto an RQ queue in Redis
  (``JOBS_QUEUE_NAME``) and a ``pledges worker`` process runs it, with the app built once per
  worker process. A job that raises is retried after ``JOBS_RETRY_INTERVALS`` seconds, then
  kept in RQ's failed registry, where admins see it (/admin/jobs) and can retry it. A job
  whose worker was killed stops sending heartbeats; the next maintenance round of any worker
  (every ``JOBS_MAINTENANCE_SECONDS``) finds it abandoned and RQ retries it like a failed one.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
import rq
from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

log = logging.getLogger(__name__)

THREAD = "thread"
RQ = "rq"
BACKENDS = (THREAD, RQ)

CONNECTION_KEY = "pledges.jobs_redis"
#: How long RQ keeps a job that failed every attempt.
FAILED_JOBS_KEPT_SECONDS = 30 * 24 * 3600
#: Plain words for each job function, by its import path (``label`` fills it).
_LABELS: dict[str, Any] = {}
#: The app a worker process built once; its jobs run in it.
_worker_app: Flask | None = None


class QueueUnavailable(RuntimeError):
    """The job queue (Redis) did not answer: nothing was enqueued."""


def job_name(func: Callable[..., Any]) -> str:
    """The import path a worker finds ``func`` by."""
    return f"{func.__module__}.{func.__qualname__}"


def label(text: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the plain words (a lazy string) admins see for jobs of this function."""

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        _LABELS[job_name(func)] = text
        return func

    return mark


def describe(name: str) -> str:
    """A job function's plain words; its own name, spelled out, where it has none."""
    text = _LABELS.get(name)
    if text is not None:
        return str(text)
    return name.rpartition(".")[2].replace("_", " ").strip().capitalize()


def backend(app: Flask | None = None) -> str:
    return (app or current_app).config["JOBS_BACKEND"]


def _check(func: Callable[..., Any]) -> None:
    if "." in func.__qualname__ or "<" in func.__qualname__:
        raise ValueError(f"{job_name(func)} is not a module-level function")


def _locale(app: Flask) -> str:
    return str(get_locale() or app.config["SUPPORTED_LOCALES"][0])


def enqueue(func: Callable[..., Any], *args: Any) -> threading.Thread | Job:
    """Run ``func(*args)`` in the background, in an app context and the current locale.

    Gives the thread (``thread`` backend) or the RQ job (``rq``); raises QueueUnavailable
    when Redis does not answer."""
    _check(func)
    app = current_app._get_current_object()  # noqa: SLF001 - the thread needs the app itself
    locale = _locale(app)
    if backend(app) == RQ:
        try:
            return _enqueue_rq(app, func, args, locale)
        except redis.RedisError as error:
            raise QueueUnavailable(str(error)) from error
    thread = threading.Thread(
        target=_run_in_thread,
        args=(app, func, args, locale),
        name=f"job-{func.__name__}",
        daemon=True,
    )
    thread.start()
    return thread


def _run_in_thread(
    app: Flask, func: Callable[..., Any], args: tuple[Any, ...], locale: str
) -> None:
    from pledges.extensions import db

    with app.app_context(), force_locale(locale):
        try:
            func(*args)
        except Exception:
            log.exception("background job %s failed", job_name(func))
        finally:
            db.session.remove()


# --- The RQ backend ----------------------------------------------------------------------


def connection(app: Flask | None = None) -> redis.Redis:
    """The app's Redis connection for the queue (one pool per app)."""
    app = app or current_app
    client = app.extensions.get(CONNECTION_KEY)
    if client is None:
        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)
        app.extensions[CONNECTION_KEY] = client
    return client


def queue(app: Flask | None = None) -> rq.Queue:
    app = app or current_app
    return rq.Queue(app.config["JOBS_QUEUE_NAME"], connection=connection(app))


def retry_policy(app: Flask) -> rq.Retry | None:
    """``Retry(max=3, interval=[10, 60, 300])`` by default: one attempt per interval."""
    intervals = list(app.config["JOBS_RETRY_INTERVALS"])
    return rq.Retry(max=len(intervals), interval=intervals) if intervals else None


def _waiting_key(app: Flask, name: str) -> str:
    return f"pledges:jobs:{app.config['JOBS_QUEUE_NAME']}:waiting:{name}"


def _enqueue_rq(app: Flask, func: Callable[..., Any], args: tuple[Any, ...], locale: str) -> Job:
    name = job_name(func)
    return queue(app).enqueue(
        run_job,
        name,
        list(args),
        locale,
        retry=retry_policy(app),
        job_timeout=app.config["JOBS_TIMEOUT_SECONDS"],
        # The arguments stay out of the description, which RQ's tools show.
        description=name,
        meta={"task": name},
        # A failed job (its arguments, its error) is kept this long for admins to retry.
        failure_ttl=FAILED_JOBS_KEPT_SECONDS,
    )


def enqueue_unless_waiting(func: Callable[..., Any]) -> threading.Thread | Job | None:
    """Enqueue ``func()`` unless a job of it is waiting to start already (``rq``): a burst
    of commits then costs one job. The job clears its mark as it starts, so work that
    arrives while it runs gets a job of its own. None when one was waiting."""
    _check(func)
    app = current_app._get_current_object()  # noqa: SLF001
    if backend(app) == RQ:
        # The mark expires, so a job lost with its worker cannot hold back every later one.
        try:
            fresh = connection(app).set(_waiting_key(app, job_name(func)), 1, nx=True, ex=300)
        except redis.RedisError as error:
            raise QueueUnavailable(str(error)) from error
        if not fresh:
            return None
    return enqueue(func)


def run_job(name: str, args: list[Any], locale: str) -> None:
    """What a worker runs for every job: ``name(*args)`` in the worker's app, in ``locale``.

    Raises what the job raises, so that RQ records the failure and retries it."""
    from pledges.extensions import db

    app = _worker_app
    if app is None:
        raise RuntimeError("jobs run in `pledges worker`, which builds the app they need")
    if not args:
        connection(app).delete(_waiting_key(app, name))
    module, _, attribute = name.rpartition(".")
    func = getattr(importlib.import_module(module), attribute)
    with app.app_context(), force_locale(locale):
        try:
            func(*args)
        finally:
            db.session.remove()


def _set_worker_app(app: Flask) -> Flask:
    global _worker_app  # noqa: PLW0603 - one app per worker process, by design
    _worker_app = app
    return app


@dataclass(frozen=True)
class Every:
    """Scheduled work: ``func()`` enqueued every ``seconds`` by a worker with the scheduler."""

    func: Callable[..., Any]
    seconds: int


def enqueue_due(app: Flask, schedule: Iterable[Every]) -> list[str]:
    """Enqueue each scheduled function whose period has passed. A Redis key per function,
    set only if absent and expiring after one period, makes this safe to call from any
    number of workers, as often as they like: each period enqueues one job."""
    names = []
    client = connection(app)
    prefix = f"pledges:jobs:{app.config['JOBS_QUEUE_NAME']}:every:"
    for entry in schedule:
        name = job_name(entry.func)
        if client.set(prefix + name, int(time.time()), nx=True, ex=entry.seconds):
            _enqueue_rq(app, entry.func, (), app.config["SUPPORTED_LOCALES"][0])
            names.append(name)
    return names


_PR_SET_PDEATHSIG = 1


def _die_with(parent_pid: int) -> None:
    """In a work horse: be killed the moment the worker that forked it dies (Linux), so a
    job is never left running unsupervised beside the retry of it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the horse outlives a killed worker
        return
    if os.getppid() != parent_pid:  # the worker died before the line above
        os._exit(1)


class AppWorker(rq.Worker):
    """An RQ worker for the app: jobs run in ``app`` (built once, in this process).

    Each job runs in a forked work horse (RQ's default), which frees what a build took.
    Heartbeats come every ``job_monitoring_interval`` seconds and a job is abandoned after
    three missed ones; idle, the worker wakes for its maintenance (abandoned jobs retried,
    and with ``schedule`` the scheduled work enqueued) every ``maintenance_interval``.
    """

    def __init__(self, *args: Any, app: Flask, schedule: Iterable[Every] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.app = app
        self.schedule = tuple(schedule)
        self._worker_pid = os.getpid()

    @property
    def dequeue_timeout(self) -> int:
        return max(1, min(self.worker_ttl - 15, self.maintenance_interval))

    def get_heartbeat_ttl(self, job: Job) -> int:
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            remaining = job.timeout - self.current_job_working_time
            return int(min(remaining, interval)) + 2 * interval
        return 3 * interval

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if self.schedule:
            try:
                for name in enqueue_due(self.app, self.schedule):
                    log.info("scheduled job %s enqueued", name)
            except redis.RedisError:
                log.exception("could not enqueue the scheduled jobs")

    def main_work_horse(self, job: Job, queue: rq.Queue) -> None:
        _die_with(self._worker_pid)
        from pledges.extensions import db

        # Connections inherited from the worker are its own: never share them.
        with self.app.app_context():
            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


def work(
    app: Flask,
    *,
    burst: bool = False,
    with_scheduler: bool = False,
    schedule: Iterable[Every] = (),
    name: str | None = None,
) -> bool:
    """Run a worker on the app's queue until stopped (or, ``burst``, until it is empty)."""
    _set_worker_app(app)
    worker = AppWorker(
        [queue(app)],
        connection=connection(app),
        name=name,
        app=app,
        schedule=schedule if with_scheduler else (),
        job_monitoring_interval=app.config["JOBS_HEARTBEAT_SECONDS"],
        maintenance_interval=app.config["JOBS_MAINTENANCE_SECONDS"],
    )
    return worker.work(
        burst=burst, with_scheduler=with_scheduler, logging_level=app.config["LOG_LEVEL"]
    )


# --- What admins see ---------------------------------------------------------------------


@dataclass(frozen=True)
class FailedJob:
    """A failed job as admins see it: what it was for and why it failed, never its
    arguments (ids, perhaps an address)."""

    id: str
    name: str
    label: str
    error: str
    failed_at: datetime | None


@dataclass(frozen=True)
class Overview:
    counts: dict[str, int]
    failed: list[FailedJob]


def overview(limit: int = 50) -> Overview:
    """Counts per registry and the latest failed jobs of the app's queue (``rq`` only);
    raises QueueUnavailable when Redis does not answer."""
    try:
        return _overview(limit)
    except redis.RedisError as error:
        raise QueueUnavailable(str(error)) from error


def _overview(limit: int) -> Overview:
    q = queue()
    failed_registry = FailedJobRegistry(queue=q)
    counts = {
        "queued": q.count,
        "started": StartedJobRegistry(queue=q).count,
        "failed": failed_registry.count,
        "scheduled": ScheduledJobRegistry(queue=q).count,
    }
    ids = failed_registry.get_job_ids(0, limit - 1, desc=True)
    failed = []
    for job in Job.fetch_many(ids, connection=q.connection):
        if job is None:
            continue
        name = job.meta.get("task") or job.func_name
        result = job.latest_result()
        error = error_summary(result.exc_string if result is not None else "")
        failed_at = result.created_at if result is not None else job.ended_at
        failed.append(FailedJob(job.id, name, describe(name), error, failed_at))
    return Overview(counts, failed)


def error_summary(traceback: str | None) -> str:
    """The last line of a traceback: the exception and its message."""
    lines = [line.strip() for line in (traceback or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def retry_failed(job_id: str) -> bool:
    """Put a failed job of the app's queue back on it; False if it is not a failed one.
    Raises QueueUnavailable when Redis does not answer."""
    q = queue()
    try:
        FailedJobRegistry(queue=q).requeue(job_id)
    except (InvalidJobOperation, NoSuchJobError):
        return False
    except redis.RedisError as error:
        raise QueueUnavailable(str(error)) from error
    return True
