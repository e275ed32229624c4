"""How an entry will look on the wall, shown beside the choices that shape it.

Rendered by the wall's own ``public_signer`` from a signature that is never saved, so the
examples cannot drift from what the wall does. The static examples show an unnamed entry
with its country (as in a crowd big enough); the signer's own entry is shown as the pledge
stands now, without the country where too few unnamed signers share it.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from flask_babel import lazy_gettext

from pledges.models import AllyRole, Signature, Visibility
from pledges.presentation.display import (
    VISIBILITY_LABELS,
    PublicSigner,
    crowded_countries,
    public_signer,
)
from pledges.signing.forms import shows_role_by_default

EXAMPLE_NAME = "Amina Odhiambo"
EXAMPLE_ORGANIZATION = lazy_gettext("Women Peacemakers Network")
EXAMPLE_COUNTRY = "KE"


@dataclass(frozen=True)
class Example:
    choice: str  # the visibility's label: "My first name and last initial"
    signer: PublicSigner

    @property
    def visibility(self) -> str:
        """The choice it shows, to set it beside that choice's radio button."""
        return self.signer.visibility


def _entry(
    *,
    name: str,
    organization: str,
    country: str,
    role: str,
    visibility: str,
    show_role: bool,
    crowded: Container[str],
) -> PublicSigner:
    unsaved = Signature(
        full_name=name,
        organization_name=organization,
        country=country,
        role=role,
        visibility=visibility,
        show_role=show_role,
        personal_note="",
    )
    return public_signer(unsaved, crowded)


def static_examples(country: str | None = None, role: str | None = None) -> list[Example]:
    """One example per visibility, each with the role shown as it is by default."""
    return [
        Example(
            choice=str(VISIBILITY_LABELS.lazy(visibility)),
            signer=_entry(
                name=EXAMPLE_NAME,
                organization=str(EXAMPLE_ORGANIZATION),
                country=country or EXAMPLE_COUNTRY,
                role=role or AllyRole.WOMAN,
                visibility=visibility,
                show_role=shows_role_by_default(visibility),
                crowded={country or EXAMPLE_COUNTRY},
            ),
        )
        for visibility in Visibility
    ]


def live_example(
    pledge_id: int,
    *,
    name: str,
    organization: str,
    country: str,
    role: str,
    visibility: str,
    show_role: bool,
) -> PublicSigner:
    """The signer's own entry, from what they sent, as the pledge's wall would show it now."""
    return _entry(
        name=name,
        organization=organization,
        country=country,
        role=role,
        visibility=visibility,
        show_role=show_role,
        crowded=crowded_countries(pledge_id),
    )
