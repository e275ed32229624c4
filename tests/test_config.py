"""Configuration layers, and production refusing to start insecurely; bad settings stop the
app at startup with one line naming them: never a page that fails later, nor a feature
silently off."""

from __future__ import annotations

import runpy

import pytest

from pledges import PROJECT_ROOT, create_app
from pledges.config import RATE_LIMITS, ConfigurationError, normalize_database_url

ENV = ("SECRET_KEY", "DATABASE_URL", "BASE_URL", "PLEDGES_ENV", "MAIL_TRANSPORT")


@pytest.fixture
def instance(tmp_path, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setenv("PLEDGES_INSTANCE", str(folder))
    return folder


# Every test here starts from a clean environment and an empty instance folder.
pytestmark = pytest.mark.usefixtures("instance")


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
    monkeypatch.setenv("BASE_URL", "https://pledges.example.org")
    if key is not None:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()
    assert not (instance / "secret_key").exists()


def test_production_starts_with_a_real_secret(instance, monkeypatch):
    monkeypatch.setenv("PLEDGES_ENV", "production")
    monkeypatch.setenv("BASE_URL", "https://pledges.example.org")
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


# --- bad settings are refused in one line ---------------------------------------------------


def refused(monkeypatch, **settings: str) -> str:
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as error:
        create_app()
    return str(error.value)


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("LANGUAGES", "en,xx", "'xx' is not a language code"),
        ("LANGUAGES", "en,de", "'de' has no catalog"),
        ("CONTENT_LANGUAGES", "en,xx", "'xx' is not a language code"),
        ("CONTENT_LANGUAGES", "en,zz!", "'zz!' is not a language code"),
    ],
)
def test_unknown_languages_are_refused(monkeypatch, name, value, said):
    message = refused(monkeypatch, **{name: value})
    assert message.startswith(f"{name}: ") and said in message


def test_language_codes_are_normalised(monkeypatch):
    monkeypatch.setenv("LANGUAGES", "EN,fr-FR,es")
    monkeypatch.setenv("CONTENT_LANGUAGES", "en,pt-BR,ur")
    app = create_app()
    assert app.config["SUPPORTED_LOCALES"] == ("en", "fr_FR", "es")  # French: the fr catalog
    assert app.config["CONTENT_LANGUAGES"] == ("en", "pt_BR", "ur")


def test_languages_in_a_settings_mapping_are_checked_too():
    with pytest.raises(ConfigurationError, match="'xx' is not a language code"):
        create_app({"SUPPORTED_LOCALES": ("en", "xx")})


@pytest.mark.parametrize("name", RATE_LIMITS)
@pytest.mark.parametrize("value", ["ten per minute", "lots", "10 per minute;sometimes"])
def test_rate_limits_that_do_not_parse_are_refused(monkeypatch, name, value):
    message = refused(monkeypatch, **{name: value})
    assert message.startswith(f"{name}={value!r} is not a rate limit")


def test_rate_limit_settings_are_all_checked():
    assert {"SIGN_LIMIT_PER_IP", "SIGN_LIMIT_PER_DOMAIN", "API_LIMIT_PER_IP"} <= set(RATE_LIMITS)
    assert {"LOGIN_LIMIT_PER_IP", "LOGIN_FAILURES_BEFORE_LOCKOUT"} <= set(RATE_LIMITS)
    assert "ACTION_LIMIT_PER_TOKEN" in RATE_LIMITS


def test_urls_that_do_not_parse_are_refused_with_an_example(monkeypatch):
    # Never echoed back: a URL may carry a password.
    message = refused(monkeypatch, REDIS_URL="s3cret-pw@localhost:6379")
    assert "redis://host:6379/0" in message and "s3cret-pw" not in message
    monkeypatch.delenv("REDIS_URL")
    message = refused(monkeypatch, DATABASE_URL="not a url with s3cret-pw")
    assert message.startswith("DATABASE_URL is not a database URL") and "postgresql://" in message
    assert "s3cret-pw" not in message


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("MAIL_MAX_ATTEMPTS", "0", "1 or more"),
        ("SMTP_PORT", "99999", "from 1 to 65535"),
        ("SMTP_PORT", "0", "from 1 to 65535"),
        ("SMTP_TIMEOUT", "0", "1 or more"),
        ("SESSION_IDLE_MINUTES", "-1", "1 or more"),
        ("SESSION_MAX_HOURS", "0", "1 or more"),
        ("PASSWORD_MIN_LENGTH", "-3", "8 or more"),
        ("PASSWORD_RESET_HOURS", "0", "1 or more"),
        ("DOSSIER_PART_SIZE", "0", "1 or more"),
        ("DOSSIER_PART_SIZE", "-5", "1 or more"),
        ("DOSSIER_MAX_BUILDS", "0", "1 or more"),
        ("DOSSIER_STALE_MINUTES", "0", "1 or more"),
        ("DOSSIER_SYNC_MAX_SIGNATURES", "-1", "0 or more"),
        ("WALL_CACHE_SECONDS", "-5", "0 or more"),
        ("IP_HASH_RETENTION_DAYS", "-1", "0 or more"),
        ("OUTBOX_RETENTION_DAYS", "-1", "0 or more"),
        ("ACTIONS_PER_CYCLE", "0", "1 or more"),
        ("PDF_MAX_ACTIONS", "0", "1 or more"),
    ],
)
def test_numbers_out_of_range_are_refused(monkeypatch, name, value, allowed):
    message = refused(monkeypatch, **{name: value})
    assert message == f"{name}={int(value)!r} is not valid: a whole number {allowed}."


@pytest.mark.parametrize("value", ["nope", "enabled", "2", "tru"])
def test_a_boolean_typo_is_refused(monkeypatch, value):
    message = refused(monkeypatch, RATELIMIT_ENABLED=value)
    assert message.startswith(f"RATELIMIT_ENABLED={value!r} is not valid")
    assert "true/false" in message


@pytest.mark.parametrize(
    ("value", "meant"),
    [("1", True), ("TRUE", True), ("yes", True), ("On", True), ("0", False), ("off", False)],
)
def test_the_usual_boolean_spellings_are_read(monkeypatch, value, meant):
    monkeypatch.setenv("RATELIMIT_ENABLED", value)
    assert create_app().config["RATELIMIT_ENABLED"] is meant


@pytest.mark.config(SUPPORTED_LOCALES=("en", "fr-FR"))
def test_a_normalised_language_serves_pages(app, client):
    page = client.get("/?lang=fr_FR")
    assert page.status_code == 200
    assert 'lang="fr-FR"' in page.text and "Aller au contenu" in page.text


# --- gunicorn.conf.py -----------------------------------------------------------------------


def gunicorn_settings() -> dict:
    return runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("WEB_CONCURRENCY", "abc", "1 or more"),
        ("WEB_CONCURRENCY", "0", "1 or more"),
        ("PORT", "http", "from 1 to 65535"),
        ("PORT", "99999", "from 1 to 65535"),
    ],
)
def test_gunicorn_refuses_bad_numbers_in_one_line(monkeypatch, name, value, allowed):
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        gunicorn_settings()
    assert str(exit_.value) == f"{name}={value!r} is not valid: a whole number {allowed}."


def test_gunicorn_reads_good_numbers(monkeypatch):
    monkeypatch.delenv("BIND", raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("PORT", "8080")
    settings = gunicorn_settings()
    assert settings["workers"] == 3 and settings["bind"] == "0.0.0.0:8080"


def test_every_environment_setting_is_in_the_readme_table():
    from pledges import PROJECT_ROOT
    from pledges.config import ENV_SETTINGS

    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [name for name in ENV_SETTINGS if f"`{name}`" not in readme]
    assert missing == []
