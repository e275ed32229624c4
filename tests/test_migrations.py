"""Every schema change is a migration: an empty database migrated equals the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from pledges import create_app
from pledges.extensions import db


def test_migrations_build_exactly_the_models_and_tear_down(empty_database, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "x" * 40,
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            assert compare_metadata(context, db.metadata) == []
            tables = set(inspect(conn).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables

        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


# Rows as they stood before organizer accounts: one pledge, a commitment, a signer who
# chose it and logged an action. Raw SQL, since the models have moved on.
BEFORE_ORGANIZERS = "3b6e77049fb7"
OLD_ROWS = [
    "INSERT INTO pledges (id, slug, title, preamble, guidelines, status, checkin_cadence_days,"
    " created_at, wall_version) VALUES (1, 'p', 'Allies', 'Together', '', 'open', 30,"
    " '2026-01-01 00:00:00', 0)",
    "INSERT INTO commitments (id, pledge_id, position, text, required)"
    " VALUES (1, 1, 1, 'I will listen first.', true)",
    "INSERT INTO signatures (id, pledge_id, full_name, email, email_normalized, country, role,"
    " organization_name, visibility, personal_note, status, verification_code, signed_at,"
    " confirmed_at, reminders, last_reminded_cycle) VALUES (1, 1, 'Amina', 'a@example.org',"
    " 'a@example.org', 'KE', 'woman', '', 'full', '', 'confirmed', 'CODE1234',"
    " '2026-01-02 00:00:00', '2026-01-02 01:00:00', 'on', 0)",
    "INSERT INTO signature_commitments (signature_id, commitment_id) VALUES (1, 1)",
    "INSERT INTO actions (id, pledge_id, signature_id, commitment_id, kind, done_on,"
    " description, visibility, created_at, updated_at, review_state) VALUES (1, 1, 1, 1,"
    " 'conversation', '2026-01-03', 'Talked', 'public', '2026-01-03 00:00:00',"
    " '2026-01-03 00:00:00', 'unreviewed')",
]


def test_migrating_a_populated_database_keeps_every_row(empty_database, tmp_path):
    """SQLite alters tables by copying them: dropping a parent's old copy must not cascade."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "x" * 40,
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    with app.app_context():
        upgrade(revision=BEFORE_ORGANIZERS)
        with db.engine.begin() as conn:
            for statement in OLD_ROWS:
                conn.exec_driver_sql(statement)
        upgrade()
        with db.engine.connect() as conn:
            count = lambda table: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()  # noqa: E731,S608
            assert [count(t) for t in ("pledges", "commitments", "signatures", "actions")] == [
                1,
                1,
                1,
                1,
            ]
            # The wording signed is on record as version 1, and the signer points at it.
            assert conn.exec_driver_sql(
                "SELECT v.text FROM signature_commitments sc JOIN commitment_versions v"
                " ON v.commitment_id = sc.commitment_id AND v.version = sc.version"
            ).all() == [("I will listen first.",)]
            # Signatures from before moderation do not flood the review queue.
            assert count("signatures WHERE reviewed_at IS NULL") == 0
            # Signer safety: a random public id, the role kept for a full-name signer, and
            # shown from the day of confirmation.
            public_id, show_role, publication, since = conn.exec_driver_sql(
                "SELECT public_id, show_role, publication, public_since FROM signatures"
            ).one()
            assert len(public_id) == 16 and public_id != "1"
            assert show_role and publication == "now"
            assert str(since).startswith("2026-01-02 00:00:00")
        downgrade(revision=BEFORE_ORGANIZERS)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM actions").scalar() == 1
        db.engine.dispose()
