"""App-wide error handlers: a page for people, JSON for the API, never a stack trace.

A blueprint that needs more (the sign form keeps the signer's answers on a refused
submission) registers its own handler and falls back on these.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from pledges.extensions import db

log = logging.getLogger(__name__)

CSRF_MESSAGE = lazy_gettext(
    "This form was open too long or your browser blocked its security cookie. "
    "Nothing was saved yet: check your answers and send the form again."
)

#: Titles and default explanations for error pages, in the reader's language; the API
#: keeps werkzeug's standard English names.
STATUS_TITLES = {
    400: lazy_gettext("Bad request"),
    403: lazy_gettext("Forbidden"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Method not allowed"),
    413: lazy_gettext("Too much data"),
    429: lazy_gettext("Too many requests"),
    500: lazy_gettext("Internal server error"),
}
STATUS_DESCRIPTIONS = {
    400: lazy_gettext("Your browser sent a request this site could not understand."),
    403: lazy_gettext("You do not have permission to open this page."),
    405: lazy_gettext("This address does not accept that kind of request."),
    413: lazy_gettext("What you sent is larger than this site accepts."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, title: str, detail: str):
    response = jsonify({"error": {"status": status, "title": title, "detail": detail}})
    response.status_code = status
    return response


def handle_http_error(error: HTTPException):
    status = error.code or 500
    if wants_json():
        response = api_error(status, error.name, error.description or error.name)
    else:
        response = make_response(error_page(error, status))
    return with_error_headers(response, error)


def with_error_headers(response: Response, error: HTTPException) -> Response:
    """The headers the status calls for, which werkzeug's own answer would have carried:
    ``Allow`` on a 405 (RFC 9110), ``Retry-After`` where an exception names one."""
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def error_page(error: HTTPException, status: int):
    """The error page, worded in the reader's language where werkzeug's default is English."""
    description = error.description
    if description == type(error).description:
        description = STATUS_DESCRIPTIONS.get(status, description)
    return render_template(
        "errors/error.html",
        error=error,
        status=status,
        error_title=STATUS_TITLES.get(status, error.name),
        error_description=description,
    ), status


def handle_csrf_error(error: CSRFError):
    if wants_json():
        return api_error(400, "Bad Request", str(CSRF_MESSAGE))
    error.description = str(CSRF_MESSAGE)
    return error_page(error, 400)


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    wrapped = InternalServerError()
    if wants_json():
        return api_error(500, wrapped.name, "Something went wrong on our side. Please try again.")
    return error_page(wrapped, 500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
