"""The read-only JSON API and its OpenAPI 3.1 document."""

from __future__ import annotations

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate

from pledges.models import PledgeStatus
from tests.factories import confirmed_signature, make_pledge

BASE = "http://pledges.test"


@pytest.fixture
def openapi(client) -> OpenAPI:
    document = client.get("/api/v1/openapi.json", base_url=BASE).json
    validate(document)  # raises on an invalid OpenAPI 3.1 document
    return OpenAPI.from_dict(document)


def get_checked(client, openapi: OpenAPI, path: str, status: int = 200):
    """GET ``path`` and check the response matches the documented one."""
    response = client.get(path, base_url=BASE)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    openapi.validate_response(
        WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response)
    )
    return response.json


def test_openapi_document_is_valid_3_1(client, app, openapi):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/pledges", "/pledges/{slug}", "/pledges/{slug}/signatures"}


def test_every_response_matches_the_document(client, openapi, app_ctx):
    pledge = make_pledge(slug="allies")
    make_pledge(status=PledgeStatus.DRAFT, slug="secret-draft")
    confirmed_signature(pledge, name="Jens van Tricht", country="NL", role="man")
    confirmed_signature(pledge, visibility="anonymous", country="KE")
    confirmed_signature(pledge, visibility="organization", organization="eMANcipator")

    listing = get_checked(client, openapi, "/api/v1/pledges")
    assert [p["slug"] for p in listing["data"]] == ["allies"]
    assert listing["data"][0]["signature_count"] == 3

    detail = get_checked(client, openapi, "/api/v1/pledges/allies")
    assert detail["counts"] == {
        "total": 3,
        "by_role": {"woman": 2, "man": 1},
        "by_country": {"KE": 2, "NL": 1},
    }
    assert [c["required"] for c in detail["commitments"]] == [True, False, False]
    assert detail["follow_through"] == {
        "active_signers": 0,
        "active_share": 0,
        "actions": 0,
        "confirmed_actions": 0,
        "people_reached": 0,
    }

    signers = get_checked(client, openapi, "/api/v1/pledges/allies/signatures")
    names = [s["name"] for s in signers["data"]]
    assert names == ["A member of eMANcipator", "Anonymous ally", "Jens van Tricht"]
    assert signers["next_cursor"] is None

    filtered = get_checked(client, openapi, "/api/v1/pledges/allies/signatures?country=NL")
    assert [s["name"] for s in filtered["data"]] == ["Jens van Tricht"]

    missing = get_checked(client, openapi, "/api/v1/pledges/secret-draft", status=404)
    assert missing["error"]["status"] == 404
    bad = get_checked(client, openapi, "/api/v1/pledges/allies/signatures?cursor=zzz", status=400)
    assert "not valid" in bad["error"]["detail"]


def test_signatures_cursor_paging_walks_everyone_once(client, openapi, app_ctx):
    pledge = make_pledge(slug="allies")
    for n in range(7):
        confirmed_signature(pledge, name=f"Ally {n}")
    seen, cursor = [], None
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = get_checked(client, openapi, f"/api/v1/pledges/allies/signatures{query}")
        seen += [s["name"] for s in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Ally {n}" for n in reversed(range(7))]


def test_pledge_list_cursor_paging(client, openapi, app_ctx):
    for n in range(3):
        make_pledge(slug=f"pledge-{n}")
    first = get_checked(client, openapi, "/api/v1/pledges?limit=2")
    assert [p["slug"] for p in first["data"]] == ["pledge-0", "pledge-1"]
    rest = get_checked(client, openapi, f"/api/v1/pledges?limit=2&cursor={first['next_cursor']}")
    assert [p["slug"] for p in rest["data"]] == ["pledge-2"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/pledges?limit=0", 400),
        ("/api/v1/pledges?limit=abc", 400),
        ("/api/v1/pledges?limit=100000", 400),
        ("/api/v1/pledges?cursor=-1", 400),
        ("/api/v1/nothing-here", 404),
        ("/api/v1/pledges/nope/signatures", 404),
    ],
)
def test_errors_are_json(client, path, status, app_ctx):
    response = client.get(path)
    assert response.status_code == status
    assert response.json["error"]["status"] == status
    assert response.json["error"]["detail"]


def test_api_refuses_writes_with_json(client, app_ctx):
    make_pledge(slug="allies")
    response = client.post("/api/v1/pledges/allies", json={})
    assert response.status_code in (400, 405)
    assert "error" in response.json


def test_api_is_readable_from_partner_sites(client, app_ctx):
    response = client.get("/api/v1/pledges")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.config(API_LIMIT_PER_IP="4 per minute")
def test_too_many_requests_is_a_documented_429_with_retry_after(client, openapi, app_ctx):
    make_pledge(slug="allies")
    for _ in range(4):  # each operation has its own count
        get_checked(client, openapi, "/api/v1/pledges/allies")
    refused = get_checked(client, openapi, "/api/v1/pledges/allies", status=429)
    assert refused["error"]["status"] == 429
    response = client.get("/api/v1/pledges/allies", base_url=BASE)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    document = client.get("/api/v1/openapi.json", base_url=BASE).json
    for operation in document["paths"].values():
        assert operation["get"]["responses"]["429"] == {
            "$ref": "#/components/responses/TooManyRequests"
        }
    assert "Retry-After" in document["components"]["responses"]["TooManyRequests"]["headers"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/api/v1/pledges", {"GET", "HEAD", "OPTIONS"}), ("/api/v1/openapi.json", {"GET", "HEAD"})],
)
def test_a_405_names_the_methods_allowed(client, app_ctx, path, allowed):
    response = client.delete(path)
    assert response.status_code == 405
    assert response.json["error"]["status"] == 405
    assert set(response.headers["Allow"].split(", ")) >= allowed
