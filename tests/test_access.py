"""Every organizer and admin route, found in the URL map, refuses the wrong people.

New routes are covered as they are added: nobody reaches /organize/… or /admin/… without
logging in, an organizer gets 404 for a pledge they do not run (its existence is not
confirmed), and only admins reach /admin/….
"""

from __future__ import annotations

import pytest

from tests.factories import make_pledge, make_user, run_by
from tests.helpers import log_in, organizer_urls


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


def test_an_organizer_cannot_see_another_organizers_pledge(app, client):
    with app.app_context():
        run_by(make_pledge(), make_user("owner@example.org"))
        theirs = make_pledge()
        run_by(theirs, make_user("other@example.org"))
        make_user("me@example.org")
        urls = organizer_urls(app, theirs.slug)
    log_in(client, "me@example.org")
    client.application.config["WTF_CSRF_ENABLED"] = False  # reach the view itself
    for method, url, endpoint in urls:
        if "<slug>" not in str(app.url_map._rules_by_endpoint[endpoint][0]):
            continue
        response = client.open(url, method=method)
        assert response.status_code == 404, (method, url, endpoint)


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


def test_every_organizer_and_admin_form_needs_its_csrf_token(app, client):
    """A POST without the token is refused before any view runs, for the pledge's own
    organizer (an admin too): nothing reaches a service without it."""
    with app.app_context():
        pledge = run_by(make_pledge(), make_user("me@example.org", role="admin"))
        posts = [(m, u, e) for m, u, e in organizer_urls(app, pledge.slug) if m == "POST"]
    log_in(client, "me@example.org")
    assert len(posts) >= 10
    for _, url, endpoint in posts:
        response = client.post(url, data={"reason": "x", "email": "x@example.org"})
        assert response.status_code == 400, (url, endpoint)
