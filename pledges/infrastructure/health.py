"""``GET /healthz`` for load balancers and orchestrators: is this process able to serve?

It answers 200 only after a real round trip to the database, 503 when that fails, and
says nothing else: no versions, hosts or counts, and never from a cache.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pledges.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def database_reachable() -> bool:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        # The class names the failure (refused, timeout, bad file) without the URL.
        log.warning(
            "health check: database unreachable (%s)",
            type(getattr(exc, "orig", None) or exc).__name__,
        )
        return False
    return True


@bp.get("/healthz")
def healthz():
    if database_reachable():
        response = jsonify(status="ok", database="ok")
    else:
        response = jsonify(status="unavailable", database="unreachable")
        response.status_code = 503
    response.headers["Cache-Control"] = "no-store"
    return response
