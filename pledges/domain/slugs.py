"""Slugs: the short names in public addresses (/p/<slug>, /orgs/<slug>)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from flask_babel import lazy_gettext

from pledges.models import SLUG_MAX

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_HINT = lazy_gettext("Lower-case letters, digits and single hyphens, like “allies-for-peace”.")


def slugify(text: str, fallback: str = "item") -> str:
    """ "Femmes & Paix, Goma" -> "femmes-paix-goma": ASCII, lower case, hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or fallback


def unique_slug(base: str, is_taken: Callable[[str], bool]) -> str:
    """``base``, or ``base-2``, ``base-3``… : the first that ``is_taken`` says is free."""
    candidate, n = base, 1
    while is_taken(candidate):
        n += 1
        suffix = f"-{n}"
        candidate = base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
    return candidate
