"""flask orders expire."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.orders import services
from marketplace.web import db_session

orders_cli = AppGroup("orders", help="Orders and checkouts.")


@orders_cli.command("expire")
def expire() -> None:
    """Expire unpaid orders past their payment window and give their stock back (run every few minutes)."""
    count = services.expire_due(db_session())
    db_session().commit()
    click.echo(f"Expired {count} unpaid orders.")
