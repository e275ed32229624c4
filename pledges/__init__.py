"""Joining Forces: pledges and commitments for gender-sensitive peacebuilding."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers, CLI."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("PLEDGES_INSTANCE") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    from pledges.config import load_config

    load_config(app, config)
    register_logging(app)
    register_headers(app)
    register_extensions(app)
    register_i18n(app)
    register_converters(app)
    register_blueprints(app)
    register_templating(app)
    register_error_handlers(app)
    register_cli(app)
    return app


def register_logging(app: Flask) -> None:
    # First, so that its request hooks wrap every other one (timing, request id).
    from pledges.infrastructure import logs

    logs.init_app(app)


def register_headers(app: Flask) -> None:
    from pledges.infrastructure import headers, http_cache

    # Registered first, so it runs last: after every other hook has read what it needed.
    http_cache.init_app(app)
    headers.init_app(app)


def register_extensions(app: Flask) -> None:
    from pledges.extensions import cache, compress, csrf, db, limiter, migrate
    from pledges.infrastructure import database, http_cache
    from pledges.infrastructure.database import render_migration_type
    from pledges.mail import dispatch
    from pledges.wall import cache as wall_cache

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    cache.init_app(app)
    wall_cache.init_app(app)
    compress.init_app(app)
    # Runs before the compressor (hooks run in reverse order of registration).
    app.after_request(http_cache.read_static_files_whole)
    # Flask-Limiter's one ``limiter`` keeps the settings of the first app it met (key prefix,
    # strategy, error swallowing, in-memory fallback); each app made in a process (tests,
    # the CLI beside a server) applies its own.
    limiter._key_prefix = ""
    limiter._strategy = None
    limiter._swallow_errors = None
    limiter._headers_enabled = None
    limiter._in_memory_fallback_enabled = False
    limiter._storage_dead = False
    limiter.init_app(app)
    dispatch.init_app(app)
    from pledges.accounts import setup as accounts_setup

    accounts_setup.init_app(app)


def register_i18n(app: Flask) -> None:
    from pledges.infrastructure import i18n

    i18n.init_app(app)


def register_converters(app: Flask) -> None:
    # Before the blueprints: a rule picks its converter when it is added.
    from pledges.infrastructure.converters import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter


def register_blueprints(app: Flask) -> None:
    from pledges.accounts.routes import bp as accounts_bp
    from pledges.actions.routes import bp as actions_bp
    from pledges.admin.routes import bp as admin_bp
    from pledges.api.routes import bp as api_bp
    from pledges.checkins.routes import bp as checkins_bp
    from pledges.dashboard.routes import bp as dashboard_bp
    from pledges.dossier.routes import bp as dossier_bp
    from pledges.exports.routes import bp as exports_bp
    from pledges.infrastructure.health import bp as health_bp
    from pledges.main.routes import bp as main_bp
    from pledges.maps.routes import bp as maps_bp
    from pledges.me.routes import bp as me_bp
    from pledges.moderation.routes import bp as moderation_bp
    from pledges.organize.routes import bp as organize_bp
    from pledges.orgs.routes import bp as orgs_bp
    from pledges.paper.routes import bp as paper_bp
    from pledges.partners.routes import bp as partners_bp
    from pledges.sessions.routes import bp as sessions_bp
    from pledges.signing.routes import bp as signing_bp
    from pledges.updates.routes import bp as updates_bp
    from pledges.verify.routes import bp as verify_bp
    from pledges.wall.routes import bp as wall_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(signing_bp)
    app.register_blueprint(me_bp)
    app.register_blueprint(actions_bp)
    app.register_blueprint(checkins_bp)
    app.register_blueprint(partners_bp)
    app.register_blueprint(wall_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(health_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(organize_bp)
    app.register_blueprint(dossier_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(paper_bp)
    app.register_blueprint(sessions_bp)
    app.register_blueprint(maps_bp)
    app.register_blueprint(updates_bp)


def register_templating(app: Flask) -> None:
    from pledges.presentation import templating

    templating.init_app(app)


def register_error_handlers(app: Flask) -> None:
    from pledges import errors

    errors.init_app(app)


def register_cli(app: Flask) -> None:
    from pledges import cli

    cli.init_app(app)
