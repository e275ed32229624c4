"""Errors are pages (or JSON for the API), never stack traces."""

from __future__ import annotations

import pytest

from pledges.extensions import db


def test_500_is_a_friendly_page_without_a_trace(failing_app):
    client = failing_app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


def test_500_in_the_api_is_json(failing_app):
    response = failing_app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json["error"]["status"] == 500
    assert "secret internal detail" not in response.get_data(as_text=True)


def test_500_rolls_back_the_session(failing_app):
    from pledges.models import Organization

    @failing_app.get("/half-done")
    def half_done():
        db.session.add(Organization(slug="half", name="Half"))
        db.session.flush()
        raise RuntimeError("after a write")

    client = failing_app.test_client()
    assert client.get("/half-done").status_code == 500
    with failing_app.app_context():
        assert db.session.get(Organization, 1) is None


@pytest.mark.parametrize(
    ("method", "path", "status", "text"),
    [
        ("get", "/no/such/page", 404, "We cannot find that page"),
        ("post", "/", 405, "Method not allowed"),
        ("get", "/p/missing", 404, "We cannot find that page"),
    ],
)
def test_http_errors_are_pages(app, client, method, path, status, text):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert text in response.text
    assert response.content_type.startswith("text/html")


def test_static_files_are_served(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "--brand" in response.text
    response.close()


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/"), ("delete", "/login"), ("put", "/about")]
)
def test_a_405_page_says_which_methods_are_allowed(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"].split(", ")
    assert method.upper() not in response.headers["Allow"]
