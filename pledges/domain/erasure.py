"""Erasing a withdrawn signer: everything that names them, in the withdrawal's transaction.

Called by ``transitions.withdraw`` (the one door), so no way of withdrawing can forget a
part. What goes, besides the signature's own details:

- the signature's IP hash;
- reports about the signature (their free text) and reports on the pledge quoting them;
- the audit log's free text about them: the acts stay, their reasons (and any detail
  quoting them) become "[withdrawn]";
- every outbox message about them or to them or their partners, whatever it is linked to,
  and the file transport's copies of them (after the commit);
- the pledge's dossiers that may list them: marked superseded, their stored files deleted
  (the next build leaves the withdrawn signature out by itself);
- the kept scan of the paper sheet they signed on (their handwriting and signature), after
  the commit; its fingerprint stays.

After the commit, SQLite's WAL is checkpointed: with ``secure_delete`` on, the erased text
then lingers neither in the database file nor in the WAL.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.infrastructure.database import checkpoint, utcnow
from pledges.mail.outbox import erase_mail, forget_delivered_copies
from pledges.models import (
    PAPER_SCAN_FOLDER,
    Dossier,
    DossierFile,
    DossierStatus,
    Reminders,
    Report,
    SessionAttendance,
    SessionRsvp,
    Signature,
    Visibility,
)

#: What replaces erased free text.
WITHDRAWN = audit.WITHDRAWN
#: Set on the session by an erasure: (outbox ids, addresses) to forget after the commit.
ERASED_FLAG = "pledges.erased"
#: Set on the session by an erasure: names of kept paper-sheet scans to delete after the commit.
SCANS_FLAG = "pledges.erased_scans"
# Shorter texts (initials, "UN") would match far more than the person.
SHORTEST_QUOTE = 3


def erase_signer(signature: Signature) -> None:
    """Erase everything about the (withdrawing) signer; the caller commits."""
    addresses = {a for a in (signature.email, signature.email_normalized) if a} | {
        a for partner in signature.partners for a in (partner.email, partner.email_normalized)
    }
    quotes = _quotes(
        signature.full_name,
        signature.email,
        signature.email_normalized,
        # A known ally organization's name is public, and others' entries may name it.
        signature.organization_name if signature.organization_id is None else "",
        signature.personal_note,
        *(partner.name for partner in signature.partners),
        *(partner.email for partner in signature.partners),
    )
    report_ids = _erase_reports(signature, quotes)
    audit.erase_mentions(
        pledge_id=signature.pledge_id,
        about=[("signatures", [signature.id]), ("reports", report_ids)],
        quotes=quotes,
    )
    outbox_ids = erase_mail(signature.id, addresses)
    _supersede_dossiers(signature)
    _forget_kept_scan(signature)
    # Which dialogue sessions they said they would come to, or came to (their actions,
    # attendance included, are deleted by the withdrawal itself).
    db.session.execute(delete(SessionRsvp).where(SessionRsvp.signature_id == signature.id))
    db.session.execute(
        delete(SessionAttendance).where(SessionAttendance.signature_id == signature.id)
    )

    signature.full_name = ""
    signature.email = None
    signature.email_normalized = None
    signature.organization_name = ""
    signature.organization_id = None
    signature.personal_note = ""
    signature.visibility = Visibility.ANONYMOUS
    signature.reminders = Reminders.STOPPED
    signature.ip_hash = None
    if signature.hidden_reason:
        signature.hidden_reason = WITHDRAWN

    ids, known = db.session.info.setdefault(ERASED_FLAG, ([], set()))
    ids.extend(outbox_ids)
    known.update(addresses)


def _quotes(*texts: str | None) -> list[str]:
    return sorted(
        {t.strip() for t in texts if t and len(t.strip()) >= SHORTEST_QUOTE}, key=len, reverse=True
    )


def _erase_reports(signature: Signature, quotes: list[str]) -> list[int]:
    about = list(db.session.scalars(select(Report.id).where(Report.signature_id == signature.id)))
    db.session.execute(
        update(Report)
        .where(Report.signature_id == signature.id, Report.details != "")
        .values(details=WITHDRAWN)
        .execution_options(synchronize_session=False)
    )
    if quotes:
        db.session.execute(
            update(Report)
            .where(Report.pledge_id == signature.pledge_id, audit.quoting(Report.details, quotes))
            .values(details=WITHDRAWN)
            .execution_options(synchronize_session=False)
        )
    return about


def _supersede_dossiers(signature: Signature) -> None:
    """Dossiers issued since the signature was confirmed may list it (or quote its note):
    superseded, their files deleted. A build still running is superseded too, and keeps
    no file when it finishes (``pledges.dossier.service.issue``)."""
    if signature.confirmed_at is None:
        return
    ids = list(
        db.session.scalars(
            select(Dossier.id).where(
                Dossier.pledge_id == signature.pledge_id,
                Dossier.requested_at >= signature.confirmed_at,
                Dossier.status != DossierStatus.FAILED,
                Dossier.superseded_at.is_(None),
            )
        )
    )
    if not ids:
        return
    db.session.execute(
        update(Dossier)
        .where(Dossier.id.in_(ids))
        .values(superseded_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(DossierFile)
        .where(DossierFile.dossier_id.in_(ids))
        .execution_options(synchronize_session=False)
    )


def _forget_kept_scan(signature: Signature) -> None:
    sheet = signature.paper_sheet
    if sheet is None or not sheet.scan_file:
        return
    db.session.info.setdefault(SCANS_FLAG, []).append(sheet.scan_file)
    sheet.scan_file = None


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    scans = session.info.pop(SCANS_FLAG, None)
    if scans and has_app_context():
        for name in scans:
            (Path(current_app.instance_path) / PAPER_SCAN_FOLDER / name).unlink(missing_ok=True)
    erased = session.info.pop(ERASED_FLAG, None)
    if erased is None or not has_app_context():
        return
    ids, addresses = erased
    forget_delivered_copies(ids, addresses)
    checkpoint()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(ERASED_FLAG, None)
    session.info.pop(SCANS_FLAG, None)
