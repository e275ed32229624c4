"""The app as served in benchmarks: ``pledges.create_app()`` plus a bare ``/hello`` route.

Served by gunicorn as ``benchapp:create_app()`` (with ``bench/`` on the Python path), so the
hello baseline and the wall run under the same server, workers and middleware in one run.
Configuration comes from the environment (DATABASE_URL, SECRET_KEY, MAIL_DISPATCH, ...).
"""

from __future__ import annotations

from flask import Flask

import pledges


def create_app() -> Flask:
    app = pledges.create_app()

    @app.get("/hello")
    def hello() -> str:
        return "hello"

    return app
