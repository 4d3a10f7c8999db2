"""Command-line tasks: `flask demo load` and friends."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.demo.commands import demo_cli

    app.cli.add_command(demo_cli)
