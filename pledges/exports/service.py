"""A pledge's signatures as CSV, streamed in small batches so memory stays flat at any size.

Every cell goes through defusedcsv's writer, which puts a quote before text a spreadsheet
would run as a formula (=, +, -, @, |, %); cells starting with a tab or a carriage return
get the same quote here, as OWASP advises for CSV injection.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from defusedcsv import csv
from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import func, or_, select

from pledges.domain.countries import country_name
from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.infrastructure.database import utcnow
from pledges.models import (
    Action,
    Commitment,
    Pledge,
    Signature,
    SignatureCommitment,
    SignatureStatus,
)
from pledges.presentation.display import ROLE_LABELS

#: Rows fetched (and written out) per round trip: small enough to keep memory flat.
BATCH = 1000

Row = dict  # one signature's selected columns, by name
Extras = dict  # looked up once per batch (by signature id) or once per export


@dataclass(frozen=True)
class Column:
    key: str  # in the query string and the audit log: stays English
    heading: LazyString  # the CSV's header row, in the language of the export
    # The Signature columns this column reads (selected only when the column is chosen).
    reads: tuple[str, ...]
    value: Callable[[Row, dict[str, Extras]], object]
    private: bool = False  # the signer's address: for the pledge's own organizers only


_ = lazy_gettext


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else ""


COLUMNS: list[Column] = [
    Column("name", _("Name"), ("full_name",), lambda r, x: r["full_name"]),
    Column("email", _("Email"), ("email",), lambda r, x: r["email"] or "", private=True),
    Column("country", _("Country"), ("country",), lambda r, x: country_name(r["country"])),
    Column("country_code", _("Country code"), ("country",), lambda r, x: r["country"]),
    Column("role", _("Ally role"), ("role",), lambda r, x: x["roles"].get(r["role"], r["role"])),
    Column(
        "organization",
        _("Organization"),
        ("organization_name",),
        lambda r, x: r["organization_name"],
    ),
    Column("visibility", _("Shown on the wall as"), ("visibility",), lambda r, x: r["visibility"]),
    Column("status", _("Status"), ("status",), lambda r, x: r["status"]),
    Column("signed_at", _("Signed at (UTC)"), ("signed_at",), lambda r, x: _iso(r["signed_at"])),
    Column(
        "confirmed_at",
        _("Confirmed at (UTC)"),
        ("confirmed_at",),
        lambda r, x: _iso(r["confirmed_at"]),
    ),
    Column(
        "commitments",
        _("Commitments chosen (numbers)"),
        (),
        lambda r, x: x["commitments"].get(r["id"], ""),
    ),
    Column(
        "personal_note", _("Personal note"), ("personal_note",), lambda r, x: r["personal_note"]
    ),
    Column("actions", _("Actions logged"), (), lambda r, x: x["actions"].get(r["id"], 0)),
    Column(
        "verification_code",
        _("Verification code"),
        ("verification_code",),
        lambda r, x: r["verification_code"],
    ),
]
COLUMNS_BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_COLUMNS = ["name", "country", "role", "organization", "status", "confirmed_at"]
DEFAULT_STATUSES = [SignatureStatus.CONFIRMED.value]


def available_columns(with_emails: bool) -> list[Column]:
    """The columns this organizer may choose: the address only for the pledge's own."""
    return [c for c in COLUMNS if with_emails or not c.private]


def in_column_order(keys: Iterable[str]) -> list[str]:
    """The chosen column keys once each, in the order of the form (and of COLUMNS)."""
    chosen = set(keys)
    return [key for key in COLUMNS_BY_KEY if key in chosen]


def filename(pledge: Pledge, today: date | None = None) -> str:
    return f"{pledge.slug}-signatures-{(today or utcnow().date()).isoformat()}.csv"


def _where(pledge: Pledge, statuses: Iterable[str]) -> list:
    return [Signature.pledge_id == pledge.id, Signature.status.in_(list(statuses))]


def record_export(pledge: Pledge, columns: list[str], statuses: list[str]) -> int:
    """Audit the export about to be streamed; returns how many rows it will have."""
    count = db.session.scalar(
        select(func.count()).select_from(Signature).where(*_where(pledge, statuses))
    )
    audit.record(
        "export.csv",
        pledge=pledge,
        details={"columns": columns, "statuses": statuses, "rows": count},
    )
    return count or 0


def csv_chunks(pledge: Pledge, columns: list[str], statuses: list[str]) -> Iterator[bytes]:
    """The CSV file in pieces of one batch each: a UTF-8 BOM and the headings, then rows.

    The rows come from a server-side cursor (``yield_per``): PostgreSQL sends them in
    batches as they are read instead of the whole result at once, SQLite steps through
    them. Only the chosen columns are selected; commitments and action counts are looked
    up once per batch, not once per row.
    """
    chosen = [COLUMNS_BY_KEY[key] for key in columns]
    reads = sorted({name for column in chosen for name in column.reads})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(column.heading) for column in chosen])
    yield ("\ufeff" + _take(buffer)).encode("utf-8")

    stmt = (
        select(Signature.id, *(getattr(Signature, name) for name in reads))
        .where(*_where(pledge, statuses))
        .order_by(Signature.id)
        .execution_options(yield_per=BATCH)
    )
    result = db.session.execute(stmt)
    wanted = set(columns)
    # Labels are looked up in the request's language: once per export, not once per row.
    roles = {str(role): label for role, label in ROLE_LABELS.items()}
    try:
        for batch in result.mappings().partitions():
            ids = [row["id"] for row in batch]
            extras: dict[str, Extras] = {
                "roles": roles,
                "commitments": _commitments(ids) if "commitments" in wanted else {},
                "actions": _action_counts(ids) if "actions" in wanted else {},
            }
            for row in batch:
                writer.writerow([_guard(column.value(row, extras)) for column in chosen])
            yield _take(buffer).encode("utf-8")
    finally:
        # A client that goes away mid-download closes the generator: free the cursor now.
        result.close()


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _guard(value: object) -> object:
    """What defusedcsv leaves alone but a spreadsheet may still read as the start of a
    formula: a leading tab or carriage return."""
    if isinstance(value, str) and value[:1] in ("\t", "\r"):
        return "'" + value
    return value


def _commitments(ids: list[int]) -> Extras:
    """Per signature, the numbers of the commitments in force, as "1; 3"."""
    now = utcnow()
    rows = db.session.execute(
        select(SignatureCommitment.signature_id, Commitment.position)
        .join(Commitment, Commitment.id == SignatureCommitment.commitment_id)
        .where(
            SignatureCommitment.signature_id.in_(ids),
            or_(SignatureCommitment.ends_at.is_(None), SignatureCommitment.ends_at > now),
        )
        .order_by(SignatureCommitment.signature_id, Commitment.position)
    )
    numbers: dict[int, list[str]] = {}
    for signature_id, position in rows:
        numbers.setdefault(signature_id, []).append(str(position))
    return {signature_id: "; ".join(values) for signature_id, values in numbers.items()}


def _action_counts(ids: list[int]) -> Extras:
    return dict(
        db.session.execute(
            select(Action.signature_id, func.count())
            .where(Action.signature_id.in_(ids))
            .group_by(Action.signature_id)
        ).all()
    )
