"""Configuration layers, and production refusing to start insecurely."""

from __future__ import annotations

import pytest

from pledges import create_app
from pledges.config import ConfigurationError, normalize_database_url

ENV = ("SECRET_KEY", "DATABASE_URL", "BASE_URL", "PLEDGES_ENV", "MAIL_TRANSPORT")


@pytest.fixture
def instance(tmp_path, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setenv("PLEDGES_INSTANCE", str(folder))
    return folder


def test_development_generates_and_keeps_a_secret_key(instance):
    first = create_app()
    key_file = instance / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(first.config["SECRET_KEY"]) == 64
    assert create_app().config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'pledges.db'}"
    assert first.config["MAIL_OUTBOX_DIR"] == str(instance / "outbox")


@pytest.mark.parametrize("key", [None, "", "dev", "change-me", "short-but-random-9f8e"])
def test_production_refuses_a_missing_default_or_short_secret(instance, monkeypatch, key):
    monkeypatch.setenv("PLEDGES_ENV", "production")
    if key is not None:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()
    assert not (instance / "secret_key").exists()


def test_production_starts_with_a_real_secret(instance, monkeypatch):
    monkeypatch.setenv("PLEDGES_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "0123456789abcdef" * 4)
    assert create_app().config["SECRET_KEY"] == "0123456789abcdef" * 4


def test_environment_overrides_instance_file_which_overrides_defaults(instance, monkeypatch):
    (instance / "config.py").write_text(
        "BASE_URL = 'https://from-instance.example'\nMAIL_FROM = 'Allies <a@b.example>'\n"
    )
    app = create_app()
    assert app.config["BASE_URL"] == "https://from-instance.example"
    monkeypatch.setenv("BASE_URL", "https://from-env.example")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/pledges")
    app = create_app()
    assert app.config["BASE_URL"] == "https://from-env.example"
    assert app.config["MAIL_FROM"] == "Allies <a@b.example>"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/pledges"
    assert create_app({"BASE_URL": "https://mapping.example"}).config["BASE_URL"] == (
        "https://mapping.example"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("MAIL_TRANSPORT", "pigeon"), ("PLEDGES_ENV", "staging"), ("SMTP_PORT", "twenty-five")],
)
def test_bad_settings_are_named(instance, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        create_app()


def test_database_url_spellings():
    assert normalize_database_url("postgresql://x/y") == "postgresql+psycopg://x/y"
    assert normalize_database_url("postgresql+psycopg://x/y") == "postgresql+psycopg://x/y"
    assert normalize_database_url("sqlite:///a.db") == "sqlite:///a.db"
