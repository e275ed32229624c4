"""Background jobs: the one door long work goes through (pledges/infrastructure/jobs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import current_app
from flask_babel import force_locale, get_locale

from pledges.infrastructure import jobs


def write_locale_and_instance(target: str) -> None:
    """A job: record the language and app it ran with."""
    Path(target).write_text(f"{get_locale()} {current_app.instance_path}")


def test_a_job_runs_in_the_app_and_language_that_enqueued_it(app, tmp_path) -> None:
    target = tmp_path / "ran"
    with app.test_request_context(), force_locale("fr"):
        jobs.enqueue(write_locale_and_instance, str(target)).join(30)
    assert target.read_text() == f"fr {app.instance_path}"


def test_only_a_module_level_function_can_be_a_job(app) -> None:
    def nested() -> None:
        pass

    with app.app_context(), pytest.raises(ValueError, match="module-level"):
        jobs.enqueue(nested)


def test_without_redis_jobs_run_in_threads_and_mail_from_the_web_process(tmp_path) -> None:
    from pledges import create_app

    app = create_app(
        {"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"}
    )
    assert app.config["JOBS_BACKEND"] == "thread"
    assert app.config["MAIL_DISPATCH"] == "thread"


def test_with_redis_jobs_go_to_the_queue_and_mail_with_them(tmp_path) -> None:
    from pledges import create_app

    app = create_app(
        {
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert app.config["JOBS_BACKEND"] == "rq"
    assert app.config["MAIL_DISPATCH"] == "queue"
    assert app.config["JOBS_QUEUE_NAME"] == "pledges"
    assert app.config["JOBS_RETRY_INTERVALS"] == (10, 60, 300)


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"JOBS_BACKEND": "celery"}, "JOBS_BACKEND must be 'thread' or 'rq'"),
        ({"JOBS_BACKEND": "rq"}, "JOBS_BACKEND=rq needs REDIS_URL"),
        ({"MAIL_DISPATCH": "queue"}, "MAIL_DISPATCH=queue needs the job queue"),
        ({"JOBS_QUEUE_NAME": "my queue!"}, "JOBS_QUEUE_NAME"),
        ({"JOBS_HEARTBEAT_SECONDS": 0}, "JOBS_HEARTBEAT_SECONDS"),
    ],
)
def test_job_settings_that_cannot_work_are_refused(tmp_path, settings, said) -> None:
    from pledges import create_app
    from pledges.config import ConfigurationError

    base = {"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"}
    with pytest.raises(ConfigurationError, match=said.replace("(", r"\(")):
        create_app({**base, **settings})


@pytest.mark.parametrize(
    ("value", "parsed"), [("10,60,300", (10, 60, 300)), ("0", (0,)), ("", (10, 60, 300))]
)
def test_retry_intervals_come_from_the_environment(tmp_path, monkeypatch, value, parsed) -> None:
    from pledges import create_app

    monkeypatch.setenv("JOBS_RETRY_INTERVALS", value)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["JOBS_RETRY_INTERVALS"] == parsed


def test_retry_intervals_that_are_not_seconds_are_refused(tmp_path, monkeypatch) -> None:
    from pledges import create_app
    from pledges.config import ConfigurationError

    monkeypatch.setenv("JOBS_RETRY_INTERVALS", "10,soon")
    with pytest.raises(ConfigurationError, match="JOBS_RETRY_INTERVALS"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})


def test_the_worker_command_says_there_is_no_queue_without_redis(runner) -> None:
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 1
    assert "No job queue: set REDIS_URL" in result.output


def test_a_large_dossier_is_built_through_the_door_in_a_thread_without_redis(app_ctx) -> None:
    from pledges.dossier import service
    from pledges.extensions import db
    from pledges.models import Dossier, DossierStatus
    from tests.factories import confirmed_signature, make_pledge

    pledge = make_pledge()
    confirmed_signature(pledge)
    dossier = service.request_dossier(pledge, "officials")
    db.session.commit()
    with app_ctx.test_request_context(), force_locale("es"):
        handle = service.start_in_background(dossier)
    assert handle.name == "job-build_dossier"  # the door's thread, not one of the service's
    handle.join(120)
    db.session.expire_all()
    built = db.session.get(Dossier, dossier.id)
    assert built.status == DossierStatus.READY, built.error


def test_the_jobs_page_says_jobs_run_in_process_without_a_queue(app, client) -> None:
    from tests.factories import make_user
    from tests.helpers import log_in

    with app.app_context():
        make_user("admin@example.org", role="admin")
    log_in(client, "admin@example.org")
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    assert "Jobs run inside the web process" in page.text
    assert "Retry" not in page.text
    assert client.post("/admin/jobs/abc/retry").status_code == 400  # no CSRF token


# Nothing listens on port 1: every connection to it is refused at once.
@pytest.mark.config(
    JOBS_BACKEND="rq",
    REDIS_URL="redis://127.0.0.1:1/0",
    DOSSIER_SYNC_MAX_SIGNATURES=0,
    MAIL_DISPATCH="queue",
    # Only the queue is down: limits and the page cache keep to this process.
    RATELIMIT_STORAGE_URI="memory://",
    CACHE_TYPE="SimpleCache",
)
def test_when_the_queue_does_not_answer_nothing_fails_with_a_500(app, client) -> None:
    from pledges.extensions import db
    from pledges.models import Dossier, DossierStatus, MailStatus, OutboxEmail
    from tests.factories import confirmed_signature, make_pledge, make_user, run_by
    from tests.helpers import csrf_token, log_in

    with app.app_context():
        pledge = make_pledge()
        # The commit that queued mail stands; the mail waits for the scheduled round.
        confirmed_signature(pledge)
        assert {row.status for row in db.session.scalars(db.select(OutboxEmail))} == {
            MailStatus.PENDING
        }
        run_by(pledge, make_user("owner@example.org"))
        make_user("admin@example.org", role="admin")
        slug = pledge.slug
    log_in(client, "owner@example.org")
    url = f"/organize/{slug}/dossier"
    token = csrf_token(client.get(url).text)
    answer = client.post(url, data={"audience": "media", "csrf_token": token})
    assert answer.status_code == 302
    assert "the job queue is not answering" in client.get(url).text
    with app.app_context():
        dossier = db.session.scalar(db.select(Dossier))
        assert dossier.status == DossierStatus.FAILED
        assert dossier.error == "RuntimeError: the job queue did not answer"

    admin = app.test_client()
    log_in(admin, "admin@example.org")
    page = admin.get("/admin/jobs")
    assert page.status_code == 503
    assert "The job queue is not answering" in page.text
    token = csrf_token(admin.get("/account").text)
    retried = admin.post("/admin/jobs/abc/retry", data={"csrf_token": token})
    assert retried.status_code == 302
    assert "The job queue is not answering" in admin.get("/admin/jobs").text
