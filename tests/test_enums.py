"""Enums stay enums from the column to the template, and the database still checks them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import CheckConstraint, insert, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.schema import CreateTable

from pledges import create_app
from pledges.extensions import db
from pledges.infrastructure.database import render_migration_type, utcnow
from pledges.models import (
    Reminders,
    Report,
    ReportReason,
    ReportResolution,
    Signature,
    SignatureStatus,
    Visibility,
)
from tests.factories import confirmed_signature, make_pledge

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_values_read_back_from_the_database_are_enum_members(app):
    with app.app_context():
        pledge = make_pledge()
        signature_id = confirmed_signature(pledge).id
        db.session.add(
            Report(pledge_id=pledge.id, signature_id=signature_id, reason=ReportReason.SPAM)
        )
        db.session.commit()
        db.session.expunge_all()

        signature = db.session.get(Signature, signature_id)
        assert signature.status is SignatureStatus.CONFIRMED
        assert signature.visibility is Visibility.FULL
        assert signature.reminders is Reminders.ON
        # Column selects and raw rows mapped through the column type hand back members too.
        assert db.session.scalars(select(Signature.status)).all() == [SignatureStatus.CONFIRMED]
        assert type(db.session.scalars(select(Signature.status)).one()) is SignatureStatus
        report = db.session.scalars(select(Report)).one()
        assert report.reason is ReportReason.SPAM
        assert report.resolution is None
        # The stored value is the plain string, as before the type existed.
        stored = db.session.execute(
            text("SELECT status FROM signatures WHERE id = :id"), {"id": signature_id}
        ).scalar_one()
        assert type(stored) is str and stored == "confirmed"
        assert SignatureStatus(stored) is signature.status


def test_assigning_a_plain_value_stores_the_member_and_a_wrong_one_fails_at_once(app):
    with app.app_context():
        pledge = make_pledge()
        signature = confirmed_signature(pledge)
        signature.status = "held"
        assert signature.status is SignatureStatus.HELD
        with pytest.raises(ValueError, match="'helt' is not a valid SignatureStatus"):
            signature.status = "helt"
        assert signature.status is SignatureStatus.HELD
        db.session.rollback()


def test_a_wrong_value_in_a_bulk_statement_fails_in_python_before_the_database(app):
    with app.app_context():
        pledge = make_pledge()
        signature = confirmed_signature(pledge)
        statement = update(Signature).where(Signature.id == signature.id).values(status="approved")
        with pytest.raises(StatementError) as raised:
            db.session.execute(statement)
        # Not the database's CHECK (an IntegrityError from the driver): the type refused it.
        assert not isinstance(raised.value, IntegrityError)
        assert isinstance(raised.value.orig, ValueError)
        db.session.rollback()
        with pytest.raises(StatementError):
            db.session.scalars(select(Signature).where(Signature.status.in_(["approved"]))).all()
        db.session.rollback()


def test_the_database_still_checks_values_written_behind_the_type(app):
    with app.app_context():
        signature = confirmed_signature(make_pledge())
        with pytest.raises(IntegrityError):
            db.session.execute(
                text("UPDATE signatures SET status = 'approved' WHERE id = :id"),
                {"id": signature.id},
            )
        db.session.rollback()


def test_bulk_update_insert_and_in_filters_take_members_and_plain_values(app):
    with app.app_context():
        pledge = make_pledge()
        first, second = (confirmed_signature(pledge).id for _ in range(2))
        db.session.execute(
            update(Signature)
            .where(Signature.id == first)
            .values(status=SignatureStatus.HELD, visibility="anonymous")
        )
        db.session.execute(
            update(Signature)
            .where(Signature.status.in_([SignatureStatus.CONFIRMED]))
            .values(status="hidden")
        )
        db.session.execute(
            insert(Report),
            [
                {
                    "pledge_id": pledge.id,
                    "signature_id": second,
                    "reason": ReportReason.UNSAFE,
                    "created_at": utcnow(),
                    "resolution": "hidden",
                },
                {
                    "pledge_id": pledge.id,
                    "signature_id": second,
                    "reason": "spam",
                    "created_at": utcnow(),
                },
            ],
        )
        db.session.commit()
        db.session.expunge_all()

        by_status = dict(
            db.session.execute(
                select(Signature.id, Signature.status).where(
                    Signature.status.in_(["held", SignatureStatus.HIDDEN])
                )
            ).all()
        )
        assert by_status == {first: SignatureStatus.HELD, second: SignatureStatus.HIDDEN}
        assert db.session.get(Signature, first).visibility is Visibility.ANONYMOUS
        reports = db.session.execute(
            select(Report.reason, Report.resolution).order_by(Report.id)
        ).all()
        assert reports == [
            (ReportReason.UNSAFE, ReportResolution.HIDDEN),
            (ReportReason.SPAM, None),
        ]
        assert db.session.scalar(
            select(Report.id).where(Report.resolution == ReportResolution.HIDDEN)
        )


@pytest.mark.parametrize(
    "dialect", [sqlite.dialect(), postgresql.dialect()], ids=lambda dialect: dialect.name
)
def test_the_type_writes_the_checks_the_models_used_to_spell_out(dialect):
    signatures = str(CreateTable(Signature.__table__).compile(dialect=dialect))
    assert (
        "CONSTRAINT ck_signatures_status CHECK"
        " (status IN ('pending', 'held', 'confirmed', 'hidden', 'withdrawn'))"
    ) in signatures
    assert (
        "CONSTRAINT ck_signatures_visibility CHECK"
        " (visibility IN ('full', 'initial', 'organization', 'anonymous'))"
    ) in signatures
    reports = str(CreateTable(Report.__table__).compile(dialect=dialect))
    assert (
        "CONSTRAINT ck_reports_resolution CHECK"
        " (resolution IS NULL OR resolution IN ('dismissed', 'hidden'))"
    ) in reports
    # One check per enum column: the type's, not a second copy beside it.
    assert reports.count("CHECK (reason IN") == 1


def test_autogenerated_migrations_write_enum_columns_as_the_strings_they_store():
    column_type = Signature.__table__.c.visibility.type
    assert render_migration_type("type", column_type, None) == "sa.String(length=12)"


def test_the_migrated_database_has_every_check_the_models_declare(empty_database, tmp_path):
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
            inspector = inspect(conn)
            for table in db.metadata.sorted_tables:
                declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
                migrated = {c["name"] for c in inspector.get_check_constraints(table.name)}
                assert migrated == declared, table.name
        db.engine.dispose()


ENUM_FIELD_COMPARED_TO_LITERAL = re.compile(
    r"\.(status|visibility|review_state|reminders|role|resolution|reason|kind|variant|audience)"
    r"\s*(==|!=|(not )?in)\s*[\(\[]?\s*[\"']"
)


def test_templates_compare_enum_fields_with_members_not_string_literals():
    found = [
        f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}"
        for path in sorted(TEMPLATES.rglob("*.*"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ENUM_FIELD_COMPARED_TO_LITERAL.search(line)
    ]
    assert found == []
