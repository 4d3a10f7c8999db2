"""flask backup [--output PATH] and flask restore PATH [--force] (docs/backup.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from marketplace.backup import services
from marketplace.common import DomainError, utcnow
from marketplace.extensions import db


def _database_url() -> str:
    # The engine's URL: Flask-SQLAlchemy has already made a relative SQLite path absolute.
    return db.engine.url.render_as_string(hide_password=False)


def _media_roots() -> dict[str, str]:
    return {setting: current_app.config[setting] for setting in services.MEDIA_DIRS}


def _revisions() -> tuple[set[str], str | None]:
    """Every schema revision this code's migrations know, and the newest."""
    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    scripts = ScriptDirectory.from_config(config)
    return {script.revision for script in scripts.walk_revisions()}, scripts.get_current_head()


@click.command("backup")
@click.option("--output", type=click.Path(path_type=Path),
              help="A .tar.gz file, or a new directory (default: instance/backups/pasarkube-<time>.tar.gz).")
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Back up the database and the media directories while the app runs."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    output = output or Path(current_app.instance_path) / "backups" / f"pasarkube-{stamp}.tar.gz"
    db.session.remove()  # hold no transaction of our own while the copy runs
    try:
        manifest = services.backup(_database_url(), _media_roots(), output, pg_dump=shutil.which("pg_dump"))
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    rows = sum(manifest.counts.values())
    click.echo(f"Backed up {rows} rows in {len(manifest.counts)} tables "
               f"(schema revision {manifest.schema_revision or 'none'}) and {', '.join(manifest.media) or 'no media'} "
               f"to {output}.")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that already holds rows.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore a backup made by `flask backup` into this app's database and media directories."""
    known, head = _revisions()
    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours may hold the tables pg_restore drops
    try:
        restored = services.restore(_database_url(), _media_roots(), path, known_revisions=known,
                                    head_revision=head, force=force, pg_restore=shutil.which("pg_restore"))
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    manifest = restored.manifest
    click.echo(f"Restored {sum(manifest.counts.values())} rows in {len(manifest.counts)} tables from the backup "
               f"of {manifest.created_at}; the counts match the manifest.")
    if restored.needs_upgrade:
        click.echo(f"The backup's schema ({manifest.schema_revision}) is older than this code's ({head}): "
                   "run `flask db upgrade` now.")
