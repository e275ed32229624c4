"""Caching rendered wall pages, correct across processes and hosts.

A page is stored under a key holding the pledge's ``wall_version``, which every change
visible on the wall bumps in the same transaction as the change. Readers look the version
up with the pledge (one indexed row), so a stale page is never served: it simply stops
being asked for, and ages out. The version is bumped by ``pledges.domain.transitions``.
With ``REDIS_URL`` the cache is shared by every host; without it each process keeps its
own, which is just as correct.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from flask import Response, current_app, g
from flask_babel import get_locale
from redis.exceptions import RedisError

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
    unchanged = not_modified(etag)
    if unchanged is not None:
        return unchanged
    page = cached_render(key, render, params)
    return with_etag(Response(page, mimetype=mimetype), etag)


def _full_key(key: str) -> str:
    # Per language, and per address: without BASE_URL (development) links follow the
    # address asked for.
    return f"{key}:{get_locale()}:{base_url()}"
