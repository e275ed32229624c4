"""ISO 3166-1 countries, from pycountry."""

from __future__ import annotations

from functools import cache

import pycountry


@cache
def country_names() -> dict[str, str]:
    """Alpha-2 code -> common English name, sorted by name."""
    pairs = [(c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries]
    return dict(sorted(pairs, key=lambda pair: pair[1]))


def country_name(code: str) -> str:
    return country_names().get(code, code)


def is_country(code: str | None) -> bool:
    return bool(code) and code in country_names()
