"""Caching rendered wall pages, correct across processes and hosts.

A page is stored under a key holding the pledge's ``wall_version``, which every change
visible on the wall bumps in the same transaction as the change. Readers look the version
up with the pledge (one indexed row), so a stale page is never served: it simply stops
being asked for, and ages out. The version is bumped by ``pledges.domain.transitions``.
With ``REDIS_URL`` the cache is shared by every host; without it each process keeps its
own, which is just as correct.

Revalidations (a browser or proxy asking "is my copy still current?" with If-None-Match)
are the one answer given without asking the database every time: each process remembers,
for REVALIDATION_MEMO_SECONDS (1 by default, never longer than HTTP_CACHE_SECONDS), the
ETag it last found current for an address and language (``revalidated_from_memo``). In a
surge, thousands of revalidations a second then cost one indexed read each second per
process. What that allows, and no more: a copy its holder already has may be confirmed up
to that second after a change made by another process (the HTTP contract, max-age and
stale-while-revalidate, already lets them keep it far longer without asking). The process
that commits a change forgets at once, a page is always rendered from the current version,
and nothing depends on the memo: a process without it asks the database.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from cachelib import SimpleCache
from flask import Flask, Response, current_app, g, has_app_context, request
from flask_babel import get_locale
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from pledges.domain.transitions import WALL_CHANGED
from pledges.extensions import cache
from pledges.infrastructure.http_cache import etag_for, not_modified, visitor_specific, with_etag
from pledges.infrastructure.urls import base_url

log = logging.getLogger(__name__)

#: A rendered page, or a feed's bytes.
Page = TypeVar("Page", str, bytes)


def cached_render(key: str, render: Callable[[], Page], params: Iterable[str] = ()) -> Page:
    """The page for ``key``, rendering and storing it on a miss.

    A visitor with flashed messages gets a fresh render that is not stored: their page is
    not everyone's. Pages are stored per language, so nobody is served another reader's.
    ``params`` are the query parameters the key stands for: links the page builds from the
    query string (to other languages) carry only those, never another visitor's extras.
    """
    g.page_params = frozenset(params)
    timeout = current_app.config["WALL_CACHE_SECONDS"]
    if timeout <= 0 or visitor_specific():
        return render()
    key = _full_key(key)
    try:
        page = cache.get(key)
    except RedisError:
        # A cache that does not answer costs a render, never the page.
        log.warning("page cache unreachable: rendering %s", key.split(":", 1)[0])
        return render()
    if page is None:
        page = render()
        try:
            cache.set(key, page, timeout=timeout)
        except RedisError:
            log.warning("page cache unreachable: %s not stored", key.split(":", 1)[0])
    return page


def cached_page(
    key: str,
    render: Callable[[], Page],
    params: Iterable[str] = (),
    mimetype: str = "text/html",
) -> Response:
    """``cached_render`` as a response with an ETag naming this version of the page, or a
    304 when the browser or a proxy already holds it."""
    if visitor_specific():  # their own page: no version to name, nothing to revalidate
        return Response(cached_render(key, render, params), mimetype=mimetype)
    etag = etag_for(_full_key(key))
    _remember(etag)
    unchanged = not_modified(etag)
    if unchanged is not None:
        return unchanged
    page = cached_render(key, render, params)
    return with_etag(Response(page, mimetype=mimetype), etag)


def _full_key(key: str) -> str:
    # Per language, and per address: without BASE_URL (development) links follow the
    # address asked for.
    return f"{key}:{get_locale()}:{base_url()}"


# The revalidation memo (see the module doc).

MEMO_KEY = "pledges.revalidation_memo"
#: Addresses and languages remembered at once, at most (cachelib prunes beyond).
MEMO_ENTRIES = 2000

View = TypeVar("View", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    seconds = min(app.config["REVALIDATION_MEMO_SECONDS"], app.config["HTTP_CACHE_SECONDS"])
    if seconds > 0:
        app.extensions[MEMO_KEY] = SimpleCache(threshold=MEMO_ENTRIES, default_timeout=seconds)


def _memo() -> SimpleCache | None:
    """This process's memo, when this request is a revalidation it may answer."""
    if not request.if_none_match or visitor_specific():
        return None
    return current_app.extensions.get(MEMO_KEY)


def _memo_key() -> str:
    # Everything a page's ETag names besides its version: the address asked for (pledge,
    # filters, page, ``?content=``, host) and the language the request is answered in.
    return f"{request.url}|{get_locale()}"


def _remember(etag: str) -> None:
    memo = _memo()
    if memo is not None:
        memo.set(_memo_key(), etag)


def revalidated_from_memo(view: View) -> View:
    """Answer a revalidation of a ``cached_page`` view with 304 when this process found the
    ETag it holds current within the memo's lifetime; else run the view."""

    @functools.wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Any:
        memo = _memo()
        etag = memo.get(_memo_key()) if memo is not None else None
        unchanged = not_modified(etag) if etag is not None else None
        return unchanged if unchanged is not None else view(*args, **kwargs)

    return answer  # type: ignore[return-value]


@event.listens_for(Session, "after_commit")
def _forget_after_a_wall_changed(session: Session) -> None:
    if session.info.pop(WALL_CHANGED, False) and has_app_context():
        memo = current_app.extensions.get(MEMO_KEY)
        if memo is not None:
            memo.clear()
