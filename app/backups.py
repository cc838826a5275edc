"""Backups of the live database, and bringing one back. `flask backup`, `flask restore` and
the console's backups page (app/staff/backups.py) all work through this module.

SQLite: `VACUUM INTO` reads one snapshot as a WAL reader, so the server's writers carry on,
and writes it out as a compact file that is then checked with `PRAGMA integrity_check`.
PostgreSQL: `pg_dump --format=custom`, which also reads one snapshot. The connection reaches
pg_dump and pg_restore through PG* environment variables, never through their command line.

A backup gets its name only once it is complete and checked: it is written to a hidden
draft beside it, then renamed over a placeholder created with O_EXCL, so no existing file is
ever overwritten and no half-written file ever carries a backup's name (a placeholder is
empty, and empty files are not listed). Names are in UTC: linli-20250301-142233.db.
"""

import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Callable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import inspect, text

from . import audit
from .clock import utcnow
from .extensions import db, init_migrations

FOLDER = "backups"
# What `make_backup` names its files (a -2, -3… suffix when two come in one second), and
# the safety copies `restore` keeps; the console lists and serves only these.
NAME = re.compile(r"^(linli|before-restore)-\d{8}-\d{6}(-\d{1,2})?\.(db|dump)$")
MANUAL_PG_DUMP = 'pg_dump --format=custom --file=linli-$(date -u +%Y%m%d-%H%M%S).dump "$DATABASE_URL"'
MANUAL_PG_RESTORE = ('pg_restore --clean --if-exists --no-owner --single-transaction '
                     '--dbname="$DATABASE_URL" FILE.dump && flask --app wsgi db upgrade')
# URL query parameters of a PostgreSQL DATABASE_URL that libpq also reads from the environment.
_LIBPQ_ENVIRONMENT = {
    "host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME", "options": "PGOPTIONS", "passfile": "PGPASSFILE",
    "service": "PGSERVICE", "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class BackupError(Exception):
    """A backup or a restore was refused or failed; the message says why, in the user's language."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    made_at: datetime  # naive UTC, as the app stores times
    seconds: float | None = None  # how long making it took, when it was just made

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Restored:
    source: Path
    revision: str  # the backup's migration revision
    head: str  # the revision the database is at now
    safety_copy: Path | None  # the database as it was before, or None when there was none


def backend() -> str:
    """"sqlite" or "postgresql" (or whatever else the URL names)."""
    return db.engine.url.get_backend_name()


def folder() -> Path:
    return Path(current_app.instance_path) / FOLDER


def unavailable_reason() -> str | None:
    """Why this install cannot make a backup by itself, or None when it can."""
    kind = backend()
    if kind == "sqlite":
        return None if _sqlite_path() else _("An in-memory database cannot be backed up.")
    if kind == "postgresql":
        if shutil.which("pg_dump"):
            return None
        return _("pg_dump is not installed on the server (on Debian: apt-get install postgresql-client). "
                 "Until it is, make backups by hand on the server: %(command)s", command=MANUAL_PG_DUMP)
    return _("Backups work with SQLite and PostgreSQL only.")


# --- making and listing backups ----------------------------------------------------------

def make_backup(to: Path | None = None) -> Backup:
    """Copy the live database, while the server keeps running, into a new file: `to`, or
    a new name in `to` when it is a folder, or in the instance's backups folder. Audited."""
    reason = unavailable_reason()
    if reason:
        raise BackupError(reason)
    started = time.perf_counter()
    if backend() == "sqlite":
        path = _write_new(to, "linli", ".db", _sqlite_copy_checked)
    else:
        path = _write_new(to, "linli", ".dump", _pg_dump_checked)
    made = _describe(path, seconds=time.perf_counter() - started)
    _audit("backup-made", file=str(path) if to else made.name, bytes=made.size)
    db.session.commit()
    return made


def list_backups() -> list[Backup]:
    """The backups in the instance's backups folder, newest first."""
    if not folder().is_dir():
        return []
    found = [_describe(path) for path in folder().iterdir()
             if NAME.match(path.name) and path.is_file() and not path.is_symlink()]
    return sorted((backup for backup in found if backup.size), key=lambda backup: backup.made_at, reverse=True)


def find_backup(name: str) -> Backup | None:
    """The listed backup of that exact name; None for any other name (no paths, no other files)."""
    return next((backup for backup in list_backups() if backup.name == name), None)


def record_download(backup: Backup) -> None:
    _audit("backup-downloaded", file=backup.name, bytes=backup.size)
    db.session.commit()


def _audit(action: str, **detail) -> None:
    """An audit entry whose backup names stay readable: record() masks every long run of
    digits, as in linli-20250301-142233.db, but these names are times, not phone numbers.
    Any other text (a path someone typed) is masked as usual."""
    entry = audit.record("staff", action)
    entry.detail = json.dumps(
        {key: value if not isinstance(value, str) or NAME.match(value) else audit.mask_detail(value)
         for key, value in detail.items()}, ensure_ascii=False, sort_keys=True)


def _describe(path: Path, seconds: float | None = None) -> Backup:
    stat = path.stat()
    return Backup(path, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None), seconds)


def _write_new(to: Path | None, prefix: str, suffix: str, write: Callable[[Path], None]) -> Path:
    """Have `write` fill a draft, then give the draft its name: never over an existing file."""
    if to is not None and to.is_dir():
        target_folder, wanted = to, None
    elif to is not None:
        target_folder, wanted = to.parent, to
        if to.exists():
            raise BackupError(_("%(path)s exists already; a backup never overwrites a file.", path=to))
    else:
        target_folder, wanted = folder(), None
    target_folder.mkdir(parents=True, exist_ok=True)
    draft = target_folder / f".draft-{secrets.token_hex(6)}{suffix}"
    placeholder = None
    try:
        write(draft)
        os.chmod(draft, 0o600)  # personal data: readable by the server's user only
        _fsync(draft)
        placeholder = _reserve(wanted, target_folder, prefix, suffix)
        os.replace(draft, placeholder)
        _fsync(target_folder)
        return placeholder
    except BaseException:
        if placeholder is not None and placeholder.exists() and placeholder.stat().st_size == 0:
            placeholder.unlink()
        raise
    finally:
        for leftover in (draft, Path(f"{draft}-journal")):
            leftover.unlink(missing_ok=True)


def _reserve(wanted: Path | None, target_folder: Path, prefix: str, suffix: str) -> Path:
    """Create the backup's file, empty, so that no one else can take its name."""
    if wanted is not None:
        candidates = [wanted]
    else:
        stamp = utcnow().strftime("%Y%m%d-%H%M%S")
        candidates = [target_folder / f"{prefix}-{stamp}{suffix}"] + [
            target_folder / f"{prefix}-{stamp}-{n}{suffix}" for n in range(2, 100)]
    for candidate in candidates:
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        return candidate
    raise BackupError(_("%(path)s exists already; a backup never overwrites a file.", path=candidates[-1]))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- SQLite ------------------------------------------------------------------------------

def _sqlite_path() -> str | None:
    database = db.engine.url.database
    return None if not database or database == ":memory:" or database.startswith("file::memory:") else database


def _sqlite_copy_checked(draft: Path) -> None:
    # mode=rw: a database that is not there is an error, not a new empty file.
    source = sqlite3.connect(_uri(Path(_sqlite_path()), "mode=rw"), uri=True, timeout=30, isolation_level=None)
    try:
        source.execute("VACUUM INTO ?", (str(draft),))
    finally:
        source.close()
    if _sqlite_integrity(draft) != "ok":
        raise BackupError(_("The copy failed its integrity check; the live database may be damaged."))


def _sqlite_integrity(path: Path) -> str:
    """"ok", or the first problem PRAGMA integrity_check reports; raises sqlite3.DatabaseError
    when the file is not a SQLite database at all."""
    connection = _open_read_only(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


def _open_read_only(path: Path) -> sqlite3.Connection:
    # immutable: no locks, no -shm file, nothing written beside a file we only inspect.
    return sqlite3.connect(_uri(path, "mode=ro&immutable=1"), uri=True)


def _uri(path: Path, options: str) -> str:
    return f"{path.resolve().as_uri()}?{options}"


def _sqlite_revision(path: Path, shown: Path) -> str:
    """The migration revision of a SQLite backup of this app, or BackupError saying why not."""
    try:
        check = _sqlite_integrity(path)
    except sqlite3.DatabaseError:
        raise BackupError(_("%(path)s is not a SQLite database.", path=shown)) from None
    if check != "ok":
        raise BackupError(_("%(path)s is damaged (its integrity check failed); choose another backup.",
                            path=shown))
    connection = _open_read_only(path)
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        rows = []
    finally:
        connection.close()
    return _known_revision([row[0] for row in rows], shown)


def _restore_sqlite(source: Path) -> Restored:
    live = Path(_sqlite_path())
    if live.exists() and live.resolve() == source.resolve():
        raise BackupError(_("%(path)s is the live database itself.", path=source))
    # The copy is made and checked beside the live database, so the final rename is atomic.
    draft = live.parent / f".restore-{secrets.token_hex(6)}.db"
    try:
        shutil.copyfile(source, draft)
        revision = _sqlite_revision(draft, source)
        _fsync(draft)
        db.session.remove()
        db.engine.dispose()  # this process's own pooled connections would count as "in use"
        if live.exists():
            safety_copy = _replace_sqlite(live, draft)
        else:
            safety_copy = None
            _place(draft, live)
    finally:
        draft.unlink(missing_ok=True)
    return _migrated(source, revision, safety_copy)


def _has_unmerged_log(path: Path) -> bool:
    log = Path(f"{path}-wal")
    return log.exists() and log.stat().st_size > 0


def _replace_sqlite(live: Path, draft: Path) -> Path:
    """Keep a safety copy of the live database, then put the draft in its place, holding
    SQLite's locks so that no one can write in between."""
    connection = sqlite3.connect(live, timeout=2, isolation_level=None)
    try:
        try:
            # Leaving WAL needs every other connection closed: a running server refuses it.
            connection.execute("PRAGMA journal_mode=DELETE").fetchone()
            # From its first read on, this connection keeps a lock that lets no one else write.
            connection.execute("PRAGMA locking_mode=EXCLUSIVE")
            safety_copy = _write_new(None, "before-restore", ".db",
                                     lambda path: connection.execute("VACUUM INTO ?", (str(path),)))
            connection.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise _uncopyable(live, error) from None
            raise BackupError(_("The database is in use. Stop the server (e.g. systemctl stop linli) "
                                "before restoring, then start it again.")) from None
        except sqlite3.DatabaseError as error:
            raise _uncopyable(live, error) from None
        _place(draft, live)
        connection.execute("ROLLBACK")  # on the old file, which nothing refers to now
    finally:
        connection.close()
    return safety_copy


def _uncopyable(live: Path, error: Exception) -> BackupError:
    return BackupError(_("The current database could not be copied (%(error)s). Move %(path)s and its "
                         "-wal file aside by hand, then restore again.", error=error, path=live))


def _place(draft: Path, live: Path) -> None:
    # A -wal or -shm left from the old file would be read as the new one's.
    for extra in ("-wal", "-shm", "-journal"):
        Path(f"{live}{extra}").unlink(missing_ok=True)
    os.replace(draft, live)
    _fsync(live.parent)


# --- PostgreSQL --------------------------------------------------------------------------

def _pg_environment() -> dict[str, str]:
    """The connection as libpq's environment variables: the password stays out of argv."""
    url = db.engine.url
    environment = dict(os.environ)
    for value, name in ((url.host, "PGHOST"), (url.port, "PGPORT"), (url.username, "PGUSER"),
                        (url.password, "PGPASSWORD"), (url.database, "PGDATABASE")):
        if value:
            environment[name] = str(value)
    for key, value in url.query.items():
        if key in _LIBPQ_ENVIRONMENT:
            environment[_LIBPQ_ENVIRONMENT[key]] = value if isinstance(value, str) else value[-1]
    return environment


def _run(program: str, *arguments: str) -> str:
    try:
        done = subprocess.run([program, *arguments], env=_pg_environment(), capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(_("%(program)s is not installed on the server (on Debian: apt-get install "
                            "postgresql-client).", program=program)) from None
    if done.returncode != 0:
        raise BackupError(_("%(program)s failed: %(error)s", program=program,
                            error=done.stderr.strip()[-600:] or done.returncode))
    return done.stdout


def _pg_dump_checked(draft: Path) -> None:
    _run("pg_dump", "--format=custom", "--no-password", f"--file={draft}")
    _pg_tables(draft, draft)  # pg_restore can read it


def _pg_tables(path: Path, shown: Path) -> set[str]:
    """The tables a custom-format dump holds; BackupError when it is not such a dump."""
    try:
        listing = _run("pg_restore", "--list", str(path))
    except BackupError as error:
        raise BackupError(_("%(path)s is not a pg_dump archive (custom format).", path=shown)) from error
    tables = set()
    for line in listing.splitlines():
        # "215; 1259 16385 TABLE public wall_posts linli"
        words = line.partition(";")[2].split()
        if len(words) >= 5 and words[2] == "TABLE" and words[3] == "public":
            tables.add(words[4])
    return tables


def _pg_revision(path: Path) -> str:
    tables = _pg_tables(path, path)
    rows = []
    if "alembic_version" in tables:
        data = _run("pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path))
        copying = False
        for line in data.splitlines():
            if line.startswith("COPY ") and "alembic_version" in line:
                copying = True
            elif copying and line == "\\.":
                break
            elif copying:
                rows.append(line.strip())
    return _known_revision(rows, path)


def _restore_postgres(source: Path, revision: str) -> Restored:
    safety_copy = _write_new(None, "before-restore", ".dump", _pg_dump_checked)
    db.session.remove()
    try:
        # --clean drops only what the dump holds: the tables, columns and constraints of
        # migrations newer than the backup would stay and stop those migrations, or the
        # drops themselves. The database is linli's alone, so all its tables go first.
        tables = inspect(db.engine).get_table_names(schema="public")
        if tables:
            with db.engine.begin() as connection:
                connection.execute(text(f"DROP TABLE IF EXISTS {', '.join(f'public.{name}' for name in tables)}"
                                        " CASCADE"))
        db.engine.dispose()
        _run("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", "--no-password", f"--dbname={db.engine.url.database}", str(source))
    except BackupError as error:
        raise BackupError(_("%(error)s The database as it was before is in %(path)s.",
                            error=error, path=safety_copy)) from error
    return _migrated(source, revision, safety_copy)


# --- restoring ---------------------------------------------------------------------------

def check_backup(path: Path) -> str:
    """The migration revision of a backup this install can restore; BackupError otherwise.
    Reads the file only."""
    kind = backend()
    if kind == "sqlite" and not _sqlite_path():
        raise BackupError(_("An in-memory database cannot be backed up."))
    if kind == "postgresql":
        missing = [program for program in ("pg_restore", "pg_dump") if not shutil.which(program)]
        if missing:
            raise BackupError(_("%(programs)s is not installed on the server (on Debian: apt-get install "
                                "postgresql-client). With the server stopped, restore by hand: %(command)s",
                                programs=", ".join(missing), command=MANUAL_PG_RESTORE))
    elif kind != "sqlite":
        raise BackupError(_("Backups work with SQLite and PostgreSQL only."))
    if not path.is_file():
        raise BackupError(_("There is no file %(path)s.", path=path))
    if kind == "postgresql":
        return _pg_revision(path)
    if _has_unmerged_log(path):
        raise BackupError(_("%(path)s has recent changes in a -wal file beside it. Restore a file "
                            "made by `flask backup`.", path=path))
    return _sqlite_revision(path, path)


def restore(path: Path) -> Restored:
    """Replace the live database with a backup, keeping a safety copy of it first, then
    migrate it to this version. The server must be stopped meanwhile. A file that is not a
    backup of this app is refused before anything changes."""
    revision = check_backup(path)
    if backend() == "sqlite":
        return _restore_sqlite(path)  # checks again the very bytes it puts in place
    return _restore_postgres(path, revision)


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    config = init_migrations(current_app).migrate.get_config()
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(init_migrations(current_app).migrate.get_config()).get_current_head()


def _known_revision(rows: list[str], shown: Path) -> str:
    if not rows:
        raise BackupError(_("%(path)s is a database, but not a backup of linli.", path=shown))
    if len(rows) != 1 or rows[0] not in _known_revisions():
        raise BackupError(_("%(path)s was made by a version of linli this one does not know "
                            "(revision %(revision)s).", path=shown, revision=", ".join(rows)))
    return rows[0]


def _migrated(source: Path, revision: str, safety_copy: Path | None) -> Restored:
    from flask_migrate import upgrade

    init_migrations(current_app)
    upgrade()
    head = _head_revision()
    _audit("backup-restored", file=source.name if NAME.match(source.name) else str(source), revision=revision,
           safety_copy=safety_copy.name if safety_copy else "")
    db.session.commit()
    return Restored(source, revision, head, safety_copy)
