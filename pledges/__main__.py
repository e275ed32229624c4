"""The ``pledges`` command: Flask's CLI with the app preset, plus the app's own commands
(``pledges/cli.py``, registered by ``create_app``). Also ``python -m pledges``."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from pledges import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app())
def main() -> None:
    """Joining Forces: pledges for gender-sensitive peacebuilding."""


if __name__ == "__main__":
    main()
