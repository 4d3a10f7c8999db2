"""flask payments settle."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.payments import services
from marketplace.payments.views import current_payments
from marketplace.web import db_session

payments_cli = AppGroup("payments", help="Card refunds and payment intents.")


@payments_cli.command("settle")
def settle() -> None:
    """Send the card refunds that could not be sent when they were made (run every few minutes)."""
    checkout_ids = services.unsettled_checkouts(db_session())
    for checkout_id in checkout_ids:
        services.settle_card(db_session(), current_payments(), checkout_id)
        db_session().commit()
    left = len(services.unsettled_checkouts(db_session()))
    click.echo(f"Settled {len(checkout_ids) - left} of {len(checkout_ids)} card checkouts with refunds to send.")
