"""Pledges and signers as the API shows them; the OpenAPI schemas describe these shapes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pledges.domain.content import pledge_content
from pledges.domain.tallies import Tally
from pledges.infrastructure.urls import external_url
from pledges.models import Pledge
from pledges.presentation.display import PublicSigner, min_public_count, public_counts


def day(value: date | datetime | None) -> str | None:
    """A public time as its UTC day: "2026-03-02"."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()


def counts(values: dict[str, int]) -> dict[str, int | None]:
    """Counts by key; null for a small one (1 to MIN_PUBLIC_COUNT - 1), and for the one more
    withheld where a lone small count could be worked out from the total."""
    return {cell.key: cell.count for cell in public_counts(values)}


def pledge_summary(pledge: Pledge, total: int, title: str | None = None) -> dict[str, Any]:
    """``title``: the pledge's title in the reader's language, if not its own."""
    return {
        "slug": pledge.slug,
        "title": title or pledge.title,
        "status": pledge.status,
        "goal": pledge.goal,
        "signature_count": total,
        "opened_at": day(pledge.opened_at),
        "links": {
            "self": external_url("api.pledge", slug=pledge.slug),
            "html": external_url("signing.sign", slug=pledge.slug),
            "wall": external_url("wall.wall", slug=pledge.slug),
            "signatures": external_url("api.signatures", slug=pledge.slug),
        },
    }


def pledge_detail(pledge: Pledge, tally: Tally) -> dict[str, Any]:
    """The pledge in the reader's language where translated (Accept-Language, ?lang= or
    ?content=), else in its own; ``language`` says which."""
    organization = pledge.organization
    content = pledge_content(pledge)
    return {
        **pledge_summary(pledge, tally.total, content.title),
        "language": content.language,
        "languages": [pledge.language, *(t.locale for t in pledge.translations)],
        "preamble": content.preamble,
        "guidelines": content.guidelines,
        "checkin_cadence_days": pledge.checkin_cadence_days,
        "organization": (
            {"slug": organization.slug, "name": organization.name} if organization else None
        ),
        "commitments": [
            {"id": c.id, "position": c.position, "text": c.text, "required": c.required}
            for c in content.offered_commitments
        ],
        "counts": {
            "total": tally.total,
            "min_public_count": min_public_count(),
            "by_role": counts(tally.by_role),
            "by_country": counts(tally.by_country),
        },
        "follow_through": {
            "active_signers": tally.active_signers,
            "active_share": round(tally.active_share, 4),
            "actions": tally.actions,
            "confirmed_actions": tally.confirmed_actions,
            "people_reached": tally.people_reached,
        },
    }


def signer(entry: PublicSigner) -> dict[str, Any]:
    return {
        "id": entry.public_id,
        "name": entry.name,
        "organization": entry.organization,
        "country": entry.country,
        "country_name": entry.country_name,
        "role": entry.role,
        "note": entry.note,
        "public_since": day(entry.since),
    }
