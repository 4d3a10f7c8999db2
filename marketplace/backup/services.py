"""Back up and restore the database and the media directories. No flask here.

A backup is one .tar.gz (or a directory) holding:
- `manifest.json`: when it was made, the database kind, the schema revision (alembic_version), the number of
  rows of every table and the SHA-256 of the database file;
- the database: `database.sqlite3`, an online copy made with SQLite's backup API (consistent even while the
  app writes), or `database.dump`, pg_dump's custom format taken in the same snapshot as the counts;
- `media/` and `private-media/`: the uploaded photos, receipts and field-visit photos.

A restore refuses a database that already holds rows (unless forced), a manifest it cannot read, a file whose
checksum does not match, a backup of the other database kind, and a schema revision this code does not know
(a backup made by a newer version). It also refuses a backup holding anything but regular files and
directories: a link inside it (`media/x.jpg -> ../database.sqlite3`) would otherwise be followed when the media
are copied, and publish the database or the private media under /media.

A backup holds the private media and the whole database: it is written readable by its owner only (0600 for
an archive, 0700 for a directory).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, make_url

from marketplace.common import N_, ConflictError, ValidationError, utcnow

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
# Directory names inside a backup, by setting.
MEDIA_DIRS = {"MEDIA_ROOT": "media", "PRIVATE_MEDIA_ROOT": "private-media"}
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


class BackupError(ConflictError):
    code = "backup_failed"


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: str  # "sqlite" or "postgresql"
    database_file: str
    schema_revision: str | None
    counts: dict[str, int]
    sha256: str
    media: list[str]
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        try:
            data = json.loads(raw)
            manifest = cls(
                created_at=str(data["created_at"]), database=str(data["database"]),
                database_file=str(data["database_file"]), schema_revision=data["schema_revision"],
                counts={str(k): int(v) for k, v in dict(data["counts"]).items()}, sha256=str(data["sha256"]),
                media=[str(name) for name in data["media"]], format=int(data["format"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValidationError(N_("The backup's manifest cannot be read.")) from None
        if manifest.format != FORMAT:
            raise ValidationError(N_("This backup has format %(format)s; this version reads format %(ours)s."),
                                  format=manifest.format, ours=FORMAT)
        if manifest.database not in ("sqlite", "postgresql") or manifest.database_file not in (SQLITE_FILE,
                                                                                               POSTGRES_FILE):
            raise ValidationError(N_("The backup's manifest names an unknown database."))
        if not set(manifest.media) <= set(MEDIA_DIRS.values()):
            raise ValidationError(N_("The backup's manifest names unknown media directories."))
        return manifest


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    needs_upgrade: bool  # the backup's schema is older than this code's: run `flask db upgrade`


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def kind_of(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(N_("Backups support SQLite and PostgreSQL, not %(backend)s."), backend=backend)
    return backend


def _sqlite_path(database_url: str) -> Path:
    path = make_url(database_url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError(N_("Only a SQLite database in a file can be backed up or restored."))
    return Path(path)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump / pg_restore (no driver name) and the environment with the password (never on the
    command line, where `ps` would show it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    bare = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                      query=url.query)
    return bare.render_as_string(hide_password=False), env


def pg_dump_command(database_url: str, output: str = "pasarkube.dump") -> str:
    """The documented command that backs up a PostgreSQL database by hand (docs/backup.md)."""
    target, _env = _libpq(make_url(database_url))
    return shlex.join(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", output,
                       "--dbname", target])


# --- Counting rows ------------------------------------------------------------------------------------


def _sqlite_counts(conn: sqlite3.Connection) -> tuple[dict[str, int], str | None]:
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    # Table names come from the database's own catalogue, quoted as identifiers.
    counts = {name: int(conn.execute('SELECT count(*) FROM "{}"'.format(name.replace('"', '""')))  # noqa: S608
                        .fetchone()[0]) for name in names}
    return counts, _sqlite_revision(conn, names)


def _sqlite_revision(conn: sqlite3.Connection, names: Collection[str]) -> str | None:
    if "alembic_version" not in names:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def _postgres_counts(conn: Connection) -> tuple[dict[str, int], str | None]:
    names = list(conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).scalars())
    quote = conn.dialect.identifier_preparer.quote
    counts = {name: int(conn.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one())  # noqa: S608
              for name in names}
    revision = None
    if "alembic_version" in names:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return counts, revision


def database_counts(database_url: str) -> dict[str, int]:
    """The number of rows of every table of a database (used to check a restore, and by `flask restore`)."""
    if kind_of(database_url) == "sqlite":
        path = _sqlite_path(database_url)
        if not path.exists():
            return {}
        with _closing_sqlite(path) as conn:
            return _sqlite_counts(conn)[0]
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return _postgres_counts(conn)[0]
    finally:
        engine.dispose()


@contextmanager
def _closing_sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


# --- Backing up ---------------------------------------------------------------------------------------


def _copy_sqlite(database_url: str, target: Path) -> tuple[dict[str, int], str | None]:
    """An online, consistent copy: one backup step copies every page under a read lock, so writers of other
    connections never see a half-copied database (in WAL mode they carry on while it copies)."""
    source = _sqlite_path(database_url)
    if not source.exists():
        raise BackupError(N_("The database file %(path)s does not exist."), path=str(source))
    with _closing_sqlite(source) as src, _closing_sqlite(target) as dst:
        src.backup(dst)
        # The copy is one self-contained file, whatever journal mode the live database uses.
        dst.execute("PRAGMA journal_mode=DELETE")
        return _sqlite_counts(dst)


def _dump_postgres(database_url: str, target: Path, pg_dump: str) -> tuple[dict[str, int], str | None]:
    """pg_dump in the snapshot the counts were taken in (a REPEATABLE READ transaction exports it)."""
    url = make_url(database_url)
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts, revision = _postgres_counts(conn)
            dbname, env = _libpq(url)
            done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
                [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                 "--file", str(target), "--dbname", dbname],
                env=env, capture_output=True, text=True, check=False,
            )
            conn.rollback()
    finally:
        engine.dispose()
    if done.returncode != 0:
        raise BackupError(N_("pg_dump failed: %(error)s"), error=done.stderr.strip()[-2000:])
    return counts, revision


def backup(database_url: str, media_roots: Mapping[str, str | Path], output: Path, *,
           pg_dump: str | None = None, now: datetime | None = None) -> Manifest:
    """Write a backup to `output` (a .tar.gz, or a new directory for any other name). `pg_dump` is the
    program's path (None: not installed, and a PostgreSQL backup is refused with the command to run)."""
    kind = kind_of(database_url)
    if output.exists() and not (output.is_dir() and not any(output.iterdir())):
        raise BackupError(N_("%(path)s already exists; choose another --output."), path=str(output))
    if kind == "postgresql" and pg_dump is None:
        raise BackupError(N_("pg_dump is not installed. Install the PostgreSQL client tools, or back up the "
                             "database by hand: %(command)s"), command=pg_dump_command(database_url))
    archive = output.name.endswith(ARCHIVE_SUFFIXES)
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # the mode applies only when it is new
    with tempfile.TemporaryDirectory(prefix="backup-", dir=output.parent) as scratch:  # 0700, by mkdtemp
        work = output if not archive else Path(scratch) / "backup"
        work.mkdir(exist_ok=True, mode=0o700)
        os.chmod(work, 0o700)  # also an existing empty directory, and whatever the umask
        try:
            if kind == "sqlite":
                database_file = SQLITE_FILE
                counts, revision = _copy_sqlite(database_url, work / database_file)
            else:
                database_file = POSTGRES_FILE
                assert pg_dump is not None
                counts, revision = _dump_postgres(database_url, work / database_file, pg_dump)
            media = []
            for setting, name in MEDIA_DIRS.items():
                root = Path(media_roots[setting])
                if root.is_dir():
                    shutil.copytree(root, work / name, symlinks=False)
                    media.append(name)
            manifest = Manifest(created_at=(now or utcnow()).isoformat(), database=kind,
                                database_file=database_file, schema_revision=revision, counts=counts,
                                sha256=sha256_of(work / database_file), media=media)
            (work / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
            if archive:
                partial = output.with_name(output.name + ".partial")
                _write_archive(work, partial)
                partial.replace(output)  # never a half-written archive under the final name
        except BaseException:
            if not archive:
                shutil.rmtree(work, ignore_errors=True)
            raise
    return manifest


def _write_archive(work: Path, target: Path) -> None:
    """The .tar.gz of `work`, created readable by its owner only (never world-readable, not even for a
    moment: the mode is given when the file is created, and set again in case the umask took bits away)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw:
        os.fchmod(raw.fileno(), 0o600)
        with tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for entry in sorted(work.iterdir()):
                tar.add(entry, arcname=entry.name)


# --- Restoring ----------------------------------------------------------------------------------------


def _refuse_link(name: str) -> ValidationError:
    return ValidationError(N_("The backup holds %(name)s, which is a link or a special file; a backup holds only "
                              "regular files and directories, so it is refused."), name=name)


def _check_members(tar: tarfile.TarFile) -> None:
    """Only regular files and directories: a symlink or hard link inside the archive (even a relative one
    that stays inside it, such as `media -> private-media`) would be followed when the media are copied."""
    for member in tar.getmembers():
        if not (member.isreg() or member.isdir()):
            raise _refuse_link(member.name)


def _check_tree(folder: Path) -> None:
    """The same for a backup directory: every entry, looked at without following links."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in (*dirnames, *filenames):
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise _refuse_link(str(path.relative_to(folder)))


@contextmanager
def _opened(source: Path) -> Iterator[Path]:
    """The backup as a directory: an archive is unpacked into a temporary one (safely: no links at all, no
    absolute paths, nothing outside it)."""
    if source.is_dir():
        _check_tree(source)
        yield source
        return
    if not source.is_file():
        raise ValidationError(N_("There is no backup at %(path)s."), path=str(source))
    with tempfile.TemporaryDirectory(prefix="restore-") as scratch:
        try:
            with tarfile.open(source, "r:gz") as tar:
                _check_members(tar)
                tar.extractall(scratch, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise ValidationError(N_("%(path)s is not a backup archive (%(error)s)."), path=str(source),
                                  error=str(error)) from None
        yield Path(scratch)


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise ValidationError(N_("The backup has no manifest.json."))
    return Manifest.from_json(path.read_text(encoding="utf-8"))


def _check(folder: Path, manifest: Manifest, kind: str, known_revisions: Collection[str]) -> None:
    if manifest.database != kind:
        raise ValidationError(N_("This is a backup of a %(theirs)s database; this app uses %(ours)s."),
                              theirs=manifest.database, ours=kind)
    database_file = folder / manifest.database_file
    if not database_file.is_file():
        raise ValidationError(N_("The backup has no database file."))
    if sha256_of(database_file) != manifest.sha256:
        raise ValidationError(N_("The backup's database file is damaged (its SHA-256 does not match the "
                                 "manifest)."))
    if manifest.schema_revision is not None and manifest.schema_revision not in known_revisions:
        raise ValidationError(N_("The backup has schema revision %(revision)s, which this version of Pasar KUBE "
                                 "does not know: restore it with the version that made it (or a newer one)."),
                              revision=manifest.schema_revision)


def restore(database_url: str, media_roots: Mapping[str, str | Path], source: Path, *,
            known_revisions: Collection[str], head_revision: str | None, force: bool = False,
            pg_restore: str | None = None) -> Restored:
    """Restore a backup into the database at `database_url` and the media directories. Refused when the
    database already holds rows, unless `force`."""
    kind = kind_of(database_url)
    with _opened(source) as folder:
        manifest = read_manifest(folder)
        _check(folder, manifest, kind, known_revisions)
        rows = sum(database_counts(database_url).values())
        if rows and not force:
            raise ConflictError(N_("The database already holds %(rows)s rows; restoring would overwrite them. "
                                   "Use --force to overwrite it."), rows=rows)
        if kind == "sqlite":
            _restore_sqlite(folder / manifest.database_file, database_url)
        else:
            if pg_restore is None:
                raise BackupError(N_("pg_restore is not installed. Install the PostgreSQL client tools."))
            _restore_postgres(folder / manifest.database_file, database_url, pg_restore, replace=force)
        for setting, name in MEDIA_DIRS.items():
            if name in manifest.media:
                # The backup holds no links (checked when opened); should one appear, it is copied as a link,
                # never followed.
                shutil.copytree(folder / name, Path(media_roots[setting]), symlinks=True, dirs_exist_ok=True)
    counts = database_counts(database_url)
    missing = {table: (rows, counts.get(table)) for table, rows in manifest.counts.items()
               if counts.get(table) != rows}
    if missing:
        raise BackupError(N_("The restored database does not match the manifest: %(tables)s"),
                          tables=_describe(missing))
    return Restored(manifest, needs_upgrade=manifest.schema_revision not in (None, head_revision))


def _describe(mismatch: Mapping[str, tuple[int, Any]]) -> str:
    return ", ".join(f"{table} (expected {want}, found {got})" for table, (want, got) in sorted(mismatch.items()))


def _restore_sqlite(copy: Path, database_url: str) -> None:
    """The backup API again, the other way: the target is replaced page by page in one transaction."""
    target = _sqlite_path(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _closing_sqlite(copy) as src, _closing_sqlite(target) as dst:
        src.backup(dst)


def _recreate_public_schema(database_url: str) -> None:
    """An empty `public` schema with the owner and the grants it had, in one transaction. `pg_restore --clean`
    would drop only the objects in the dump: a table a newer version added (with a foreign key to `users`)
    would make dropping `users` fail."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote
            owner = conn.execute(text(
                "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'")).scalar()
            grants = conn.execute(text(
                "SELECT CASE WHEN acl.grantee = 0 THEN NULL ELSE pg_get_userbyid(acl.grantee) END, "
                "acl.privilege_type, acl.is_grantable "
                "FROM pg_namespace, aclexplode(pg_namespace.nspacl) AS acl "
                "WHERE nspname = 'public' AND acl.grantee <> pg_namespace.nspowner")).all()
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            if owner is not None:
                conn.execute(text(f"ALTER SCHEMA public OWNER TO {quote(owner)}"))
            for grantee, privilege, grantable in grants:
                if privilege not in ("USAGE", "CREATE"):
                    continue
                to = "PUBLIC" if grantee is None else quote(grantee)
                option = " WITH GRANT OPTION" if grantable else ""
                conn.execute(text(f"GRANT {privilege} ON SCHEMA public TO {to}{option}"))
    finally:
        engine.dispose()


def _restore_postgres(dump: Path, database_url: str, pg_restore: str, *, replace: bool) -> None:
    """Into a database without rows (its empty tables, e.g. freshly migrated, are dropped by `--clean`); with
    `replace`, the `public` schema is emptied first instead (everything in it goes, also tables the backup does
    not know)."""
    clean = ["--clean", "--if-exists"]
    if replace:
        _recreate_public_schema(database_url)
        clean = []
    dbname, env = _libpq(make_url(database_url))
    done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [pg_restore, *clean, "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", "--dbname", dbname, str(dump)],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise BackupError(N_("pg_restore failed: %(error)s"), error=done.stderr.strip()[-2000:])
