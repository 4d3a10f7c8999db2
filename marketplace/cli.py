"""Command-line tasks: `flask demo load`, `flask search reindex`, `flask orders expire`, `flask payments settle`,
`flask backup`, `flask restore`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.backup.commands import backup_command, restore_command
    from marketplace.demo.commands import demo_cli
    from marketplace.orders.commands import orders_cli
    from marketplace.payments.commands import payments_cli
    from marketplace.search.commands import search_cli
    from marketplace.webhooks.commands import webhooks_cli

    app.cli.add_command(demo_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(orders_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(webhooks_cli)
