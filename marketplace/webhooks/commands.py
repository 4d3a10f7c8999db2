"""flask webhooks deliver: the worker that sends partners' webhook deliveries."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import sessionmaker

from marketplace.extensions import db
from marketplace.webhooks.services import Settings
from marketplace.webhooks.worker import deliver_due

webhooks_cli = AppGroup("webhooks", help="Outgoing webhooks for partners.")


@webhooks_cli.command("deliver")
@click.option("--once", is_flag=True, help="Send what is due now, then stop (for cron or a test).")
@click.option("--interval", type=click.IntRange(1, 3600), default=None,
              help="Seconds between polls (default MARKETPLACE_WEBHOOKS_INTERVAL_SECONDS).")
@click.option("--limit", type=click.IntRange(1, 1000), default=None,
              help="Deliveries claimed at a time (default MARKETPLACE_WEBHOOKS_BATCH).")
def deliver(once: bool, interval: int | None, limit: int | None) -> None:
    """Send due webhook deliveries; runs until stopped unless --once. Several may run at once."""
    config = current_app.config["WEBHOOKS"]
    settings = Settings.from_config(config)
    sessions = sessionmaker(bind=db.engine, expire_on_commit=False)
    batch = limit or config["BATCH"]
    pause = interval or config["INTERVAL_SECONDS"]
    while True:
        run = deliver_due(sessions, limit=batch, settings=settings)
        if run.claimed or once:
            click.echo(f"Webhooks: {run.claimed - run.skipped} sent, {run.succeeded} succeeded, {run.failed} failed, "
                       f"{run.dead} dead, {run.lost} lost their lease, {run.skipped} left unsent (lease ran out).")
        if once:
            return
        if run.claimed < batch:  # a full batch means more may be due: go on at once
            time.sleep(pause)
