"""flask backup / flask restore: an online, consistent backup while the app writes; a restore into a fresh
database that the app then serves; refusals (a database with rows, a damaged file, an unknown schema, links and
special files in a crafted backup); a forced restore over a newer schema; backups readable by their owner only."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from marketplace.backup import services
from marketplace.catalog.models import ProductPhoto
from marketplace.extensions import db
from marketplace.media import image_path, store_image
from marketplace.orders.models import Notification
from tests import factories
from tests.conftest import make_app
from tests.faults.server import sqlite_wal

RECEIPT = Path("receipts") / "2026" / "transfer-1.jpg"


def _kind(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture
def restore_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database to restore into: a new file, or a scratch database on the PostgreSQL server."""
    if _kind(database_url) == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'restored.sqlite3'}"
        return
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (the PostgreSQL client tools)")
    url = make_url(database_url)
    scratch = f"{url.database}_restore"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        yield url.set(database=scratch).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def _seed(app: Flask, session: Session) -> tuple[factories.World, ProductPhoto]:
    world = factories.build_world(session)
    stored = store_image(factories.png_bytes(), app.config["MEDIA_ROOT"], max_bytes=10**6, max_pixels=10**6)
    photo = ProductPhoto(product_id=world.product_a.id, key=stored.key, width=stored.width, height=stored.height)
    session.add(photo)
    session.commit()
    receipt = Path(app.config["PRIVATE_MEDIA_ROOT"]) / RECEIPT
    receipt.parent.mkdir(parents=True)
    receipt.write_bytes(b"a transfer receipt")
    return world, photo


class Writer(threading.Thread):
    """Another process's worth of writes: notifications inserted and committed one by one on its own
    connection, until stopped."""

    def __init__(self, database_url: str, user_id: int) -> None:
        super().__init__()
        self.engine = create_engine(database_url, poolclass=NullPool)
        self.user_id = user_id
        self.written = 0
        self.stop = threading.Event()
        self.started_writing = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set() or self.written < 20:
                with self.engine.begin() as conn:
                    conn.execute(insert(Notification).values(user_id=self.user_id, message="tick", params={}))
                self.written += 1
                if self.written >= 10:
                    self.started_writing.set()
        finally:
            self.started_writing.set()
            self.engine.dispose()


def _manifest_of(archive: Path) -> services.Manifest:
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(services.MANIFEST)
        assert member is not None
        with member:
            return services.Manifest.from_json(member.read().decode())


def test_backup_while_writing_then_restore_into_a_fresh_database(
    app: Flask, session: Session, database_url: str, restore_url: str, tmp_path: Path
) -> None:
    world, photo = _seed(app, session)
    product_url = f"/product/{world.product_a.id}/{world.product_a.slug}"
    buyer_id, photo_key = world.buyer.id, photo.key
    archive = tmp_path / "backups" / "nightly.tar.gz"
    with sqlite_wal(database_url):
        writer = Writer(database_url, buyer_id)
        writer.start()
        try:
            assert writer.started_writing.wait(30)
            result = app.test_cli_runner().invoke(args=["backup", "--output", str(archive)])
        finally:
            writer.stop.set()
            writer.join(60)
            db.session.remove()
            db.engine.dispose()  # the journal mode goes back only when no connection is open
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and archive.is_file()

    manifest = _manifest_of(archive)
    assert manifest.database == _kind(database_url)
    assert manifest.counts["products"] == 3 and manifest.counts["product_photos"] == 1
    assert manifest.counts["users"] == 8 and manifest.counts["kubes"] == 2
    # Taken while the writer was going: some of its rows are in, the later ones are not.
    assert 10 <= manifest.counts["notifications"] < writer.written
    assert manifest.media == ["media", "private-media"]
    assert len(manifest.sha256) == 64 and manifest.created_at

    target = make_app(restore_url, tmp_path / "restored")
    with target.app_context():
        try:
            result = target.test_cli_runner().invoke(args=["restore", str(archive)])
            assert result.exit_code == 0, result.output
            assert "counts match the manifest" in result.output
            # The app starts on the restored database and shows the same rows.
            assert services.database_counts(restore_url) == manifest.counts
            client = target.test_client()
            page = client.get(product_url)
            assert page.status_code == 200 and "Minyak Kelapa A" in page.get_data(as_text=True)
            assert image_path(target.config["MEDIA_ROOT"], photo_key).read_bytes() == image_path(
                app.config["MEDIA_ROOT"], photo_key).read_bytes()
            assert (Path(target.config["PRIVATE_MEDIA_ROOT"]) / RECEIPT).read_bytes() == b"a transfer receipt"

            # Now the database holds rows: a second restore is refused unless forced.
            again = target.test_cli_runner().invoke(args=["restore", str(archive)])
            assert again.exit_code == 1 and "--force" in again.output
            forced = target.test_cli_runner().invoke(args=["restore", str(archive), "--force"])
            assert forced.exit_code == 0, forced.output
            assert services.database_counts(restore_url) == manifest.counts
        finally:
            db.session.remove()
            db.engine.dispose()


def test_directory_backup_and_what_restore_refuses(
    app: Flask, session: Session, database_url: str, restore_url: str, tmp_path: Path
) -> None:
    _seed(app, session)
    folder = tmp_path / "backup-dir"
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(folder)])
    assert result.exit_code == 0, result.output
    manifest = services.read_manifest(folder)
    assert (folder / manifest.database_file).is_file() and (folder / "media").is_dir()
    # Never over an existing backup.
    again = app.test_cli_runner().invoke(args=["backup", "--output", str(folder)])
    assert again.exit_code == 1 and "already exists" in again.output

    target = make_app(restore_url, tmp_path / "restored")

    def restore_of(edit: dict[str, object] | None = None, damage: bool = False) -> str:
        copy = tmp_path / f"copy-{len(list(tmp_path.glob('copy-*')))}"
        shutil.copytree(folder, copy)
        if edit is not None:
            data = json.loads((copy / services.MANIFEST).read_text())
            data.update(edit)
            (copy / services.MANIFEST).write_text(json.dumps(data))
        if damage:
            with (copy / manifest.database_file).open("ab") as handle:
                handle.write(b"\0")
        with target.app_context():
            outcome = target.test_cli_runner().invoke(args=["restore", str(copy)])
            db.engine.dispose()
        assert outcome.exit_code == 1, outcome.output
        return outcome.output

    assert "damaged" in restore_of(damage=True)
    assert "does not know" in restore_of({"schema_revision": "ffffffffffff"})
    other = "postgresql" if manifest.database == "sqlite" else "sqlite"
    assert "backup of a" in restore_of({"database": other})
    assert "manifest cannot be read" in restore_of({"counts": "many"})
    assert "no backup" in target.test_cli_runner().invoke(args=["restore", str(tmp_path / "nothing")]).output
    # Nothing was restored by any of these.
    assert sum(services.database_counts(restore_url).values()) == 0


def test_without_pg_dump_the_command_to_run_is_printed(
    app: Flask, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if _kind(database_url) != "postgresql":
        pytest.skip("a PostgreSQL test database is needed (MARKETPLACE_TEST_DATABASE_URL)")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump to be found
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(tmp_path / "b.tar.gz")])
    assert result.exit_code == 1
    assert "pg_dump --format=custom --no-owner --no-privileges --file pasarkube.dump --dbname postgresql://" \
        in result.output
    assert not (tmp_path / "b.tar.gz").exists()


def test_pg_dump_command_keeps_the_password_off_the_command_line() -> None:
    command = services.pg_dump_command("postgresql+psycopg://kube:s3cret@db.example:5432/pasar")
    assert command == ("pg_dump --format=custom --no-owner --no-privileges --file pasarkube.dump "
                       "--dbname postgresql://kube@db.example:5432/pasar")


# --- A crafted backup: links and special files are refused -----------------------------------------------


def _directory_backup(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "good-backup"
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def _archive_with(folder: Path, archive: Path, extra: list[tarfile.TarInfo], replace: str | None = None) -> Path:
    """A copy of a good backup as a .tar.gz, plus `extra` members (links, devices), without the entry `replace`
    (which an extra member then stands in for). The manifest and the checksum stay valid."""
    with tarfile.open(archive, "w:gz") as tar:
        for entry in sorted(folder.iterdir()):
            if entry.name != replace:
                tar.add(entry, arcname=entry.name)
        for member in extra:
            tar.addfile(member)
    return archive


def _member(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = target
    member.mode = 0o644
    return member


def _nothing_restored(target: Flask, restore_url: str) -> None:
    for setting in services.MEDIA_DIRS:
        root = Path(target.config[setting])
        assert not root.exists() or not any(root.iterdir()), f"{setting} was written to"
    assert sum(services.database_counts(restore_url).values()) == 0


def test_an_archive_with_a_link_or_a_special_file_is_refused(
    app: Flask, session: Session, restore_url: str, tmp_path: Path
) -> None:
    _seed(app, session)
    folder = _directory_backup(app, tmp_path)
    database_file = services.read_manifest(folder).database_file
    crafted = {
        # Relative links that stay inside the archive, which tarfile's "data" filter lets through: copying the
        # media would follow them and put the database, or the private media, under /media.
        "a file linked to the database": ([_member("media/x.jpg", tarfile.SYMTYPE, f"../{database_file}")], None),
        "the public media linked to the private": ([_member("media", tarfile.SYMTYPE, "private-media")], "media"),
        "a hard link to the database": ([_member("media/y.jpg", tarfile.LNKTYPE, database_file)], None),
        "a character device": ([_member("media/zero", tarfile.CHRTYPE)], None),
        "a fifo": ([_member("media/pipe", tarfile.FIFOTYPE)], None),
    }
    target = make_app(restore_url, tmp_path / "restored")
    with target.app_context():
        try:
            for number, (what, (extra, replace)) in enumerate(crafted.items()):
                archive = _archive_with(folder, tmp_path / f"crafted-{number}.tar.gz", extra, replace)
                outcome = target.test_cli_runner().invoke(args=["restore", str(archive), "--force"])
                assert outcome.exit_code == 1, (what, outcome.output)
                assert "link or a special file" in outcome.output, (what, outcome.output)
                assert extra[0].name in outcome.output, what
                _nothing_restored(target, restore_url)
        finally:
            db.session.remove()
            db.engine.dispose()


def test_a_backup_directory_with_a_link_or_a_special_file_is_refused(
    app: Flask, session: Session, restore_url: str, tmp_path: Path
) -> None:
    _seed(app, session)
    folder = _directory_backup(app, tmp_path)
    database_file = services.read_manifest(folder).database_file

    def file_linked_to_the_database(copy: Path) -> str:
        (copy / "media" / "x.jpg").symlink_to(Path("..") / database_file)
        return "media/x.jpg"

    def media_linked_to_private(copy: Path) -> str:
        shutil.rmtree(copy / "media")
        (copy / "media").symlink_to("private-media", target_is_directory=True)
        return "media"

    def link_deep_inside(copy: Path) -> str:
        (copy / "private-media" / "receipts" / "2026" / "other.jpg").symlink_to("/etc/passwd")
        return "private-media/receipts/2026/other.jpg"

    def fifo(copy: Path) -> str:
        os.mkfifo(copy / "media" / "pipe")
        return "media/pipe"

    target = make_app(restore_url, tmp_path / "restored")
    with target.app_context():
        try:
            for number, craft in enumerate((file_linked_to_the_database, media_linked_to_private,
                                            link_deep_inside, fifo)):
                copy = tmp_path / f"crafted-{number}"
                shutil.copytree(folder, copy)
                name = craft(copy)
                outcome = target.test_cli_runner().invoke(args=["restore", str(copy), "--force"])
                assert outcome.exit_code == 1, (craft.__name__, outcome.output)
                assert "link or a special file" in outcome.output and name in outcome.output, outcome.output
                _nothing_restored(target, restore_url)
        finally:
            db.session.remove()
            db.engine.dispose()


# --- A forced restore over a newer schema; who may read a backup -----------------------------------------


def test_forced_restore_over_a_database_with_a_table_the_backup_does_not_know(
    app: Flask, session: Session, database_url: str, restore_url: str, tmp_path: Path
) -> None:
    """A newer version added a table with a foreign key to users: a forced restore of an older backup still
    replaces everything (pg_restore --clean alone would fail to drop users)."""
    _seed(app, session)
    archive = tmp_path / "b.tar.gz"
    assert app.test_cli_runner().invoke(args=["backup", "--output", str(archive)]).exit_code == 0
    manifest = _manifest_of(archive)
    target = make_app(restore_url, tmp_path / "restored")
    postgres = _kind(database_url) == "postgresql"
    schema_acl = text("SELECT pg_get_userbyid(nspowner), nspacl::text FROM pg_namespace WHERE nspname = 'public'")
    with target.app_context():
        try:
            first = target.test_cli_runner().invoke(args=["restore", str(archive)])
            assert first.exit_code == 0, first.output
            engine = create_engine(restore_url, poolclass=NullPool)
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE later_events (id INTEGER PRIMARY KEY, "
                                  "user_id INTEGER NOT NULL REFERENCES users (id))"))
                conn.execute(text("INSERT INTO later_events (id, user_id) SELECT 1, min(id) FROM users"))
                if postgres:
                    conn.execute(text("GRANT USAGE ON SCHEMA public TO PUBLIC"))
                    schema_before = conn.execute(schema_acl).one()
            forced = target.test_cli_runner().invoke(args=["restore", str(archive), "--force"])
            assert forced.exit_code == 0, forced.output
            counts = services.database_counts(restore_url)
            assert counts == manifest.counts and "later_events" not in counts
            if postgres:
                with engine.connect() as conn:  # the schema's owner and grants are as they were
                    assert conn.execute(schema_acl).one() == schema_before
            engine.dispose()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_backups_are_readable_by_their_owner_only(app: Flask, session: Session, tmp_path: Path) -> None:
    _seed(app, session)
    empty = tmp_path / "empty-dir"
    empty.mkdir(mode=0o755)
    previous = os.umask(0o022)  # the usual umask, which would make new files world-readable
    try:
        for output in (tmp_path / "new" / "nightly.tar.gz", tmp_path / "folder", empty):
            result = app.test_cli_runner().invoke(args=["backup", "--output", str(output)])
            assert result.exit_code == 0, result.output
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new" / "nightly.tar.gz").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700  # a folder it made for the backup
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o700
    assert stat.S_IMODE(empty.stat().st_mode) == 0o700
    assert not list((tmp_path / "new").glob("*.partial"))
