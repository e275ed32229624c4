"""What the views share: committing a service's change, or showing why it was refused."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash, get_flashed_messages

from pledges.domain.rules import RuleError
from pledges.extensions import db
from pledges.forms import attach_error


@dataclass
class Outcome:
    committed: bool = False


# A message meant for one section of a page rides in its category: "success section-actions".
# A page that knows its sections shows it there; any other page shows it at the top, where
# the category's first word styles it as usual.
_SECTION_MARK = " section-"


def flash_in_section(message: str, section: str, category: str = "success") -> None:
    """Flash ``message`` for the section (the ``#anchor``) a redirect lands on, so it is
    shown where the person's eyes are after the jump, not at the top of a long page."""
    flash(message, f"{category}{_SECTION_MARK}{section}")


def messages_by_section() -> dict[str | None, list[tuple[str, str]]]:
    """This request's flashed messages as {section or None: [(category, message)]}."""
    grouped: dict[str | None, list[tuple[str, str]]] = defaultdict(list)
    for category, message in get_flashed_messages(with_categories=True):
        category, _, section = category.partition(_SECTION_MARK)
        grouped[section or None].append((category, message))
    return grouped


@contextmanager
def commit_or_show_error(form=None, section: str | None = None) -> Iterator[Outcome]:
    """Run a service call in the ``with`` block and commit it once.

    A broken rule (a ``RuleError``) rolls the session back and is shown where the person
    looks: on the form's field it names, or flashed as an error when there is no form (a
    lone button that redirects; into the ``section`` it redirects to, if given). The view
    reads ``outcome.committed`` to flash its success and redirect, or to render the form
    again::

        with commit_or_show_error(form) as outcome:
            pledge = service.create_pledge(...)
        if outcome.committed:
            flash(...)
            return redirect(...)
    """
    outcome = Outcome()
    try:
        yield outcome
    except RuleError as error:
        db.session.rollback()
        if form is None and section is not None:
            flash_in_section(error.message, section, "error")
        elif form is None:
            flash(error.message, "error")
        else:
            attach_error(form, error)
    else:
        db.session.commit()
        outcome.committed = True
