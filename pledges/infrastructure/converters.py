"""Reading whole numbers from URLs, query strings and forms.

Ids are Integer columns: PostgreSQL refuses a number past 2**31 - 1 and SQLite one past
2**63 - 1, so a bigger number from outside is treated like any other id that is not there.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1


def positive_int(raw: str | None, maximum: int = MAX_ID) -> int | None:
    """``raw`` as a whole number from 1 to ``maximum`` if it is only ASCII digits, else None.

    ``str.isdigit`` alone lets through "²" (which ``int`` refuses) and digit strings too long
    for ``int`` or for the database.
    """
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    digits = raw.lstrip("0")
    if not digits or len(digits) > len(str(maximum)):
        return None
    number = int(digits)
    return number if number <= maximum else None


class BoundedIntegerConverter(IntegerConverter):
    """The app's ``<int:...>``: ASCII digits up to ``MAX_ID``, so a larger id is a 404."""

    regex = r"[0-9]+"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = -MAX_ID - 1,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)
