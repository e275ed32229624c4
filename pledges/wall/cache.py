"""Caching rendered wall pages, correct across processes and hosts.

A page is stored under a key holding the pledge's ``wall_version``, which every change
visible on the wall bumps in the same transaction as the change. Readers look the version
up with the pledge (one indexed row), so a stale page is never served: it simply stops
being asked for, and ages out. The version is bumped by ``pledges.domain.transitions``.
With ``REDIS_URL`` the cache is shared by every host; without it each process keeps its
own, which is just as correct.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from flask import current_app, g, session
from flask_babel import get_locale

from pledges.extensions import cache
from pledges.infrastructure.urls import base_url

#: A rendered page, or a feed's bytes.
Page = TypeVar("Page", str, bytes)


def cached_page(key: str, render: Callable[[], Page], params: Iterable[str] = ()) -> Page:
    """The page for ``key``, rendering and storing it on a miss.

    A visitor with flashed messages gets a fresh render that is not stored: their page is
    not everyone's. Pages are stored per language, so nobody is served another reader's.
    ``params`` are the query parameters the key stands for: links the page builds from the
    query string (to other languages) carry only those, never another visitor's extras.
    """
    timeout = current_app.config["WALL_CACHE_SECONDS"]
    if timeout <= 0 or "_flashes" in session:
        return render()
    # Per address too: without BASE_URL (development) links follow the address asked for.
    key = f"{key}:{get_locale()}:{base_url()}"
    page = cache.get(key)
    if page is None:
        g.page_params = frozenset(params)
        page = render()
        cache.set(key, page, timeout=timeout)
    return page
