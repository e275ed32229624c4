"""The one shape of error a service raises when a rule is broken."""

from __future__ import annotations


class RuleError(Exception):
    """A broken rule; ``field`` names the form field the message belongs to, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
