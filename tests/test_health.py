"""Operations: the health check, and gunicorn serving the app with our settings."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import urllib.request
from pathlib import Path

import pytest

from pledges import PROJECT_ROOT, create_app
from pledges.extensions import db
from tests.conftest import _base_config
from tests.helpers import GUNICORN, free_port, get_when_up, gunicorn_env


def test_healthy_after_a_real_query(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def unreachable(url: str, tmp_path: Path):
    app = create_app(_base_config(url, tmp_path))
    response = app.test_client().get("/healthz")
    with app.app_context():
        db.engine.dispose()
    return response


def test_postgres_server_down_is_503(tmp_path, capsys):
    port = free_port()
    response = unreachable(f"postgresql+psycopg://root:hunter2@127.0.0.1:{port}/x", tmp_path)
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}
    assert response.headers["Cache-Control"] == "no-store"
    # Neither the answer nor the log gives away where the database is or how to log in.
    logged = capsys.readouterr().err
    assert "database unreachable (OperationalError)" in logged
    for secret in (str(port), "hunter2"):
        assert secret not in response.text and secret not in logged


@pytest.mark.parametrize("where", ["a directory", "a missing folder"])
def test_unreadable_sqlite_file_is_503(tmp_path, where):
    path = tmp_path if where == "a directory" else tmp_path / "gone" / "pledges.db"
    response = unreachable(f"sqlite:///{path}", tmp_path)
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}
    assert response.headers["Cache-Control"] == "no-store"


# --- gunicorn -------------------------------------------------------------------------------


def gunicorn(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [GUNICORN, *args, "pledges:create_app()"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


def test_gunicorn_accepts_the_config(tmp_path):
    result = gunicorn("--check-config", env=gunicorn_env(tmp_path))
    assert result.returncode == 0, result.stderr


def printed_settings(env: dict[str, str]) -> dict[str, str]:
    printed = gunicorn("--print-config", env=env).stdout
    pairs = (line.split("=", 1) for line in printed.splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def test_gunicorn_settings_come_from_the_environment(tmp_path):
    settings = printed_settings(gunicorn_env(tmp_path, PORT="8123"))
    assert settings["bind"] == "['0.0.0.0:8123']"
    assert settings["workers"] == str(multiprocessing.cpu_count() * 2 + 1)
    assert settings["timeout"] == "30"
    assert settings["graceful_timeout"] == "30"
    assert settings["accesslog"] == "None"
    assert settings["forwarded_allow_ips"] == "[]"

    settings = printed_settings(
        gunicorn_env(
            tmp_path, BIND="127.0.0.1:9000", WEB_CONCURRENCY="3", FORWARDED_ALLOW_IPS="10.0.0.2"
        )
    )
    assert settings["bind"] == "['127.0.0.1:9000']"
    assert settings["workers"] == "3"
    assert settings["forwarded_allow_ips"] == "['10.0.0.2']"
    assert printed_settings(gunicorn_env(tmp_path))["bind"] == "['127.0.0.1:8000']"


def test_gunicorn_serves_with_headers_and_json_logs(tmp_path):
    app = create_app(_base_config(f"sqlite:///{tmp_path / 'pledges.db'}", tmp_path))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    port = free_port()
    env = gunicorn_env(
        tmp_path,
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        LOG_FORMAT="json",
        PROXY_FIX_X_PROTO="1",
    )
    server = subprocess.Popen(  # noqa: S603
        [GUNICORN, "pledges:create_app()"],
        cwd=PROJECT_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = get_when_up(f"http://127.0.0.1:{port}/healthz")
        assert json.loads(health.read()) == {"status": "ok", "database": "ok"}
        page = urllib.request.Request(
            f"http://127.0.0.1:{port}/",
            headers={"X-Forwarded-Proto": "https", "X-Request-ID": "from-the-proxy"},
        )
        with urllib.request.urlopen(page, timeout=10) as response:  # noqa: S310
            assert response.status == 200
            assert response.headers["X-Request-ID"] == "from-the-proxy"
            assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
            assert response.headers["X-Frame-Options"] == "DENY"
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert any(
        line["logger"] == "gunicorn.error" and "Listening at" in line["message"] for line in lines
    )
    requests = [line for line in lines if line["logger"] == "pledges.requests"]
    assert [(r["method"], r["path"], r["status"], r["request_id"]) for r in requests] == [
        ("GET", "/", 200, "from-the-proxy")
    ]  # the health check logs at DEBUG only
