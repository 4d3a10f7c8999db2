"""`flask demo load`: see marketplace/demo/data.py for what it creates."""

from __future__ import annotations

import click
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data for trying Pasar KUBE.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only load when the database has no users yet.")
def load_command(if_empty: bool) -> None:
    """Create (or complete) the demo KUBEs, products and sign-ins. Safe to run twice."""
    raise click.ClickException("not written yet")
