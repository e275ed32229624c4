"""From an empty database to a serving site, the way an operator deploys: migrate with the
CLI, seed, start gunicorn with our config, and serve — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

from pledges import PROJECT_ROOT
from tests.helpers import GUNICORN, free_port, get_when_up, gunicorn_env

PLEDGES = str(Path(sys.executable).with_name("pledges"))


def test_a_empty_database_is_migrated_seeded_and_served(empty_database, tmp_path):
    port = free_port()
    env = gunicorn_env(
        tmp_path,
        PLEDGES_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        BIND=f"127.0.0.1:{port}",
        BASE_URL=f"http://127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
    )
    env["DATABASE_URL"] = empty_database
    for command in (["db", "upgrade"], ["seed-demo", "--signatures", "25"]):
        done = subprocess.run(  # noqa: S603
            [PLEDGES, *command],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    server = subprocess.Popen(  # noqa: S603
        [GUNICORN, "pledges:create_app()"], cwd=PROJECT_ROOT, env=env, stderr=subprocess.DEVNULL
    )
    try:
        health = get_when_up(f"http://127.0.0.1:{port}/healthz")
        assert json.loads(health.read()) == {"status": "ok", "database": "ok"}
        for path, expected in (
            ("/", b"Joining Forces: men and women as allies for peace"),
            ("/p/joining-forces", b"Sign the pledge"),
            ("/p/joining-forces/wall", b"<strong>25</strong> of 100,000"),
            ("/api/v1/pledges/joining-forces", b'"total":25'),
        ):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:  # noqa: S310
                assert r.status == 200
                assert expected in r.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
