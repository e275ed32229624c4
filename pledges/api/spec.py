"""The OpenAPI 3.1 description of the API, built from the same enums the models use."""

from __future__ import annotations

from typing import Any

from flask import current_app

from pledges.domain.countries import country_names
from pledges.infrastructure.urls import base_url
from pledges.models import AllyRole, PledgeStatus

NULLABLE_STRING = {"type": ["string", "null"]}
# Public times are days (UTC), never times of day: a time would help tie entries together.
DAY = {"type": ["string", "null"], "format": "date"}
COUNTRY_CODE = {"type": "string", "pattern": "^[A-Z]{2}$"}


def _schemas() -> dict[str, Any]:
    count_map = {
        "type": "object",
        "description": (
            "Counts by key. Small-count protection: a count from 1 to `min_public_count` - 1 "
            "is given as null, read 'fewer than min_public_count'. Where only one count is "
            "that small, the smallest other one is null too (withheld), so the small one "
            "cannot be worked out from the total. The total is exact."
        ),
        "additionalProperties": {"type": ["integer", "null"], "minimum": 1},
    }
    return {
        "Links": {
            "type": "object",
            "required": ["self", "html", "wall", "signatures"],
            "properties": {
                name: {"type": "string", "format": "uri"}
                for name in ("self", "html", "wall", "signatures")
            },
            "additionalProperties": False,
        },
        "PledgeSummary": {
            "type": "object",
            "required": [
                "slug",
                "title",
                "status",
                "goal",
                "signature_count",
                "opened_at",
                "links",
            ],
            "properties": {
                "slug": {"type": "string"},
                "title": {"type": "string"},
                "status": {"enum": [PledgeStatus.OPEN.value, PledgeStatus.CLOSED.value]},
                "goal": {"type": ["integer", "null"], "minimum": 1},
                "signature_count": {"type": "integer", "minimum": 0},
                "opened_at": {**DAY, "description": "The UTC day the pledge opened."},
                "links": {"$ref": "#/components/schemas/Links"},
            },
        },
        "Commitment": {
            "type": "object",
            "required": ["id", "position", "text", "required"],
            "properties": {
                "id": {"type": "integer"},
                "position": {"type": "integer"},
                "text": {"type": "string"},
                "required": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "PledgeDetail": {
            "allOf": [{"$ref": "#/components/schemas/PledgeSummary"}],
            "type": "object",
            "required": [
                "language",
                "languages",
                "preamble",
                "guidelines",
                "checkin_cadence_days",
                "organization",
                "commitments",
                "counts",
                "follow_through",
            ],
            "properties": {
                "language": {
                    "type": "string",
                    "description": "The language of the title, preamble, guidelines and "
                    "commitments: the reader's (Accept-Language, ?lang= or ?content=) where "
                    "the pledge is translated into it, else the pledge's own. Guidelines or a "
                    "commitment not translated into it are in the pledge's own language.",
                },
                "languages": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "The pledge's own language, then its translations.",
                },
                "preamble": {"type": "string"},
                "guidelines": {"type": "string"},
                "checkin_cadence_days": {"type": "integer", "minimum": 1},
                "organization": {
                    "oneOf": [
                        {"type": "null"},
                        {
                            "type": "object",
                            "required": ["slug", "name"],
                            "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
                        },
                    ]
                },
                "commitments": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Commitment"},
                },
                "counts": {
                    "type": "object",
                    "required": ["total", "min_public_count", "by_role", "by_country"],
                    "properties": {
                        "total": {"type": "integer", "minimum": 0},
                        "min_public_count": {"type": "integer", "minimum": 1},
                        "by_role": {
                            **count_map,
                            "propertyNames": {"enum": [r.value for r in AllyRole]},
                        },
                        "by_country": {**count_map, "propertyNames": COUNTRY_CODE},
                    },
                },
                "follow_through": {
                    "type": "object",
                    "description": (
                        "Confirmed signers who logged an action in their current check-in "
                        "cycle, and the actions logged (public and private), confirmed by an "
                        "accountability partner, and the people they reached."
                    ),
                    "required": [
                        "active_signers",
                        "active_share",
                        "actions",
                        "confirmed_actions",
                        "people_reached",
                    ],
                    "properties": {
                        "active_signers": {"type": "integer", "minimum": 0},
                        "active_share": {"type": "number", "minimum": 0, "maximum": 1},
                        "actions": {"type": "integer", "minimum": 0},
                        "confirmed_actions": {"type": "integer", "minimum": 0},
                        "people_reached": {"type": "integer", "minimum": 0},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "Signer": {
            "type": "object",
            "description": (
                "A signer the public pages show, only as they chose: anonymous signers appear "
                "as 'Anonymous ally'. Names that the site writes itself ('Anonymous ally', "
                "'A member of …') follow the request's language (Accept-Language or ?lang=). "
                "Emails are never included. `id` is random and changes whenever the way the "
                "signer appears changes. `country` is null for an anonymous or "
                "organization-only signer whose country has too few such signers on the "
                "pledge; `role` is null unless the signer chose to show it."
            ),
            "required": [
                "id",
                "name",
                "organization",
                "country",
                "country_name",
                "role",
                "note",
                "public_since",
            ],
            "properties": {
                "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
                "name": {"type": "string"},
                "organization": NULLABLE_STRING,
                "country": {"oneOf": [{"type": "null"}, COUNTRY_CODE]},
                "country_name": NULLABLE_STRING,
                "role": {"enum": [*(r.value for r in AllyRole), None]},
                "note": {"type": "string"},
                "public_since": {
                    **DAY,
                    "description": "The UTC day from which the signer is shown publicly.",
                },
            },
            "additionalProperties": False,
        },
        "PledgeList": _page_of("PledgeSummary"),
        "SignerList": _page_of("Signer"),
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["status", "title", "detail"],
                    "properties": {
                        "status": {"type": "integer"},
                        "title": {"type": "string"},
                        "detail": {"type": "string"},
                    },
                }
            },
        },
    }


def _page_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data", "next_cursor"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last page.",
            },
        },
        "additionalProperties": False,
    }


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json("Error")}


#: Every operation counts against API_LIMIT_PER_IP; past it, the client is told how long
#: to wait (RFC 9110 Retry-After, in seconds) and where it stands (X-RateLimit-*).
TOO_MANY_REQUESTS = {
    "description": "Too many requests from this address: wait `Retry-After` seconds.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before the next request is accepted.",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        },
        "X-RateLimit-Limit": {
            "description": "Requests allowed in the current window.",
            "schema": {"type": "integer", "minimum": 0},
        },
        "X-RateLimit-Remaining": {
            "description": "Requests left in the current window.",
            "schema": {"type": "integer", "minimum": 0},
        },
        "X-RateLimit-Reset": {
            "description": "When the window resets, in seconds since the Unix epoch.",
            "schema": {"type": "integer", "minimum": 0},
        },
    },
    "content": _json("Error"),
}


LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": "Items per page.",
    "schema": {"type": "integer", "minimum": 1, "default": 50},
}
CURSOR = {
    "name": "cursor",
    "in": "query",
    "required": False,
    "description": "`next_cursor` from the previous page.",
    "schema": {"type": "string"},
}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document() -> dict[str, Any]:
    maximum = current_app.config["API_MAX_LIMIT"]
    limit = {**LIMIT, "schema": {**LIMIT["schema"], "maximum": maximum}}
    base = base_url()  # the address this request came to, in development without BASE_URL
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Joining Forces public API",
            "version": "1.0.0",
            "description": (
                "Read-only access to public pledges and their confirmed signers, each shown "
                "only as they chose to be shown."
            ),
        },
        "servers": [{"url": f"{base}/api/v1"}],
        "paths": {
            "/pledges": {
                "get": {
                    "operationId": "listPledges",
                    "summary": "Open and closed pledges, oldest first",
                    "parameters": [limit, CURSOR],
                    "responses": {
                        "200": {"description": "A page of pledges", "content": _json("PledgeList")},
                        "400": _error("A parameter is not valid"),
                        "429": {"$ref": "#/components/responses/TooManyRequests"},
                    },
                }
            },
            "/pledges/{slug}": {
                "get": {
                    "operationId": "getPledge",
                    "summary": "A pledge with its commitments and counts",
                    "parameters": [SLUG],
                    "responses": {
                        "200": {"description": "The pledge", "content": _json("PledgeDetail")},
                        "404": _error("No public pledge has this slug"),
                        "429": {"$ref": "#/components/responses/TooManyRequests"},
                    },
                }
            },
            "/pledges/{slug}/signatures": {
                "get": {
                    "operationId": "listSignatures",
                    "summary": "Confirmed signers, newest first",
                    "parameters": [
                        SLUG,
                        limit,
                        CURSOR,
                        {
                            "name": "country",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": sorted(country_names())},
                        },
                        {
                            "name": "role",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": [r.value for r in AllyRole]},
                        },
                    ],
                    "responses": {
                        "200": {"description": "A page of signers", "content": _json("SignerList")},
                        "400": _error("A parameter is not valid"),
                        "404": _error("No public pledge has this slug"),
                        "429": {"$ref": "#/components/responses/TooManyRequests"},
                    },
                }
            },
        },
        "components": {
            "schemas": _schemas(),
            "responses": {"TooManyRequests": TOO_MANY_REQUESTS},
        },
    }
