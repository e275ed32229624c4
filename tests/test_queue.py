"""The job queue on real Redis (JOBS_BACKEND=rq), run by real `pledges worker` processes.

Every test takes ``redis_url`` (through ``app_config``), so it runs on Redis or fails (never
skipped on CI), and has a queue of its own, deleted afterwards with its jobs. The jobs the
workers run live in tests/queue_jobs.py; their side effects are audit entries, read from the
database the workers wrote to (SQLite and PostgreSQL).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import rq
from flask import Flask
from flask_babel import force_locale
from rq.job import Job
from sqlalchemy import select

from pledges.extensions import db
from pledges.infrastructure import jobs
from pledges.models import AuditEntry, Dossier, DossierStatus, MailStatus, OutboxEmail
from pledges.schedule import SCHEDULE
from tests import queue_jobs
from tests.conftest import redis_settings
from tests.factories import confirmed_signature, make_pledge, make_user, run_by
from tests.helpers import csrf_token, log_in, read_outbox

ROOT = Path(__file__).resolve().parent.parent
PLEDGES = str(Path(sys.executable).with_name("pledges"))


@pytest.fixture
def app_config(app_config: dict, redis_url: str) -> dict:
    return {
        **app_config,
        **redis_settings(redis_url),
        "JOBS_BACKEND": "rq",
        "JOBS_QUEUE_NAME": f"pledges-test-{secrets.token_hex(6)}",
        # Quick, so that retries and abandoned jobs show within seconds.
        "JOBS_RETRY_INTERVALS": (1, 3),
        "JOBS_HEARTBEAT_SECONDS": 1,
        "JOBS_MAINTENANCE_SECONDS": 1,
    }


@pytest.fixture(autouse=True)
def own_queue(app: Flask) -> Iterator[None]:
    """Delete the test's queue, its jobs and its workers' records from Redis afterwards."""
    yield
    clean_queue(app)


def clean_queue(app: Flask) -> None:
    """Delete the app's queue, its jobs and its workers' records from Redis."""
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    name = app.config["JOBS_QUEUE_NAME"]
    try:
        queue = rq.Queue(name, connection=client)
        ids = {str(job_id) for job_id in queue.get_job_ids()}
        for registry in (
            queue.started_job_registry,
            queue.failed_job_registry,
            queue.finished_job_registry,
            queue.scheduled_job_registry,
            queue.deferred_job_registry,
            queue.canceled_job_registry,
        ):
            ids.update(registry.get_job_ids(cleanup=False))
        for pattern in [f"*{job_id}*" for job_id in ids] + [f"*{name}*"]:
            for key in client.scan_iter(match=pattern):
                client.delete(key)
        workers = [w for w in client.smembers("rq:workers") if name.encode() in w]
        if workers:
            client.srem("rq:workers", *workers)
    finally:
        client.close()


def worker_env(app: Flask, tmp_path: Path) -> dict[str, str]:
    """The environment of a worker process: the test app's database, Redis and queue."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PLEDGES_", "JOBS_", "MAIL_", "REDIS_", "DATABASE_", "LOG_"))
    }
    config = app.config
    env.update(
        PYTHONPATH=str(ROOT),
        PLEDGES_INSTANCE=str(tmp_path / "worker-instance"),
        DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY=config["SECRET_KEY"],
        BASE_URL=config["BASE_URL"],
        REDIS_URL=config["REDIS_URL"],
        JOBS_QUEUE_NAME=config["JOBS_QUEUE_NAME"],
        JOBS_RETRY_INTERVALS=",".join(str(s) for s in config["JOBS_RETRY_INTERVALS"]),
        JOBS_HEARTBEAT_SECONDS=str(config["JOBS_HEARTBEAT_SECONDS"]),
        JOBS_MAINTENANCE_SECONDS=str(config["JOBS_MAINTENANCE_SECONDS"]),
        MAIL_DISPATCH=config["MAIL_DISPATCH"],
        MAIL_OUTBOX_DIR=config["MAIL_OUTBOX_DIR"],
        LOG_LEVEL="WARNING",
    )
    return env


def worker_command(app: Flask, *options: str) -> list[str]:
    name = f"{app.config['JOBS_QUEUE_NAME']}-{secrets.token_hex(3)}"
    return [PLEDGES, "worker", "--name", name, *options]


def burst(app: Flask, tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """Run a worker until the queue is empty."""
    done = subprocess.run(  # noqa: S603
        worker_command(app, "--burst", *options),
        env=worker_env(app, tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def start_worker(app: Flask, tmp_path: Path, *options: str) -> subprocess.Popen:
    """A long-running worker, in a session of its own so that it can be killed whole; its
    log in the test's folder."""
    with (tmp_path / f"worker-{secrets.token_hex(3)}.log").open("w") as log:
        return subprocess.Popen(  # noqa: S603
            worker_command(app, *options),
            env=worker_env(app, tmp_path),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(30)


def wait_until(condition: Callable[[], object], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def recorded(app: Flask, marker: str) -> list[dict]:
    """The side effects of ``queue_jobs.record`` with ``marker``."""
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "test.job"))
        found = [entry.details for entry in entries if entry.details.get("marker") == marker]
        db.session.remove()
        return found


def queue_of(app: Flask) -> rq.Queue:
    with app.app_context():
        return jobs.queue()


def test_a_job_runs_in_a_worker_process_in_the_language_that_enqueued_it(app, tmp_path):
    with app.test_request_context(), force_locale("fr"):
        job = jobs.enqueue(queue_jobs.record, "bonjour")
    assert isinstance(job, Job)
    # Named by its function only: the arguments stay out of what RQ's tools show.
    assert job.description == "tests.queue_jobs.record"
    assert recorded(app, "bonjour") == []  # nothing ran in this process
    burst(app, tmp_path)
    assert recorded(app, "bonjour") == [{"marker": "bonjour", "locale": "fr"}]
    assert queue_of(app).finished_job_registry.get_job_ids() == [job.id]


def test_a_failing_job_is_retried_with_backoff_then_an_admin_retries_it(app, client, tmp_path):
    attempts = tmp_path / "attempts"
    with app.test_request_context():
        job = jobs.enqueue(queue_jobs.always_fail, str(attempts))
    queue = queue_of(app)
    worker = start_worker(app, tmp_path, "--with-scheduler")
    try:
        wait_until(lambda: queue.failed_job_registry.get_job_ids() == [job.id])
    finally:
        stop(worker)
    times = [float(line) for line in attempts.read_text().split()]
    assert len(times) == 3  # the first attempt and one per retry interval (1 s, 3 s)
    # The scheduler counts whole seconds (a pause may be up to one shorter than asked) and a
    # busy machine adds to it: the second retry waited for its longer interval.
    assert times[2] - times[1] >= 2

    with app.app_context():
        make_user("admin@example.org", role="admin")
    log_in(client, "admin@example.org")
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    assert "Always fail" in page.text and job.id in page.text
    assert "RuntimeError: 550 mailbox unavailable: a…@example.org" in page.text
    # Neither the address in the error nor the job's arguments are shown.
    assert "amina.secret" not in page.text and str(attempts) not in page.text
    figures = page.text[page.text.index('class="figures"') :]
    assert "<dt>Failed</dt><dd>1</dd>" in figures.replace("\n", "").replace(" ", "")

    retry = f"/admin/jobs/{job.id}/retry"
    assert client.post(retry).status_code == 400  # no CSRF token: nothing happens
    assert queue.failed_job_registry.get_job_ids() == [job.id]
    answer = client.post(retry, data={"csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert "The job is queued again." in answer.text
    assert queue.get_job_ids() == [job.id]
    assert queue.failed_job_registry.get_job_ids() == []
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "job.retry"))
    again = client.post(retry, data={"csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert "no longer among the failed ones" in again.text
    assert queue.get_job_ids() == [job.id]

    burst(app, tmp_path)  # the retried job runs (and fails) again
    assert len(attempts.read_text().split()) == 4


def process_is_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}  # dead, waiting for init to collect it


# Retried at once: a pause would wait for the scheduler, whose lock the killed worker holds
# for a minute more (RQ's own lease).
@pytest.mark.config(JOBS_RETRY_INTERVALS=(0, 0))
def test_a_job_whose_worker_is_killed_is_retried_by_another_and_done_once(app, tmp_path):
    hold = tmp_path / "hold"
    hold.touch()
    attempts = Path(f"{hold}.attempts")
    with app.test_request_context():
        job = jobs.enqueue(queue_jobs.hold_then_record, str(hold), "survivor")
    first = start_worker(app, tmp_path)
    try:
        wait_until(attempts.exists)
        horse = int(attempts.read_text().split()[0])
        os.killpg(first.pid, signal.SIGKILL)  # as a host or container dies
        first.wait(30)
        # The work horse (a process group of its own) dies with its worker, mid-job.
        wait_until(lambda: process_is_gone(horse), 10)
    finally:
        stop(first)
    hold.unlink()
    assert recorded(app, "survivor") == []

    second = start_worker(app, tmp_path)
    try:
        wait_until(lambda: recorded(app, "survivor"))
        time.sleep(3)  # long enough for a duplicate run to show
    finally:
        stop(second)
    assert recorded(app, "survivor") == [{"marker": "survivor", "locale": "en"}]
    assert len(attempts.read_text().split()) == 2  # killed once, then done
    queue = queue_of(app)
    assert queue.finished_job_registry.get_job_ids() == [job.id]
    assert queue.failed_job_registry.get_job_ids() == []
    assert queue.get_job_ids() == []


@pytest.mark.config(DOSSIER_SYNC_MAX_SIGNATURES=0)
def test_a_dossier_is_built_by_a_worker(app, client, tmp_path):
    with app.app_context():
        pledge = make_pledge(title="Allies for a just peace")
        for _ in range(3):
            confirmed_signature(pledge)
        run_by(pledge, make_user("owner@example.org"))
        url = f"/organize/{pledge.slug}/dossier"
    log_in(client, "owner@example.org")
    token = csrf_token(client.get(url).text)
    assert client.post(url, data={"audience": "funders", "csrf_token": token}).status_code == 302
    assert "being built" in client.get(url).text
    (job_id,) = queue_of(app).get_job_ids()
    with app.app_context():
        dossier = db.session.scalar(select(Dossier))
        assert dossier.status == DossierStatus.QUEUED  # waiting for a worker, not in a thread
        assert Job.fetch(job_id, connection=jobs.connection()).meta["task"] == (
            "pledges.dossier.service.build_dossier"
        )
    burst(app, tmp_path)
    with app.app_context():
        dossier = db.session.scalar(select(Dossier))
        assert dossier.status == DossierStatus.READY, dossier.error
    download = client.get(f"{url}/{dossier.id}.pdf")
    download.close()
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"


@pytest.mark.config(MAIL_DISPATCH="queue")
def test_mail_queued_by_commits_is_delivered_by_a_worker(app, tmp_path, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        confirmed_signature(pledge)  # two commits that queue mail: one delivery job
        confirmed_signature(pledge)
        (job_id,) = queue_of(app).get_job_ids()
        assert jobs.queue().fetch_job(job_id).meta["task"] == (
            "pledges.mail.dispatch.deliver_outbox"
        )
        assert read_outbox(outbox_dir) == []
        queued = db.session.scalars(select(OutboxEmail.status)).all()
        assert len(queued) >= 2 and set(queued) == {MailStatus.PENDING}
    burst(app, tmp_path)
    assert len(read_outbox(outbox_dir)) == len(queued)
    with app.app_context():
        assert set(db.session.scalars(select(OutboxEmail.status))) == {MailStatus.SENT}


def test_a_worker_with_the_scheduler_enqueues_the_scheduled_work_once_per_period(app, tmp_path):
    burst(app, tmp_path, "--with-scheduler")
    queue = queue_of(app)
    finished = [
        Job.fetch(i, connection=queue.connection) for i in queue.finished_job_registry.get_job_ids()
    ]
    assert sorted(job.meta["task"] for job in finished) == sorted(
        jobs.job_name(entry.func) for entry in SCHEDULE
    )
    assert queue.failed_job_registry.get_job_ids() == []
    # Another worker (or this one again) within the period enqueues none of them again.
    with app.app_context():
        assert jobs.enqueue_due(app, SCHEDULE) == []
    assert queue.count == 0
