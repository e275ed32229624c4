"""Organizers export signatures as CSV, and download a signer's signed pledge PDF."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import event, select, update

from pledges.actions.service import ActionInput, log_action
from pledges.exports import service
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import (
    Action,
    AuditEntry,
    IssuedDocument,
    Pledge,
    Signature,
    SignatureStatus,
)
from pledges.signing import service as signing
from tests.factories import confirmed_signature, make_pledge, make_user, run_by, signature_input
from tests.helpers import logged_in

EXPORT = "/organize/export-me/export"


def read_csv(response) -> list[list[str]]:
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf"), "spreadsheet apps need the UTF-8 BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def export_url(columns: list[str], statuses: list[str] | None = None, slug="export-me") -> str:
    query = "&".join(
        [f"columns={c}" for c in columns]
        + [f"statuses={s}" for s in statuses or ["confirmed"]]
        + ["download=Download+CSV"]
    )
    return f"/organize/{slug}/export?{query}"


@pytest.fixture
def pledge_with_signers(app):
    with app.app_context():
        pledge = make_pledge(slug="export-me")
        optional = pledge.commitments[2]
        first = confirmed_signature(
            pledge,
            name="Amina Odhiambo",
            email="amina@example.org",
            commitment_ids=(pledge.commitments[0].id, optional.id),
            personal_note="For my daughters.",
        )
        db.session.add(
            Action(
                pledge_id=pledge.id,
                signature_id=first.id,
                commitment_id=optional.id,
                kind="conversation",
                done_on=date(2026, 1, 2),
                description="Talked.",
            )
        )
        confirmed_signature(pledge, name='=HYPERLINK("https://evil.example","click")')
        confirmed_signature(pledge, name="+1")
        confirmed_signature(pledge, name="Zoë Ngũgĩ 王芳 Ñandú", country="UG")
        signing.sign(pledge, signature_input(pledge, name="Still Pending"))
        db.session.commit()
        run_by(pledge, make_user("organizer@example.org"))
        make_user("other@example.org")
        make_user("admin@example.org", role="admin")
        return pledge.id


@pytest.fixture
def sent(app) -> list:
    """The responses as the app returned them, before the test client reads them."""
    responses: list = []
    app.after_request(lambda response: responses.append(response) or response)
    return responses


def test_the_form_offers_columns_and_statuses(app, pledge_with_signers):
    client = logged_in(app, "organizer@example.org")
    page = client.get(EXPORT)
    assert page.status_code == 200
    form = page.text.partition('<form method="get"')[2].partition("</form>")[0]
    for key in ("name", "email", "commitments", "actions", "verification_code", "withdrawn"):
        assert f'value="{key}"' in form
    assert "csrf_token" not in form  # a GET form: it changes nothing


def test_the_csv_streams_exactly_the_chosen_columns(app, sent, pledge_with_signers):
    client = logged_in(app, "organizer@example.org")
    response = client.get(export_url(["name", "email", "country", "commitments", "actions"]))
    assert response.status_code == 200
    assert sent[-1].is_streamed  # a generator, written out as it is read
    assert response.mimetype == "text/csv"
    today = utcnow().date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="export-me-signatures-{today}.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert rows[0] == ["Name", "Email", "Country", "Commitments chosen (numbers)", "Actions logged"]
    assert rows[1] == ["Amina Odhiambo", "amina@example.org", "Kenya", "1; 3", "1"]
    assert len(rows) == 1 + 4  # the pending signer is not asked for
    assert all(len(row) == 5 for row in rows)


def test_cells_a_spreadsheet_would_run_are_defused(app, pledge_with_signers):
    with app.app_context():
        db.session.execute(
            update(Signature)
            .where(Signature.full_name == "Amina Odhiambo")
            .values(personal_note="\tsneaky", organization_name="@SUM(A1)")
        )
        db.session.commit()
    client = logged_in(app, "organizer@example.org")
    rows = read_csv(client.get(export_url(["name", "organization", "personal_note"])))
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("https://evil.example","click")' in names
    assert "'+1" in names
    assert rows[1][1:] == ["'@SUM(A1)", "'\tsneaky"]


def test_unicode_names_survive_the_round_trip(app, pledge_with_signers):
    client = logged_in(app, "organizer@example.org")
    rows = read_csv(client.get(export_url(["name", "country_code"])))
    assert ["Zoë Ngũgĩ 王芳 Ñandú", "UG"] in rows


def test_the_statuses_filter_the_rows(app, pledge_with_signers):
    client = logged_in(app, "organizer@example.org")
    only_pending = read_csv(client.get(export_url(["name", "status"], ["pending"])))
    assert only_pending[1:] == [["Still Pending", "pending"]]
    both = read_csv(client.get(export_url(["status"], ["pending", "confirmed"])))
    assert sorted(row[0] for row in both[1:]) == ["confirmed"] * 4 + ["pending"]


def test_an_admin_who_does_not_run_the_pledge_never_gets_emails(app, sent, pledge_with_signers):
    admin = logged_in(app, "admin@example.org")
    page = admin.get(EXPORT)
    assert page.status_code == 200 and 'value="email"' not in page.text
    crafted = admin.get(export_url(["name", "email"]))
    assert crafted.status_code == 422
    assert not sent[-1].is_streamed and b"amina@example.org" not in crafted.data
    assert "not a valid choice" in crafted.text
    rows = read_csv(admin.get(export_url(["name", "country"])))
    assert rows[0] == ["Name", "Country"]
    assert not any("@" in cell for row in rows for cell in row)


def test_each_export_is_audited_and_nothing_else_changes(app, pledge_with_signers):
    client = logged_in(app, "organizer@example.org")
    with app.app_context():
        before = db.session.scalar(select(db.func.count()).select_from(AuditEntry))
    client.get(export_url(["email", "name"], ["confirmed", "pending"])).close()
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert len(entries) == before + 1
        entry = entries[-1]
        assert entry.action == "export.csv" and entry.actor == "organizer@example.org"
        assert entry.pledge_id == pledge_with_signers
        # In the form's order, whatever the order in the address.
        assert entry.details == {
            "columns": ["name", "email"],
            "statuses": ["pending", "confirmed"],
            "rows": 5,
        }


def test_a_download_without_columns_shows_the_form_again(app, pledge_with_signers):
    client = logged_in(app, "organizer@example.org")
    response = client.get(f"{EXPORT}?statuses=confirmed&download=1")
    assert response.status_code == 422
    assert "Choose at least one column." in response.text


@pytest.mark.parametrize("path", [EXPORT, export_url(["name"])])
def test_only_the_pledges_organizers_and_admins_may_export(app, pledge_with_signers, path):
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert logged_in(app, "other@example.org").get(path).status_code == 404
    assert logged_in(app, "admin@example.org").get(path).status_code == 200


def test_rows_are_read_in_batches_from_a_server_side_cursor(
    app, pledge_with_signers, monkeypatch, backend
):
    monkeypatch.setattr(service, "BATCH", 2)
    client = logged_in(app, "organizer@example.org")
    seen = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if "FROM signatures" in statement and "ORDER BY signatures.id" in statement:
            seen.append((context.execution_options.get("yield_per"), type(cursor).__name__))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        response = client.get(export_url(["name"]))
        chunks = list(response.response)
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert len(chunks) == 1 + 2  # the headings, then 4 rows in two batches
    (yield_per, cursor) = seen[0]
    assert yield_per == 2
    if backend == "postgresql":
        assert cursor == "ServerCursor"  # psycopg sends rows as they are fetched


# The signed pledge PDF of one signer


def pdf_path(signature_id: int, slug: str = "export-me") -> str:
    return f"/organize/{slug}/signatures/{signature_id}/pledge.pdf"


def signature_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Signature.id).where(Signature.full_name == name))


def test_an_organizer_downloads_a_signers_signed_pledge(app, pledge_with_signers):
    amina = signature_id(app, "Amina Odhiambo")
    with app.app_context():
        signer = db.session.get(Signature, amina)
        for visibility, description in (
            ("public", "Spoke at the district peace forum."),
            ("private", "A hard talk with my brother about his violence."),
        ):
            log_action(
                signer,
                ActionInput(
                    commitment_id=signer.chosen_commitments[0].id,
                    kind="conversation",
                    done_on=utcnow().date(),
                    description=description,
                    people_reached=None,
                    evidence_url="https://example.org/private-notes"
                    if visibility == "private"
                    else "",
                    visibility=visibility,
                ),
            )
        db.session.commit()
    client = logged_in(app, "organizer@example.org")
    # Moderators find it next to the signature.
    queue = client.get("/organize/export-me/moderation?view=all").text
    assert f'href="{pdf_path(amina)}"' in queue
    response = client.get(pdf_path(amina))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    words = " ".join(text.split())
    assert "Amina Odhiambo" in words
    # Private actions are the signer's and their partners' only: left out of this copy.
    assert "Spoke at the district peace forum." in words
    assert "hard talk" not in words and "private-notes" not in words
    assert "Private actions are left out of this copy" in words
    with app.app_context():
        issued = db.session.scalar(select(IssuedDocument))
        assert issued.signature_id == amina
        code = db.session.get(Signature, amina).verification_code
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="export-me-signed-pledge-{code}.pdf"'
        )
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "signature.pdf"))
        assert (entry.target_type, entry.target_id) == ("signatures", amina)
        assert entry.actor == "organizer@example.org"


def test_the_signed_pledge_is_only_for_confirmed_signers_of_that_pledge(app, pledge_with_signers):
    pending = signature_id(app, "Still Pending")
    amina = signature_id(app, "Amina Odhiambo")
    with app.app_context():
        elsewhere = make_pledge(slug="elsewhere")
        outsider = confirmed_signature(elsewhere, name="Someone Elsewhere").id
        hidden = confirmed_signature(db.session.get(Pledge, pledge_with_signers), name="Hidden")
        hidden.status = SignatureStatus.HIDDEN
        db.session.commit()
        hidden_id = hidden.id
    organizer = logged_in(app, "organizer@example.org")
    # The moderation queue offers the document only where it would be issued.
    queue = organizer.get("/organize/export-me/moderation?view=all").text
    assert f'href="{pdf_path(amina)}"' in queue
    assert f'href="{pdf_path(hidden_id)}"' not in queue
    assert f'href="{pdf_path(pending)}"' not in queue
    assert organizer.get(pdf_path(pending)).status_code == 404
    assert organizer.get(pdf_path(hidden_id)).status_code == 404
    assert organizer.get(pdf_path(outsider)).status_code == 404
    assert organizer.get(pdf_path(outsider, slug="elsewhere")).status_code == 404
    assert organizer.get(pdf_path(amina) + "?variant=docx").status_code == 404
    anonymous = app.test_client().get(pdf_path(amina))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert logged_in(app, "other@example.org").get(pdf_path(amina)).status_code == 404
    assert logged_in(app, "admin@example.org").get(pdf_path(amina)).status_code == 200


def test_the_export_reads_and_writes_one_batch_at_a_time(app, backend, monkeypatch):
    """A million rows in flat memory: each chunk carries one batch of rows, read from a
    server-side cursor on PostgreSQL, and no row becomes an ORM object kept by the session."""
    monkeypatch.setattr(service, "BATCH", 2)
    with app.app_context():
        pledge = make_pledge(slug="export-batches")
        for n in range(5):
            confirmed_signature(pledge, name=f"Batch Signer {n}")
        db.session.commit()
        cursors: list = []
        engine = db.engine

        def spy(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().startswith("SELECT signatures.id"):
                cursors.append(cursor)

        event.listen(engine, "before_cursor_execute", spy)
        try:
            with app.test_request_context():
                kept = len(db.session.identity_map)  # the pledge
                chunks = service.csv_chunks(pledge, ["name"], ["confirmed"])
                header = next(chunks)
                assert header.decode("utf-8-sig").strip() == "Name"
                first = next(chunks)
                # The first batch is out before the rest is read, and nothing is kept.
                assert first.decode().splitlines() == ["Batch Signer 0", "Batch Signer 1"]
                assert len(db.session.identity_map) == kept
                rest = [chunk.decode().splitlines() for chunk in chunks]
                assert len(db.session.identity_map) == kept
        finally:
            event.remove(engine, "before_cursor_execute", spy)
        assert rest == [["Batch Signer 2", "Batch Signer 3"], ["Batch Signer 4"]]
        [cursor] = cursors
        if backend == "postgresql":
            assert cursor.name  # a named (server-side) cursor: rows come as they are read
