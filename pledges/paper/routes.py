"""Paper sheets, for the pledge's organizers: print one, type in its rows, check its scan."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user

from pledges.accounts.access import managed_pledge_or_404, organizer_required
from pledges.domain.countries import country_names
from pledges.forms import UPLOAD_MAX_BYTES, ButtonForm
from pledges.infrastructure.i18n import signer_language
from pledges.paper import service
from pledges.paper.forms import BatchForm, ScanForm, SheetForm
from pledges.presentation.pdf import pdf_response
from pledges.views import commit_or_show_error

bp = Blueprint("paper", __name__, url_prefix="/organize")

#: Rows the "Add rows" button adds.
MORE_ROWS = 6
# Room for the multipart framing and the CSRF field around the scan itself.
SCAN_REQUEST_MAX_BYTES = UPLOAD_MAX_BYTES + 64 * 1024


@bp.url_value_preprocessor
def allow_scan_uploads(endpoint: str | None, values: dict | None) -> None:
    # Before CSRFProtect reads the body: the app-wide 1 MB limit would refuse a real scan.
    if endpoint == "paper.scan" and request.method == "POST":
        request.max_content_length = SCAN_REQUEST_MAX_BYTES


def _sheet_or_404(slug: str, code: str):
    pledge = managed_pledge_or_404(slug)
    sheet = service.sheet_of(pledge, code)
    if sheet is None:
        abort(404)
    return pledge, sheet


@bp.route("/<slug>/paper", methods=["GET", "POST"])
@organizer_required
def sheets(slug: str):
    """The pledge's sheets, and a new one in the language chosen."""
    pledge = managed_pledge_or_404(slug)
    form = SheetForm(service.sheet_languages(pledge))
    if form.validate_on_submit():
        with commit_or_show_error(form) as outcome:
            sheet = service.create_sheet(pledge, form.language.data, current_user)
        if outcome.committed:
            flash(gettext("Sheet %(code)s is ready to print.", code=sheet.code), "success")
            return redirect(url_for("paper.sheet", slug=pledge.slug, code=sheet.code))
    status = 422 if form.errors else 200
    return render_template(
        "paper/sheets.html",
        pledge=pledge,
        form=form,
        sheets=service.sheets_of(pledge),
    ), status


@bp.get("/<slug>/paper/<code>")
@organizer_required
def sheet(slug: str, code: str):
    pledge, sheet = _sheet_or_404(slug, code)
    return _sheet_page(pledge, sheet, ScanForm())


def _sheet_page(pledge, sheet, scan_form, outcome=None, status=200):
    return render_template(
        "paper/sheet.html",
        pledge=pledge,
        sheet=sheet,
        scan_form=scan_form,
        outcome=outcome,
        signatures=service.entered_from(sheet),
        visibility_labels=service.SHORT_VISIBILITY_LABELS,
        button_form=ButtonForm(),
    ), status


@bp.get("/<slug>/paper/<code>/sheet.pdf")
@organizer_required
def sheet_pdf(slug: str, code: str):
    _, sheet = _sheet_or_404(slug, code)
    return pdf_response(service.render_sheet_pdf(sheet), service.sheet_filename(sheet))


@bp.get("/<slug>/paper/<code>/sheet.html")
@organizer_required
def sheet_preview(slug: str, code: str):
    """The print template as a page: what the PDF lays out."""
    _, sheet = _sheet_or_404(slug, code)
    with signer_language(sheet.language):
        return render_template(service.SHEET_TEMPLATE, **service.sheet_context(sheet))


def _blank_rows(form: BatchForm, count: int) -> None:
    last = max((int(e.form.line.data or 0) for e in form.rows.entries), default=0)
    room = service.MAX_ROWS - len(form.rows.entries)
    for line in range(last + 1, last + 1 + min(count, room)):
        form.rows.append_entry({"line": str(line)})


@bp.route("/<slug>/paper/<code>/entry", methods=["GET", "POST"])
@organizer_required
def entry(slug: str, code: str):
    """Type in a sheet's rows: one line per signer, every row checked on its own."""
    pledge, sheet = _sheet_or_404(slug, code)
    form = BatchForm()
    if not form.is_submitted():
        _blank_rows(form, service.SHEET_ROWS)
        return _entry_page(pledge, sheet, form)
    if form.add_rows.data:
        _blank_rows(form, MORE_ROWS)
        return _entry_page(pledge, sheet, form)
    form.validate()
    if form.csrf_token.errors:
        abort(400)
    typed = [e.form for e in form.rows.entries if not e.form.is_blank]
    if not typed:
        form.form_errors.append(gettext("Type at least one row from the sheet."))
        return _entry_page(pledge, sheet, form, status=422)
    ready = [row for row in typed if not row.errors]
    with commit_or_show_error(form) as outcome:
        result = service.enter_rows(sheet, [row.row_input() for row in ready], current_user)
    if not outcome.committed:
        return _entry_page(pledge, sheet, form, status=422)
    by_line = {row.line.data: row for row in ready}
    for line, errors in result.errors.items():
        row = by_line[str(line)]
        for name, message in errors.items():
            getattr(row, name).errors = [*getattr(row, name).errors, message]
    if result.saved:
        flash(_saved_message(result), "success")
    saved_lines = {str(line) for line, _ in result.saved}
    form.rows.entries = [
        e for e in form.rows.entries if not e.form.is_blank and e.form.line.data not in saved_lines
    ]
    if not form.rows.entries:
        return redirect(url_for("paper.sheet", slug=pledge.slug, code=sheet.code))
    form.form_errors.append(
        ngettext(
            "%(num)s row was not saved: correct it below and save again.",
            "%(num)s rows were not saved: correct them below and save again.",
            len(form.rows.entries),
        )
    )
    return _entry_page(pledge, sheet, form, status=422)


def _saved_message(result: service.BatchResult) -> str:
    saved = ngettext("%(num)s signature saved.", "%(num)s signatures saved.", len(result.saved))
    parts = [saved]
    if result.emailed:
        parts.append(
            ngettext(
                "%(num)s signer is emailed their private link.",
                "%(num)s signers are emailed their private link.",
                result.emailed,
            )
        )
    if result.without_email:
        parts.append(
            ngettext(
                "%(num)s without email: counted, and shown as they chose.",
                "%(num)s without email: counted, and shown as they chose.",
                result.without_email,
            )
        )
    return " ".join(parts)


def _entry_page(pledge, sheet, form: BatchForm, status: int = 200):
    return render_template(
        "paper/entry.html",
        pledge=pledge,
        sheet=sheet,
        form=form,
        commitments=service.numbered_commitments(sheet),
        countries=country_names(),
        max_rows=service.MAX_ROWS,
    ), status


@bp.route("/<slug>/paper/<code>/scan", methods=["GET", "POST"])
@organizer_required
def scan(slug: str, code: str):
    """POST: record or check a scan of the sheet. GET: the kept scan, if one was kept."""
    pledge, sheet = _sheet_or_404(slug, code)
    if request.method == "GET":
        kept = service.kept_scan(sheet)
        if kept is None:
            abort(404)
        path, content_type = kept
        response = send_file(
            path, mimetype=content_type, as_attachment=True, download_name=path.name
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    form = ScanForm()
    if not form.validate_on_submit():
        return _sheet_page(pledge, sheet, form, status=422)
    with commit_or_show_error(form) as committed:
        outcome = service.take_scan(
            sheet, form.scan.data.stream, bool(form.keep.data), current_user
        )
    if not committed.committed:
        return _sheet_page(pledge, sheet, form, status=422)
    if outcome.recorded:
        flash(
            gettext("The scan's fingerprint is stored, and the scan kept.")
            if outcome.kept
            else gettext("The scan's fingerprint is stored; the scan itself was not kept."),
            "success",
        )
        return redirect(url_for("paper.sheet", slug=pledge.slug, code=sheet.code))
    return _sheet_page(pledge, sheet, ScanForm(formdata=None), outcome=outcome)


@bp.post("/<slug>/paper/<code>/scan/delete")
@organizer_required
def delete_scan(slug: str, code: str):
    pledge, sheet = _sheet_or_404(slug, code)
    if ButtonForm().validate_on_submit():
        with commit_or_show_error() as outcome:
            service.delete_kept_scan(sheet, current_user)
        if outcome.committed:
            flash(gettext("The kept scan is deleted; its fingerprint stays."), "success")
    return redirect(url_for("paper.sheet", slug=pledge.slug, code=sheet.code))
