"""Data at rest and erasure: a withdrawn signer leaves no trace in any table, in SQLite's
files, in the mail folder or in a backup; and no table or backup holds a working link."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from pledges.accounts.service import user_for_reset_token
from pledges.checkins.service import signature_for_unsubscribe_token
from pledges.domain.signers import signature_for_token
from pledges.dossier import service as dossier_service
from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.infrastructure.database import utcnow
from pledges.mail.delivery import deliver_due
from pledges.models import (
    AuditEntry,
    Dossier,
    DossierFile,
    MailStatus,
    OutboxEmail,
    Report,
    Signature,
    TokenPurpose,
)
from pledges.moderation import service as moderation
from pledges.partners.service import partner_for_token
from tests.factories import make_pledge, make_user, run_by
from tests.helpers import (
    PARTNER_LINK_RE,
    csrf_token,
    deliver_and_read,
    links_in,
    log_action,
    read_outbox,
    sign_via_form,
    signer_page,
    text_of,
)

NAME = "Zawadi Érasmus-Kimani"
EMAIL = "zawadi.kimani@example.org"
ORGANIZATION = "Lakeside Widows Collective"
NOTE = "I sign for my sister Wanjiru, whom we lost in 2008."
PARTNER_NAME = "Baraka Partnerperson"
PARTNER_EMAIL = "baraka.partner@example.org"

# Link tokens (token_urlsafe(32): 43 characters) and reset tokens (three dotted base64url
# parts), and anything else long enough to be one.
TOKENISH = re.compile(rb"[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]{4,}){0,2}")
# Signed ids (itsdangerous: a short payload, a dot, a long signature), as in the one-click
# unsubscribe link of a reminder.
SIGNED_ID = re.compile(rb"[A-Za-z0-9_\-]{1,20}\.[A-Za-z0-9_\-]{20,}")
LINK_PATH = re.compile(r"/(?:me/hide|me|confirm|partner|password/reset)/([\w.\-]+)")


# --- what is held -------------------------------------------------------------------------


def every_table() -> bytes:
    """Every column of every row of every table, as text (bytes as they are)."""
    parts: list[bytes] = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for value in row:
                parts.append(value if isinstance(value, bytes) else str(value).encode())
    db.session.commit()
    return b"\n".join(parts)


def database_files() -> bytes:
    """SQLite's database file and its WAL, byte for byte (nothing on PostgreSQL)."""
    if db.engine.dialect.name != "sqlite":
        return b""
    path = Path(db.engine.url.database)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def mail_folder(outbox_dir: Path) -> bytes:
    if not outbox_dir.exists():
        return b""
    return b"\n".join(p.read_bytes() for p in sorted(outbox_dir.iterdir()) if p.is_file())


def fresh_backup(runner, path: Path) -> bytes:
    """A new ``pledges backup``, as text where it is compressed (pg_dump's custom format)."""
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    if db.engine.dialect.name == "sqlite":
        return path.read_bytes()
    pg_restore = shutil.which("pg_restore")
    assert pg_restore, "pg_restore is needed to read a PostgreSQL backup"
    return subprocess.run(  # noqa: S603 - a fixed program on a file this test wrote
        [pg_restore, "--file=-", str(path)], check=True, capture_output=True
    ).stdout


def working_tokens(blob: bytes) -> set[str]:
    """Every token-like string in ``blob`` that opens something: a signer's page, a
    partner's page, a password reset."""
    working = set()
    for found in set(TOKENISH.findall(blob)):
        string = found.decode()
        for candidate in {string, *string.split(".")}:
            if len(candidate) >= 20 and (
                signature_for_token(candidate, *TokenPurpose) is not None
                or partner_for_token(candidate) is not None
                or user_for_reset_token(candidate) is not None
            ):
                working.add(candidate)
    for found in set(SIGNED_ID.findall(blob)):
        if signature_for_unsubscribe_token(found.decode()) is not None:
            working.add(found.decode())
    db.session.rollback()
    return working


def tokens_in_mail(outbox_dir: Path) -> set[str]:
    """The tokens of every link mailed so far."""
    return {
        token
        for message in read_outbox(outbox_dir)
        for token in LINK_PATH.findall(text_of(message))
    }


# --- the signer's story ---------------------------------------------------------------------


def invite_partner(client, outbox_dir: Path, me: str) -> str:
    token = csrf_token(client.get(me).text)
    client.post(
        f"{me}/partners",
        data={"pt-csrf_token": token, "pt-name": PARTNER_NAME, "pt-email": PARTNER_EMAIL},
    )
    invitation = [m for m in deliver_and_read(outbox_dir) if m["To"] == PARTNER_EMAIL][-1]
    link = PARTNER_LINK_RE.search(text_of(invitation)).group(1)
    page = client.get(link)
    client.post(f"{link}/accept", data={"acc-csrf_token": csrf_token(page.text)})
    return link


def request_password_reset(client, email: str) -> None:
    page = client.get("/password/forgot")
    client.post("/password/forgot", data={"csrf_token": csrf_token(page.text), "email": email})


def send_a_reminder(runner, signature_id: int) -> None:
    signature = db.session.get(Signature, signature_id)
    signature.confirmed_at = utcnow() - timedelta(days=40)
    signature.next_checkin_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = runner.invoke(args=["send-reminders"])
    assert "1 reminder queued" in result.output, result.output


def report_entry(client, pledge, signature_id: int, details: str) -> None:
    public_id = db.session.get(Signature, signature_id).public_id  # as the wall links it
    page = client.get(f"/p/{pledge.slug}/report/{public_id}")
    response = client.post(
        f"/p/{pledge.slug}/report/{public_id}",
        data={"csrf_token": csrf_token(page.text), "reason": "unsafe", "details": details},
    )
    assert response.status_code in (200, 302), response.text


def withdraw(client, me: str):
    token = csrf_token(client.get(me).text)
    return client.post(f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})


def test_withdrawal_leaves_nothing_of_the_signer_anywhere(
    client, runner, outbox_dir, tmp_path, app_ctx
):
    pledge = make_pledge()
    run_by(pledge, make_user("organizer@example.org"))
    me = signer_page(
        client,
        outbox_dir,
        pledge,
        name=NAME,
        email=EMAIL,
        organization=ORGANIZATION,
        visibility="organization",
        personal_note=NOTE,
    )
    signature = db.session.scalar(select(Signature).where(Signature.email == EMAIL))
    signature_id, pledge_slug = signature.id, pledge.slug
    assert signature.ip_hash
    log_action(client, me, pledge)
    invite_partner(client, outbox_dir, me)
    send_a_reminder(runner, signature_id)
    deliver_due()
    assert client.get(f"{me}/pledge.pdf").status_code == 200

    # Reports and moderation quoting them, by another signer's report too.
    report_entry(client, pledge, signature_id, f"{NAME} of {ORGANIZATION} is not who she says")
    signature = db.session.get(Signature, signature_id)
    moderation.hide(signature, f"Reported: {NAME} ({EMAIL}) to be checked")
    moderation.unhide(signature, f"{NAME} checked with {ORGANIZATION}: fine")
    moderation.resolve_reports(signature, "dismissed", f"The report about {NAME} was wrong")
    audit.record("pledge.note", pledge=pledge, details={"said": [f"{NAME.upper()} called"]})
    db.session.commit()

    dossier = dossier_service.request_dossier(pledge, "officials")
    db.session.commit()
    dossier_service.issue(dossier)
    code = dossier.verification_code
    assert db.session.get(DossierFile, dossier.id) is not None

    # Mail still waiting: the sign form again with the same address, which re-sends links.
    sign_via_form(client, pledge, name=NAME, email=EMAIL)
    assert db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.status == MailStatus.PENDING)
    ).to_address == (EMAIL)
    links = tokens_in_mail(outbox_dir)
    assert len(links) >= 4  # confirm, page, reminder, partner
    secrets = [NAME, EMAIL, ORGANIZATION, NOTE, *links]
    before = every_table()
    assert NAME.encode() in before and NOTE.encode() in before  # the dump sees them

    response = withdraw(client, me)
    assert response.status_code == 302
    deliver_due()  # the partner's notice goes, and keeps nothing once sent

    held = {
        "tables": every_table(),
        "database files": database_files(),
        "mail folder": mail_folder(outbox_dir),
        "backup": fresh_backup(runner, tmp_path / "after.backup"),
    }
    for where, blob in held.items():
        for secret in secrets:
            assert secret.encode() not in blob, f"{secret!r} is still in the {where}"
            assert secret.lower().encode() not in blob.lower(), f"{secret!r} in the {where}"
        assert not working_tokens(blob), f"a working token is in the {where}"
    for where in ("tables", "backup"):  # the partner's details went with the partnership
        for secret in (PARTNER_NAME, PARTNER_EMAIL):
            assert secret.encode() not in held[where], f"{secret!r} is still in the {where}"

    # The acts stay on record, their free text does not.
    reasons = db.session.scalars(select(AuditEntry.reason).where(AuditEntry.reason != "")).all()
    assert reasons and set(reasons) == {"[withdrawn]"}
    assert db.session.scalars(select(Report.details)).all() == ["[withdrawn]"]
    noted = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pledge.note"))
    assert noted.details == {"said": ["[withdrawn]"]}
    assert db.session.get(Signature, signature_id).ip_hash is None

    # The dossier that listed them says it is superseded, and its file is gone.
    assert db.session.get(DossierFile, dossier.id) is None
    assert db.session.get(Dossier, dossier.id).superseded_at is not None
    page = client.get(f"/verify/dossier/{code}")
    assert page.status_code == 200 and "Superseded on" in page.text

    # What the download says is held is what is held.
    data = client.get(f"{me}/data.json").get_json()
    assert data["signature"]["full_name"] == "" and data["signature"]["email"] is None
    assert data["emails"] == [] and data["actions"] == []
    assert data["accountability_partners"] == []
    assert pledge_slug in data["pledge"]["url"]


def test_no_table_or_backup_holds_a_working_link_after_a_full_journey(
    client, runner, outbox_dir, tmp_path, app_ctx
):
    pledge = make_pledge()
    make_user("organizer@example.org")
    me = signer_page(client, outbox_dir, pledge, name=NAME, email=EMAIL)
    signature_id = db.session.scalar(select(Signature.id).where(Signature.email == EMAIL))
    invite_partner(client, outbox_dir, me)
    send_a_reminder(runner, signature_id)
    deliver_due()
    # Left waiting in the outbox: a reset link and another signer's confirmation link.
    request_password_reset(client, "organizer@example.org")
    sign_via_form(client, pledge, name="Second Signer", email="second@example.org")
    pending = db.session.scalars(
        select(OutboxEmail.template).where(OutboxEmail.status == MailStatus.PENDING)
    ).all()
    assert sorted(pending) == ["confirm", "password_reset"]
    mailed = tokens_in_mail(outbox_dir)
    assert mailed and all(
        signature_for_token(t, *TokenPurpose) or partner_for_token(t) for t in mailed
    )

    for where, blob in {
        "tables": every_table(),
        "database files": database_files(),
        "backup": fresh_backup(runner, tmp_path / "journey.backup"),
    }.items():
        assert not working_tokens(blob), f"a working token is in the {where}"

    # The waiting messages still go out, with their working links.
    delivered = deliver_and_read(outbox_dir)
    reset = next(m for m in delivered if "/password/reset/" in text_of(m))
    token = LINK_PATH.search(text_of(reset)).group(1)
    assert user_for_reset_token(token) is not None
    second = next(m for m in delivered if m["To"] == "second@example.org")
    assert client.get(links_in(second)["confirm"]).status_code == 200


def test_a_waiting_reminders_unsubscribe_link_is_sealed_and_dropped_once_sent(
    client, runner, outbox_dir, tmp_path, app_ctx
):
    pledge = make_pledge()
    signer_page(client, outbox_dir, pledge, name=NAME, email=EMAIL)
    signature_id = db.session.scalar(select(Signature.id).where(Signature.email == EMAIL))
    send_a_reminder(runner, signature_id)
    reminder = db.session.scalar(select(OutboxEmail).where(OutboxEmail.template == "checkin"))
    assert reminder.status == MailStatus.PENDING and reminder.list_unsubscribe
    for where, blob in {
        "tables": every_table(),
        "backup": fresh_backup(runner, tmp_path / "waiting.backup"),
    }.items():
        assert not working_tokens(blob), f"a working token is in the {where}"

    (message,) = [m for m in deliver_and_read(outbox_dir) if "List-Unsubscribe" in m]
    link = message["List-Unsubscribe"].strip("<>")
    assert signature_for_unsubscribe_token(link.rsplit("/", 1)[1]).id == signature_id
    db.session.expire_all()
    assert db.session.get(OutboxEmail, reminder.id).list_unsubscribe is None


class BrokenTransport:
    def send(self, message, name: str) -> None:
        raise ConnectionRefusedError("mail server down")


@pytest.mark.config(MAIL_MAX_ATTEMPTS=1)
def test_a_body_is_kept_encrypted_until_sent_and_a_dead_letter_can_be_retried(
    client, outbox_dir, app_ctx
):
    pledge = make_pledge()
    sign_via_form(client, pledge, name=NAME, email=EMAIL)
    row = db.session.scalar(select(OutboxEmail))
    assert row.template == "confirm"
    assert "/confirm/" not in row.body_text + row.body_html and NAME not in row.body_text

    assert deliver_due(BrokenTransport()).dead == 1
    db.session.refresh(row)
    assert row.status == MailStatus.DEAD and row.body_text and row.to_address == EMAIL

    assert moderation_free_retry() == 1
    [message] = deliver_and_read(outbox_dir)
    assert NAME in text_of(message) and links_in(message)["confirm"]
    db.session.refresh(row)
    assert (row.status, row.to_address, row.subject, row.body_text, row.body_html) == (
        MailStatus.SENT,
        "z…@example.org",
        "",
        "",
        None,
    )


def moderation_free_retry() -> int:
    from pledges.mail.delivery import retry_dead

    retried = retry_dead()
    db.session.commit()
    return retried


def test_rotating_outbox_keys_keeps_queued_mail_readable(app, client, outbox_dir):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["OUTBOX_KEYS"] = (old,)
    with app.app_context():
        pledge = make_pledge()
        sign_via_form(client, pledge, name=NAME, email=EMAIL)
        app.config["OUTBOX_KEYS"] = (new, old)  # the new key first: it encrypts from now on
        [message] = deliver_and_read(outbox_dir)
        assert NAME in text_of(message)


def test_outbox_keys_that_are_not_fernet_keys_are_refused(app_config):
    from pledges import create_app
    from pledges.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="OUTBOX_KEYS"):
        create_app({**app_config, "OUTBOX_KEYS": "not-a-key"})


def test_withdrawing_from_one_pledge_keeps_the_mail_of_another_they_signed(
    client, outbox_dir, app_ctx
):
    first, second = make_pledge(), make_pledge()
    me = signer_page(client, outbox_dir, first, name=NAME, email=EMAIL)
    sign_via_form(client, second, name=NAME, email=EMAIL)  # its confirmation still waits
    other = db.session.scalar(
        select(Signature).where(Signature.pledge_id == second.id, Signature.email == EMAIL)
    )
    [waiting] = db.session.scalars(select(OutboxEmail).where(OutboxEmail.signature_id == other.id))
    waiting_id = waiting.id
    deliver_due()
    copies_before = {p.name for p in outbox_dir.glob("*.eml")}

    assert withdraw(client, me).status_code == 302

    assert db.session.get(OutboxEmail, waiting_id) is not None
    left = {p.name for p in outbox_dir.glob("*.eml")}
    assert left == {f"{waiting_id:010d}.eml"} and left < copies_before
    assert db.session.get(Signature, other.id).email == EMAIL


def test_upgrading_drops_what_was_sent_and_keeps_mail_still_waiting(empty_database, tmp_path):
    """Rows from before the bodies were encrypted: a sent one loses its links on upgrade, a
    waiting one is still delivered as it was written."""
    from flask_migrate import upgrade

    from pledges import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "x" * 40,
            "MAIL_DISPATCH": "worker",
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    with app.app_context():
        upgrade(revision="be3ba8c72be8")
        with db.engine.begin() as conn:
            for status, address in (("sent", "sent@example.org"), ("pending", "wait@example.org")):
                conn.execute(
                    text(
                        "INSERT INTO outbox_emails (to_address, subject, body_text, body_html,"
                        " status, attempts, created_at, next_attempt_at) VALUES (:to, 'Your link',"
                        " :body, '<p>link</p>', :status, 0, :at, :at)"
                    ),
                    {
                        "to": address,
                        "body": f"Open /me/old-token-{status}",
                        "status": status,
                        "at": datetime(2026, 1, 1),
                    },
                )
        upgrade()
        rows = {row.status: row for row in db.session.scalars(select(OutboxEmail))}
        sent = rows[MailStatus.SENT]
        assert rows[MailStatus.PENDING].body_text == "Open /me/old-token-pending"
        assert (sent.to_address, sent.subject, sent.body_text, sent.body_html) == (
            "s…@example.org",
            "",
            "",
            None,
        )
        assert deliver_due().sent == 1
        [message] = read_outbox(tmp_path / "outbox")
        assert "/me/old-token-pending" in text_of(message)
        db.session.remove()
        db.engine.dispose()
