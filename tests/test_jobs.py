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
