"""ISO 3166-1 countries (pycountry), named in the reader's language (CLDR, through Babel)."""

from __future__ import annotations

import unicodedata
from functools import cache

import pycountry
from babel import Locale


def current_locale() -> str:
    """The request's language, or English outside a request."""
    try:
        from flask_babel import get_locale

        locale = get_locale()
    except RuntimeError:  # no app context
        return "en"
    return str(locale) if locale else "en"


def _sort_key(name: str) -> str:
    # "Égypte" sorts with E, not after Z.
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def _names(locale: str) -> dict[str, str]:
    english = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    if locale.startswith("en"):
        names = english  # pycountry's common English names, as the app always used
    else:
        territories = Locale.parse(locale).territories
        names = {code: territories.get(code) or name for code, name in english.items()}
    return dict(sorted(names.items(), key=lambda pair: _sort_key(pair[1])))


def country_names(locale: str | None = None) -> dict[str, str]:
    """Alpha-2 code -> country name in ``locale`` (default: the request's), sorted by name."""
    return _names(locale or current_locale())


def country_name(code: str, locale: str | None = None) -> str:
    return country_names(locale).get(code, code)


def is_country(code: str | None) -> bool:
    return bool(code) and code in _names("en")
