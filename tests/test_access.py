"""Every organizer and admin route, found in the URL map, refuses the wrong people.

New routes are covered as they are added: nobody reaches /organize/… or /admin/… without
logging in; with every argument a real id (tests/world.py), an organizer gets 404 for a
pledge they do not run or an object inside one (its existence is not confirmed) while its
own organizer is served on the same URL; only admins reach /admin/…. Every POST route's
CSRF check: test_csrf.py.
"""

from __future__ import annotations

import pytest

from tests.factories import make_pledge, make_user
from tests.helpers import csrf_token, log_in, logged_in, organizer_urls, table_counts
from tests.world import Route, build_world, world_routes


def test_there_are_organizer_routes_to_check(app, app_ctx):
    assert len(organizer_urls(app, "x")) >= 2


def test_anonymous_visitors_are_sent_to_log_in(app, client):
    with app.app_context():
        pledge = make_pledge()
        urls = organizer_urls(app, pledge.slug)
    for method, url, endpoint in urls:
        response = client.open(url, method=method)
        # POSTs without a CSRF token may be refused before the login check; never served.
        assert response.status_code in (302, 400), (method, url)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login"), (method, url, endpoint)


def _served(response) -> bool:
    """The view ran for this user: a page, a file, a form sent back with its errors (400),
    or a redirect that is not to the login page."""
    response.close()  # a file (a kept scan) is streamed from disk
    if response.status_code in (301, 302, 303):
        return not response.headers["Location"].startswith("/login")
    return response.status_code in (200, 400, 422)


def _with_token(app, email: str):
    """A client logged in as ``email``, and a function sending a request with its CSRF
    token (Flask-WTF keeps one token per session, good for every form)."""
    client = logged_in(app, email)
    token = csrf_token(client.get("/organize/").text)

    def send(route: Route):
        data = {"csrf_token": token} if route.method == "POST" else None
        return client.open(route.url, method=route.method, data=data)

    return send


def test_every_organizer_route_serves_its_organizer_and_hides_from_another(app, client):
    """Each /organize and /admin route, its arguments filled with real ids of objects that
    one organizer runs (tests/world.py): another organizer gets 404 (403 for /admin) and
    changes nothing, also when naming their own pledge with the first one's object ids;
    the rightful organizer (an admin for /admin) is served on the same URL."""
    with app.app_context():
        world = build_world()
        routes = world_routes(app, world)
        # The intruder's own pledge, with the ids of objects inside the owner's.
        crossed = [
            r
            for r in world_routes(app, world, slug=world.intruder_slug)
            if r.names_a_pledge and any(a.endswith("_id") for a in r.object_arguments)
        ]
    intruder = _with_token(app, world.intruder)
    owner, admin = _with_token(app, world.owner), _with_token(app, world.admin)
    assert len(crossed) >= 15

    def refused(route: Route) -> int:
        with app.app_context():
            before = table_counts()
        status = intruder(route).status_code
        with app.app_context():
            assert table_counts() == before, (route.method, route.url)
        return status

    for route in crossed:
        # Not found; or, for a removal, "that one is not here" back on the intruder's page.
        status = refused(route)
        assert status == 404 or (status == 302 and route.url.endswith("/remove")), (
            route.method,
            route.url,
            status,
        )
    # Reading first; then the forms, whose work may change what later routes see.
    for route in sorted(routes, key=lambda r: r.method != "GET"):
        if route.is_admin:
            assert refused(route) == 403, (route.method, route.url)
        elif route.values:
            assert refused(route) == 404, (route.method, route.url)
        response = (admin if route.is_admin else owner)(route)
        assert _served(response), (route.method, route.url, response.status_code)


@pytest.mark.parametrize("role, expected", [("organizer", 403), ("admin", None)])
def test_only_admins_reach_admin_pages(app, client, role, expected):
    with app.app_context():
        make_user("me@example.org", role=role)
        urls = [u for u in organizer_urls(app, "x") if u[1].startswith("/admin")]
    log_in(client, "me@example.org")
    for method, url, endpoint in urls:
        if method != "GET":
            continue
        status = client.get(url).status_code
        if expected:
            assert status == expected, (url, endpoint)
        else:
            assert status in (200, 302, 404), (url, endpoint)  # /admin/ redirects to a section
