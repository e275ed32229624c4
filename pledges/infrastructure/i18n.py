"""Languages: which one a request is answered in, and the means to switch.

The order of choice: ``?lang=xx`` (remembered in a cookie), then that cookie, then the
browser's Accept-Language (best match among SUPPORTED_LOCALES), then the first supported
locale. A response whose language came from a header is marked ``Vary: Accept-Language,
Cookie`` so shared caches keep languages apart; the wall's own cache puts the locale in
its key (pledges/wall/cache.py).

Emails are rendered when they are queued, so they are in the language of the request
that queued them; mail to a signer is rendered in the language they signed in
(``signer_language``), even outside a request (check-in reminders). The pledge's own
words have languages of their own: see pledges/domain/content.py.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

from babel import Locale
from flask import Flask, Response, current_app, g, has_request_context, request
from flask_babel import force_locale, get_locale, refresh

from pledges.config import TRANSLATIONS_DIR

LOCALE_COOKIE = "lang"
LOCALE_PARAM = "lang"
LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str  # in the language itself: "Français", never "French"
    href: str
    current: bool
    direction: str  # "rtl" for Arabic, Urdu…: the name is set in its own direction


def supported_locales() -> tuple[str, ...]:
    return tuple(current_app.config["SUPPORTED_LOCALES"])


def _supported(code: str | None) -> str | None:
    return code if code and code in supported_locales() else None


def select_locale() -> Locale:
    """Called by Flask-Babel once per request (or app context), the first time it is asked."""
    return _locale(_select_locale_code())


#: Flask-Babel parses the selector's answer on every request unless it is a Locale already.
_locale = functools.cache(Locale.parse)


def _select_locale_code() -> str:
    fallback = supported_locales()[0]
    if not has_request_context():
        return fallback
    chosen = _supported(request.args.get(LOCALE_PARAM))
    if chosen:
        g.locale_chosen = chosen
        return chosen
    # From here on the answer depends on request headers: say so to caches.
    g.locale_negotiated = True
    return _supported(request.cookies.get(LOCALE_COOKIE)) or _accepted_language() or fallback


def _accepted_language() -> str | None:
    """The browser's most preferred language the interface speaks, a regional variant
    counting as its language: "ur-PK, en;q=0.5" is Urdu. (Werkzeug's ``best_match`` takes an
    exact match of any quality first, and gave such a reader English.)"""
    supported = supported_locales()
    for value, _quality in request.accept_languages:  # most preferred first
        code = value.replace("-", "_")
        for candidate in (code, code.split("_")[0].lower()):
            if candidate in supported:
                return candidate
    return None


def forget_locale(*_args: object) -> None:
    """Each request chooses afresh. Flask-Babel keeps its choice on ``g``, and a request
    made inside an existing app context (a test, a CLI command) shares that context's ``g``."""
    refresh()
    g.pop("locale_chosen", None)
    g.pop("locale_negotiated", None)


def remember_choice(response: Response) -> Response:
    chosen = g.pop("locale_chosen", None)
    if chosen and request.cookies.get(LOCALE_COOKIE) != chosen:
        response.set_cookie(
            LOCALE_COOKIE,
            chosen,
            max_age=LOCALE_COOKIE_MAX_AGE,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
        )
    if g.pop("locale_negotiated", False):
        # One update: each ``response.vary`` access parses the header, each add rewrites it.
        response.vary.update(("Accept-Language", "Cookie"))
    return response


@contextmanager
def signer_language(locale: str | None) -> Iterator[None]:
    """Render mail or a document for a signer in ``locale`` (their Signature.locale) when
    the interface speaks it; otherwise in the current language (the fallback outside a
    request)."""
    if _supported(locale):
        with force_locale(locale):
            yield
    else:
        yield


def text_direction(locale: Locale | str | None = None) -> str:
    """ "rtl" for right-to-left scripts (Urdu, Arabic…), else "ltr"."""
    locale = Locale.parse(locale) if locale else (get_locale() or Locale.parse("en"))
    return "rtl" if locale.character_order == "right-to-left" else "ltr"


def arrow(rel: str) -> str:
    """The arrow for a "next"/"prev" link that points the way the page reads: "Older →" in
    English, "أقدم ←" in Arabic (Unicode does not mirror arrows, so the template picks)."""
    forward = rel == "next"
    if text_direction() == "rtl":
        forward = not forward
    return "→" if forward else "←"


def html_lang() -> str:
    locale = get_locale()
    return str(locale).replace("_", "-") if locale else "en"


def language_name(code: str) -> str:
    """A language named in itself, capitalised as a menu item: English, Français, Español."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def page_query(*leave_out: str) -> list[tuple[str, str]]:
    """This request's query parameters, less ``leave_out``, for links to the same page.

    A page rendered for the shared cache keeps only the parameters its cache key stands
    for (``g.page_params``): another visitor's tracking tag or stray value never reaches
    the copy everyone is served.
    """
    kept = g.get("page_params")
    return [
        (k, v)
        for k, v in request.args.items(multi=True)
        if k not in leave_out and (kept is None or k in kept)
    ]


def language_links() -> list[LanguageLink]:
    """Links to this page in each supported language (plain links: no script needed)."""
    current = str(get_locale())
    others = page_query(LOCALE_PARAM)
    return [
        LanguageLink(
            code=code,
            name=language_name(code),
            href=request.path + "?" + urlencode([*others, (LOCALE_PARAM, code)]),
            current=code == current,
            direction=text_direction(code),
        )
        for code in supported_locales()
    ]


def init_app(app: Flask) -> None:
    from pledges.extensions import babel

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["SUPPORTED_LOCALES"][0])
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(forget_locale)
    app.after_request(remember_choice)
    app.teardown_request(forget_locale)
