"""Paper sign-up sheets: printing one, entering what people wrote on it, checking its scan.

Where people gather without a connection, an organizer prints a sheet in one of the
pledge's languages; each sheet has a code of its own, and a QR code leading back to the
page where its rows are typed in. Every row becomes a signature through the signing
service and the one door (``pledges.domain.transitions``), confirmed by the organizer's
act and audited with them as its actor. A row that breaks a rule saves nothing; the others
are saved.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pledges.domain.content import PledgeContent
from pledges.domain.countries import country_names
from pledges.domain.rules import RuleError
from pledges.domain.signers import SigningError, normalize_email
from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.infrastructure.i18n import language_name, signer_language
from pledges.infrastructure.security import CODE_ALPHABET, sha256_hex
from pledges.infrastructure.urls import external_url
from pledges.models import (
    PAPER_SCAN_FOLDER,
    AllyRole,
    PaperSheet,
    Pledge,
    PledgeStatus,
    Publication,
    Signature,
    User,
    Visibility,
)
from pledges.presentation.display import Labels
from pledges.presentation.pdf import qr_code_svg, render_pdf
from pledges.signing.service import SignatureInput, sign_on_paper

SHEET_TEMPLATE = "pdf/paper_sheet.html"
#: Rows printed on a sheet, and offered at first on its entry page.
SHEET_ROWS = 12
#: Rows the entry page offers at most (a sheet photocopied back to back, and then some).
MAX_ROWS = 48
#: Sheet codes: six characters of Crockford's base32 (no I, L, O or U), shown as XXX-XXX.
SHEET_CODE_LENGTH = 6
_SHEET_CODE_TRANSLATION = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})
#: Where kept scans live, under the instance folder; served to the pledge's organizers only.
SCAN_FOLDER = PAPER_SCAN_FOLDER
#: What a scan may be, told by its first bytes (never by its name or declared type).
SCAN_TYPES = {
    b"%PDF-": (".pdf", "application/pdf"),
    b"\xff\xd8\xff": (".jpg", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": (".png", "image/png"),
}

#: The four ways to be shown, as short as a tick box on paper allows. Their first letters
#: differ, so typing one picks it in the entry page's list.
SHORT_VISIBILITY_LABELS = Labels(
    {
        Visibility.FULL: lazy_gettext("Full name"),
        Visibility.INITIAL: lazy_gettext("Initial of last name"),
        Visibility.ORGANIZATION: lazy_gettext("Organization only"),
        Visibility.ANONYMOUS: lazy_gettext("Anonymous"),
    }
)
#: What the sheet says a row with no box ticked means: the least identifying choice.
DEFAULT_VISIBILITY = Visibility.ANONYMOUS


class PaperError(RuleError):
    """A rule on sheets, their rows or their scans was broken."""


# Sheets.


def new_sheet_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(SHEET_CODE_LENGTH))
    return f"{raw[:3]}-{raw[3:]}"


def normalize_sheet_code(typed: str) -> str | None:
    """A code as people type it from paper (lower case, no dash, O for 0), or None."""
    raw = typed.upper().translate(_SHEET_CODE_TRANSLATION)
    if len(raw) != SHEET_CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return f"{raw[:3]}-{raw[3:]}"


def sheet_languages(pledge: Pledge) -> list[tuple[str, str]]:
    """(code, name) of every language the pledge is written in: its own, then translations."""
    codes = dict.fromkeys([pledge.language, *(t.locale for t in pledge.translations)])
    return [(code, language_name(code)) for code in codes]


def create_sheet(pledge: Pledge, language: str, user: User) -> PaperSheet:
    """A new sheet for ``pledge`` in ``language``, numbering the commitments offered now;
    audited. The caller commits."""
    if pledge.status != PledgeStatus.OPEN:
        raise PaperError(gettext("Open the pledge before printing sheets: it takes no signatures."))
    if language not in dict(sheet_languages(pledge)):
        raise PaperError(gettext("Choose one of the pledge's languages."), field="language")
    commitments = [c.id for c in pledge.offered_commitments]
    while True:
        sheet = PaperSheet(
            pledge_id=pledge.id,
            code=new_sheet_code(),
            language=language,
            commitment_ids=commitments,
            created_by_id=user.id,
        )
        try:
            with db.session.begin_nested():
                db.session.add(sheet)
        except IntegrityError:
            continue  # the code was taken (one in a billion): draw another
        break
    audit.record(
        "paper.sheet",
        pledge=pledge,
        target=sheet,
        details={"code": sheet.code, "language": language},
        actor=user,
    )
    return sheet


def sheets_of(pledge: Pledge) -> list[tuple[PaperSheet, int]]:
    """The pledge's sheets, newest first, each with how many signatures were entered from it."""
    entered = (
        select(func.count(Signature.id))
        .where(Signature.paper_sheet_id == PaperSheet.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(PaperSheet, entered)
        .where(PaperSheet.pledge_id == pledge.id)
        .order_by(PaperSheet.created_at.desc(), PaperSheet.id.desc())
    ).all()
    return [(sheet, count) for sheet, count in rows]


def sheet_of(pledge: Pledge, typed_code: str) -> PaperSheet | None:
    code = normalize_sheet_code(typed_code)
    if code is None:
        return None
    return db.session.scalar(
        select(PaperSheet).where(PaperSheet.pledge_id == pledge.id, PaperSheet.code == code)
    )


def entered_from(sheet: PaperSheet) -> list[Signature]:
    return list(
        db.session.scalars(
            select(Signature).where(Signature.paper_sheet_id == sheet.id).order_by(Signature.id)
        )
    )


@dataclass(frozen=True)
class SheetCommitment:
    number: int
    id: int
    text: str
    required: bool


def numbered_commitments(sheet: PaperSheet) -> list[SheetCommitment]:
    """The commitments as the sheet numbered them, in its language (those since deleted
    are left out; their numbers are not reused)."""
    content = PledgeContent(sheet.pledge, sheet.language)
    by_id = {c.id: c for c in sheet.pledge.commitments}
    return [
        SheetCommitment(
            number, by_id[cid].id, content.commitment_text(by_id[cid]), by_id[cid].required
        )
        for number, cid in enumerate(sheet.commitment_ids, start=1)
        if cid in by_id
    ]


def sheet_context(sheet: PaperSheet) -> dict:
    """What the print template needs, as plain data, for the PDF and its preview alike.
    Call in the sheet's language (``signer_language``) for the template's own words."""
    content = PledgeContent(sheet.pledge, sheet.language)
    entry_url = external_url("paper.entry", slug=sheet.pledge.slug, code=sheet.code)
    return {
        "sheet_code": sheet.code,
        "title": content.title,
        "preamble": content.preamble,
        "content_lang": content.html_lang,
        "content_dir": content.direction,
        "commitments": numbered_commitments(sheet),
        "visibility_choices": [
            (v.value, SHORT_VISIBILITY_LABELS[v], v == DEFAULT_VISIBILITY) for v in Visibility
        ],
        "rows": range(1, SHEET_ROWS + 1),
        "entry_url": entry_url,
        "qr_code": qr_code_svg(entry_url),
    }


def render_sheet_pdf(sheet: PaperSheet) -> bytes:
    with signer_language(sheet.language):
        return render_pdf(SHEET_TEMPLATE, **sheet_context(sheet))


def sheet_filename(sheet: PaperSheet) -> str:
    return f"joining-forces-{sheet.pledge.slug}-sheet-{sheet.code}.pdf"


# Entering the rows.


@dataclass(frozen=True)
class RowInput:
    """One row of a sheet as typed in: ``line`` is its number on the entry page."""

    line: int
    name: str
    organization: str
    country: str
    visibility: str
    email: str
    commitments: str  # the numbers written on the sheet: "1, 3"
    discreet_mail: bool


@dataclass
class BatchResult:
    saved: list[tuple[int, Signature]] = field(default_factory=list)
    #: {line: {field: message}} for the rows not saved.
    errors: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def emailed(self) -> int:
        return sum(1 for _, s in self.saved if s.email)

    @property
    def without_email(self) -> int:
        return len(self.saved) - self.emailed


_NUMBERS = re.compile(r"[0-9]+")
_NUMBER_LIST = re.compile(r"[0-9\s,;+/&]*")


def commitment_ids_for(sheet: PaperSheet, written: str) -> tuple[int, ...]:
    """The commitments a row chose, from the numbers written ("1, 3", "1 3", "1+3"); every
    required one is part of every signature, written or not."""
    if not _NUMBER_LIST.fullmatch(written or ""):
        raise PaperError(
            gettext("Write the commitments as their numbers on the sheet, like 1, 3."),
            field="commitments",
        )
    numbered = {c.number: c for c in numbered_commitments(sheet)}
    chosen = []
    for text in _NUMBERS.findall(written or ""):
        number = int(text) if len(text) <= 3 else 0
        if number not in numbered:
            raise PaperError(
                gettext(
                    "There is no commitment %(number)s on this sheet: it numbers them "
                    "1 to %(last)s.",
                    number=text,
                    last=max(numbered, default=0),
                ),
                field="commitments",
            )
        chosen.append(numbered[number].id)
    required = [c.id for c in numbered.values() if c.required]
    return tuple(dict.fromkeys([*required, *chosen]))


def country_code(typed: str) -> str | None:
    """A country as typed: its code (any case) or its name in the current language."""
    names = country_names()
    typed = " ".join((typed or "").split())
    if typed.upper() in names:
        return typed.upper()
    by_name = {name.casefold(): code for code, name in names.items()}
    return by_name.get(typed.casefold())


def enter_rows(sheet: PaperSheet, rows: list[RowInput], user: User) -> BatchResult:
    """Save each row that keeps every rule, each in a savepoint of its own, as a signature
    signed on this sheet, confirmed by ``user`` and audited with them as actor. A row that
    breaks a rule saves nothing and is reported under its line. The caller commits."""
    pledge = sheet.pledge
    if pledge.status != PledgeStatus.OPEN:
        raise PaperError(gettext("This pledge is not taking signatures."))
    result = BatchResult()
    emails_in_batch: dict[str, int] = {}
    for row in rows:
        try:
            data = _signature_input(sheet, row, emails_in_batch)
            with db.session.begin_nested():
                signature = sign_on_paper(pledge, data, paper_sheet_id=sheet.id, entered_by=user)
                audit.record(
                    "signature.paper",
                    pledge=pledge,
                    target=signature,
                    details={"sheet": sheet.code},
                    actor=user,
                )
        except RuleError as exc:
            result.errors[row.line] = {exc.field or "name": exc.message}
        except IntegrityError:
            # Another organizer entered the same address at the same moment.
            result.errors[row.line] = {"email": _already_signed()}
        else:
            result.saved.append((row.line, signature))
            if signature.email_normalized:
                emails_in_batch[signature.email_normalized] = row.line
    return result


def _already_signed() -> str:
    return gettext("This email address has already signed this pledge.")


def _signature_input(
    sheet: PaperSheet, row: RowInput, emails_in_batch: dict[str, int]
) -> SignatureInput:
    country = country_code(row.country)
    if country is None:
        raise PaperError(
            gettext("Type a country code like KE, or choose one from the list."), field="country"
        )
    if row.visibility not in set(Visibility):
        raise PaperError(gettext("Choose how this signer is shown."), field="visibility")
    commitment_ids = commitment_ids_for(sheet, row.commitments)
    email = row.email.strip()
    if email:
        try:
            key = normalize_email(email)
        except SigningError as exc:
            raise PaperError(
                gettext("Enter a valid email address, like name@example.org."), field="email"
            ) from exc
        if key in emails_in_batch:
            raise PaperError(
                gettext(
                    "The same email address as line %(line)s: one signature per address.",
                    line=emails_in_batch[key],
                ),
                field="email",
            )
    already = db.session.scalar(
        select(func.count(Signature.id)).where(
            Signature.paper_sheet_id == sheet.id,
            Signature.full_name == row.name,
            Signature.country == country,
        )
    )
    if already:
        raise PaperError(
            gettext("This name from this country was already entered from this sheet."),
            field="name",
        )
    return SignatureInput(
        name=row.name,
        email=email,
        country=country,
        role=AllyRole.UNDISCLOSED,
        organization=row.organization,
        visibility=row.visibility,
        commitment_ids=commitment_ids,
        personal_note="",
        locale=sheet.language,
        show_role=False,
        publication=Publication.NOW,
        discreet_mail=row.discreet_mail,
    )


# Scans.


@dataclass(frozen=True)
class ScanOutcome:
    recorded: bool  # True: this was the first scan, its fingerprint now stored
    matches: bool | None  # for a later scan: whether it is the same file
    kept: bool


def scan_type(stream: BinaryIO) -> tuple[str, str] | None:
    head = stream.read(16)
    stream.seek(0)
    return next((kind for magic, kind in SCAN_TYPES.items() if head.startswith(magic)), None)


def take_scan(sheet: PaperSheet, stream: BinaryIO, keep: bool, user: User) -> ScanOutcome:
    """The first scan's SHA-256 is stored (and the file kept only if ``keep``); a later one
    is checked against it and never kept. The caller commits."""
    kind = scan_type(stream)
    if kind is None:
        raise PaperError(gettext("Upload the scan as a PDF, JPEG or PNG file."), field="scan")
    digest = sha256_hex(stream)
    if sheet.scan_sha256 is not None:
        return ScanOutcome(recorded=False, matches=digest == sheet.scan_sha256, kept=False)
    sheet.scan_sha256 = digest
    if keep:
        stream.seek(0)
        sheet.scan_file = _keep_scan(sheet, stream, kind[0])
    audit.record(
        "paper.scan",
        pledge=sheet.pledge,
        target=sheet,
        details={"code": sheet.code, "sha256": digest, "kept": keep},
        actor=user,
    )
    return ScanOutcome(recorded=True, matches=None, kept=keep)


def delete_kept_scan(sheet: PaperSheet, user: User) -> None:
    """Delete the kept scan (its fingerprint stays, for checking copies); audited. The file
    goes at once: a commit that then failed would leave the sheet naming a missing file,
    which reads as no scan kept."""
    if not sheet.scan_file:
        raise PaperError(gettext("No scan of this sheet is kept."))
    (scan_folder() / sheet.scan_file).unlink(missing_ok=True)
    sheet.scan_file = None
    audit.record(
        "paper.scan_delete",
        pledge=sheet.pledge,
        target=sheet,
        details={"code": sheet.code},
        actor=user,
    )


def scan_folder() -> Path:
    return Path(current_app.instance_path) / SCAN_FOLDER


def _keep_scan(sheet: PaperSheet, stream: BinaryIO, suffix: str) -> str:
    # Named after the sheet's code (our own alphabet), never after the uploaded name.
    name = f"sheet-{sheet.code}{suffix}"
    folder = scan_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    with path.open("wb") as target:
        for block in iter(lambda: stream.read(1 << 16), b""):
            target.write(block)
    path.chmod(0o600)
    return name


def kept_scan(sheet: PaperSheet) -> tuple[Path, str] | None:
    """The kept scan's path and content type, or None."""
    if not sheet.scan_file:
        return None
    path = scan_folder() / sheet.scan_file
    if not path.is_file():
        return None
    content_type = next(
        (t for suffix, t in SCAN_TYPES.values() if sheet.scan_file.endswith(suffix)),
        "application/octet-stream",
    )
    return path, content_type
