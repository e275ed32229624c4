"""What the views share: committing a service's change, or showing why it was refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash

from pledges.domain.rules import RuleError
from pledges.extensions import db
from pledges.forms import attach_error


@dataclass
class Outcome:
    committed: bool = False


@contextmanager
def commit_or_show_error(form=None) -> Iterator[Outcome]:
    """Run a service call in the ``with`` block and commit it once.

    A broken rule (a ``RuleError``) rolls the session back and is shown where the person
    looks: on the form's field it names, or flashed as an error when there is no form (a
    lone button that redirects). The view reads ``outcome.committed`` to flash its success
    and redirect, or to render the form again::

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
        if form is None:
            flash(error.message, "error")
        else:
            attach_error(form, error)
    else:
        db.session.commit()
        outcome.committed = True
