"""Issuing dossiers: the record first (its code goes into the file), then the build, then
the file's SHA-256, so that anyone holding a copy can check it at /verify/dossier/<code>.

A build started from the web goes through the job door (pledges/infrastructure/jobs.py) when
the pledge is large: a thread of the web process without Redis, a ``pledges worker`` with
the queue, which retries a build that failed or whose worker was killed. Its status, its
progress and the finished file are all in the database, so any host behind the load
balancer can show and serve them (a 100,000-signer dossier is under 2 MB). A build that
stops moving (its thread's process died) is shown as failed after DOSSIER_STALE_MINUTES and
may be started again.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select, update

from pledges.domain.rules import RuleError
from pledges.domain.tallies import tally_for
from pledges.dossier import build as builder
from pledges.dossier.content import ProgressCallback
from pledges.extensions import db
from pledges.infrastructure import audit, jobs
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.security import new_verification_code, sha256_hex
from pledges.models import Dossier, DossierFile, DossierStatus, Pledge, User

if TYPE_CHECKING:
    from rq.job import Job

log = logging.getLogger(__name__)

IN_PROGRESS = (DossierStatus.QUEUED, DossierStatus.BUILDING)


class DossierError(RuleError):
    """No dossier can be started now."""


def default_part_size() -> int:
    return int(current_app.config["DOSSIER_PART_SIZE"] or builder.DEFAULT_PART_SIZE)


def content_of(dossier: Dossier) -> bytes | None:
    stored = db.session.get(DossierFile, dossier.id)
    return stored.content if stored is not None else None


def is_stale(dossier: Dossier) -> bool:
    minutes = current_app.config["DOSSIER_STALE_MINUTES"]
    return dossier.status in IN_PROGRESS and dossier.updated_at < utcnow() - timedelta(
        minutes=minutes
    )


def builds_running() -> int:
    """Dossiers building on any host now: queued or building, and not stale."""
    since = utcnow() - timedelta(minutes=current_app.config["DOSSIER_STALE_MINUTES"])
    return db.session.scalar(
        select(func.count())
        .select_from(Dossier)
        .where(Dossier.status.in_(IN_PROGRESS), Dossier.updated_at >= since)
    )


def recent_dossiers(pledge: Pledge, limit: int = 10) -> list[Dossier]:
    return list(
        db.session.scalars(
            select(Dossier)
            .where(Dossier.pledge_id == pledge.id)
            .order_by(Dossier.requested_at.desc(), Dossier.id.desc())
            .limit(limit)
        )
    )


def latest_downloadable(pledge: Pledge, audience: str) -> Dossier | None:
    """The newest finished dossier for ``audience`` whose file any host can serve."""
    return db.session.scalar(
        select(Dossier)
        .join(DossierFile, DossierFile.dossier_id == Dossier.id)
        .where(
            Dossier.pledge_id == pledge.id,
            Dossier.audience == audience,
            Dossier.status == DossierStatus.READY,
        )
        .order_by(Dossier.requested_at.desc(), Dossier.id.desc())
        .limit(1)
    )


def request_dossier(
    pledge: Pledge,
    audience: str,
    user: User | None = None,
    *,
    limit_builds: bool = False,
    covering_letter: str = "",
) -> Dossier:
    """Record a dossier about to be built, who asked, and their covering letter to the
    recipients (printed after the cover); the caller commits before building.

    ``limit_builds`` (the web) refuses while ``DOSSIER_MAX_BUILDS`` are building already.
    """
    if not pledge.is_public:
        # Its QR code leads to a public page, which a draft does not have.
        raise DossierError(gettext("Open the pledge first: a dossier is for a public pledge."))
    if limit_builds and builds_running() >= current_app.config["DOSSIER_MAX_BUILDS"]:
        raise DossierError(
            gettext("Other dossiers are being built right now: try again in a few minutes.")
        )
    for dossier in recent_dossiers(pledge):
        if dossier.status in IN_PROGRESS:
            if not is_stale(dossier):
                raise DossierError(
                    gettext(
                        "A dossier of this pledge is being built already: wait for it to finish."
                    )
                )
            dossier.status = DossierStatus.FAILED
            dossier.error = "The build stopped: the process building it ended."
    dossier = Dossier(
        pledge_id=pledge.id,
        audience=audience,
        status=DossierStatus.QUEUED,
        verification_code=new_verification_code(),
        requested_by_id=user.id if user is not None else None,
        covering_letter=covering_letter,
    )
    db.session.add(dossier)
    db.session.flush()
    audit.record(
        "dossier.export",
        pledge=pledge,
        target=dossier,
        details={"audience": audience, "code": dossier.verification_code},
        actor=user,
    )
    return dossier


def _save_progress(dossier_id: int, done: int, total: int) -> None:
    # Its own short transaction: the build's session is reading the signers meanwhile.
    with db.engine.begin() as connection:
        connection.execute(
            update(Dossier)
            .where(Dossier.id == dossier_id)
            .values(steps_done=done, steps_total=total, updated_at=utcnow())
        )


def issue(
    dossier: Dossier,
    target: Path | None = None,
    progress: ProgressCallback = lambda done, total: None,
    part_size: int | None = None,
) -> Dossier:
    """Build the (committed) ``dossier`` and record its hash: into the file ``target``
    (atomically), or, without one, into the database for any host to serve.

    Commits: the status moves on while the build runs, readable from any host.
    """
    keep_in_database = target is None
    if keep_in_database:
        target = Path(tempfile.gettempdir()) / f"pledges-dossier-{dossier.id}.pdf"
    dossier_id = dossier.id
    dossier.status = DossierStatus.BUILDING
    dossier.updated_at = utcnow()
    db.session.commit()

    def report(done: int, total: int) -> None:
        _save_progress(dossier_id, done, total)
        progress(done, total)

    # Whatever fails from here on (no disk space for the temporary file, the database
    # refusing the finished file...) marks the build failed: never left "building".
    temporary: Path | None = None
    written = False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(handle)
        temporary = Path(name)
        built = builder.build(
            dossier.pledge,
            dossier.audience,
            temporary,
            code=dossier.verification_code,
            issued_at=dossier.requested_at,
            part_size=part_size or default_part_size(),
            progress=report,
            covering_letter=dossier.covering_letter,
        )
        os.replace(temporary, target)
        temporary, written = None, True
        db.session.expire(dossier)  # steps_done moved on in another transaction
        dossier.status = DossierStatus.READY
        dossier.pages = built.pages
        dossier.size_bytes = built.size_bytes
        dossier.sha256 = built.sha256
        dossier.signatures = built.signatures
        dossier.finished_at = dossier.updated_at = utcnow()
        # A signer withdrew while it was being built, perhaps after being read into it.
        if keep_in_database and dossier.superseded_at is None:
            db.session.add(DossierFile(dossier_id=dossier_id, content=target.read_bytes()))
        db.session.commit()
    except Exception as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        if written:  # complete, but its hash is not on record: it would never verify
            target.unlink(missing_ok=True)
        _mark_failed(dossier_id, exc)
        raise
    if keep_in_database:
        target.unlink(missing_ok=True)
    return dossier


def _mark_failed(dossier_id: int, exc: Exception) -> None:
    db.session.rollback()
    try:
        failed = db.session.get(Dossier, dossier_id)
        failed.status = DossierStatus.FAILED
        failed.error = f"{type(exc).__name__}: {exc}"[:500]
        failed.finished_at = failed.updated_at = utcnow()
        db.session.commit()
    except Exception:  # the database itself failing: the build shows stale, then failed
        db.session.rollback()
        log.exception("could not mark dossier %s failed", dossier_id)


def builds_in_background(pledge: Pledge) -> bool:
    """Small pledges are built while the organizer waits; large ones in the background."""
    limit = current_app.config["DOSSIER_SYNC_MAX_SIGNATURES"]
    return tally_for(pledge.id).total > limit


def start_in_background(dossier: Dossier) -> threading.Thread | Job:
    """Build the committed ``dossier`` through the job queue (see the module notes), in
    the language of the request that asked for it, as a dossier built at once would be."""
    return jobs.enqueue(build_dossier, dossier.id)


def could_not_start(dossier: Dossier, error: Exception) -> None:
    """The queue refused the build: the dossier shows as failed, to be started again."""
    log.error("dossier %s could not be enqueued: %s", dossier.id, error)
    _mark_failed(dossier.id, RuntimeError("the job queue did not answer"))


@jobs.label(lazy_gettext("Building an advocacy dossier"))
def build_dossier(dossier_id: int) -> None:
    """A job: build the dossier ``dossier_id`` into the database. Safe to run again: a
    dossier finished already is left alone, and one whose build was cut off (its worker
    killed) or failed is built again. Raises what the build raised, so the queue retries."""
    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None or dossier.status == DossierStatus.READY:
        return
    issue(dossier)


def dossier_for_code(typed: str) -> Dossier | None:
    """The issued dossier a verification code names."""
    from pledges.infrastructure.security import normalize_verification_code

    code = normalize_verification_code(typed)
    if code is None:
        return None
    return db.session.scalar(
        select(Dossier).where(
            Dossier.verification_code == code, Dossier.status == DossierStatus.READY
        )
    )


def matches(dossier: Dossier, stream: BinaryIO) -> bool:
    """Whether ``stream`` holds exactly the file issued as ``dossier``."""
    return dossier.sha256 is not None and sha256_hex(stream) == dossier.sha256
