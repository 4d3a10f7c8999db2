"""`flask demo load`: see marketplace/demo/data.py for what it creates."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.demo.loader import DemoSummary, load_demo
from marketplace.extensions import db

demo_cli = AppGroup("demo", help="Demo data for trying Pasar KUBE.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only load when the database has no users yet.")
@click.option("--force", is_flag=True, help="Load even in production (it creates accounts with a public password).")
@click.option(
    "--image-scale",
    type=click.FloatRange(0.05, 1.0),
    default=1.0,
    show_default=True,
    help="Draw the pictures at this fraction of their full size (faster; the counts stay the same).",
)
def load_command(if_empty: bool, force: bool, image_scale: float) -> None:
    """Create (or complete) the demo KUBEs, products and sign-ins. Safe to run twice."""
    if current_app.config.get("ENV_NAME") == "production" and not force:
        raise click.ClickException(
            "Refusing to load demo data in production: it creates an operator whose password is public. "
            "Use --force if you really mean it."
        )
    session: Session = db.session  # type: ignore[assignment]
    if if_empty and session.scalar(select(User.id).limit(1)) is not None:
        click.echo("The database already has users: demo data not loaded (drop --if-empty to complete it).")
        return
    summary = load_demo(session, current_app.config["MEDIA_ROOT"], image_scale=image_scale,
                        fee_bps=current_app.config["PLATFORM_FEE_BPS"],
                        private_media_root=current_app.config["PRIVATE_MEDIA_ROOT"])
    session.commit()
    click.echo(_describe(summary))


def _describe(summary: DemoSummary) -> str:
    created = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in summary.created.items() if count)
    lines = [
        f"Demo data ready in {summary.seconds:.1f} s: {summary.kubes} KUBEs, {summary.products} products "
        f"({summary.photos} photos), {summary.categories} categories, {summary.users} users.",
        f"Created now: {created}." if created else "Nothing was missing: the demo data was already there.",
        f"Sign in with password '{summary.password}':",
    ]
    width = max(len(s.email) for s in summary.sign_ins)
    lines += [f"  {s.email:<{width}}  {s.role}" for s in summary.sign_ins]
    return "\n".join(lines)
