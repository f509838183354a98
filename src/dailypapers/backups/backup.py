"""Backups of the whole database, and their restore (docs/operations.md, "Backups").

SQLite: SQLite's online backup API, a consistent copy taken while the site runs (one read
transaction: in WAL mode writers go on meanwhile). PostgreSQL: pg_dump's custom format,
restored by pg_restore in one transaction. The search indexes beside the database are
derived from it and are rebuilt after a restore (`dailypapers search reindex`).
"""

import os
import re
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

from django.conf import settings
from django.db import connection
from tqdm import tqdm


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def database_kind():
    return "sqlite" if connection.vendor == "sqlite" else "postgresql"


def default_backup_path(now):
    suffix = ".sqlite3" if database_kind() == "sqlite" else ".pgdump"
    return settings.DATA_DIR / "backups" / f"dailypapers-{now:%Y%m%d-%H%M%S}{suffix}"


# --- SQLite ---------------------------------------------------------------------------


def _sqlite_path():
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db():
        raise BackupError("The database is in memory: there is nothing on disk to back up.")
    return Path(name)


def _watch_size(path, bar, done):
    # The backup API copies in one step (see backup_sqlite); the growing file is the progress.
    while not done.wait(0.2):
        if path.exists():
            bar.update(path.stat().st_size - bar.n)


def sqlite_check(path):
    """Raise BackupError unless `path` is an intact dailypapers SQLite database."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (result,) = db.execute("PRAGMA integrity_check").fetchone()
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc}).") from None
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}")
    if not {"django_migrations", "papers_paper"} <= tables:
        raise BackupError(f"{path} is a SQLite database, but not one of dailypapers.")


def backup_sqlite(out, *, progress=True):
    """Copy the live database to `out` (written beside it, then renamed: never half a file)."""
    source_path = _sqlite_path()
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(partial)
    done = threading.Event()
    size = source_path.stat().st_size
    with tqdm(total=size, unit="B", unit_scale=True, desc="backup", disable=not progress) as bar:
        watcher = threading.Thread(target=_watch_size, args=(partial, bar, done), daemon=True)
        watcher.start()
        try:
            # One step (pages=-1): stepping would restart the copy at every write by the
            # site, and might never finish on a busy one.
            source.backup(target, pages=-1)
            # The copy inherits WAL mode; one self-contained file is what a backup should be.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            done.set()
            watcher.join()
            target.close()
            source.close()
        bar.update(partial.stat().st_size - bar.n)
    sqlite_check(partial)
    partial.replace(out)
    return out.stat().st_size


def restore_sqlite(backup):
    """Replace the live database's content with the backup's, through the backup API."""
    sqlite_check(backup)
    target_path = _sqlite_path()
    connection.close()  # Django's own connection must not hold the old pages
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        source.backup(target, pages=-1)
    finally:
        target.close()
        source.close()


# --- PostgreSQL -----------------------------------------------------------------------


def _pg_tool(name):
    found = shutil.which(name, path=settings.PG_BIN or None)
    if found is None:
        where = settings.PG_BIN or "PATH"
        raise BackupError(
            f"{name} was not found in {where}. Install PostgreSQL's client programs of the "
            f"server's major version, or point DAILYPAPERS_PG_BIN at their folder."
        )
    return found


def _pg_env():
    """Connection settings for pg_dump/pg_restore, as libpq environment variables."""
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    for key, var in [("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                     ("PASSWORD", "PGPASSWORD")]:  # fmt: skip
        if db.get(key):
            env[var] = str(db[key])
    return env


def _run_counting(command, *, total, pattern, desc, progress):
    """Run a pg_* command with --verbose, a progress bar moved by its lines about tables."""
    matcher = re.compile(pattern)
    tail = []
    with tqdm(total=total, unit="table", desc=desc, disable=not progress) as bar:
        with subprocess.Popen(
            command, env=_pg_env(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        ) as process:
            for line in process.stderr:
                if matcher.search(line):
                    bar.update(1)
                tail = (tail + [line.rstrip()])[-20:]
    if process.returncode != 0:
        message = f"{Path(command[0]).name} failed:\n" + "\n".join(tail[-6:])
        if "version mismatch" in message:
            message += "\nPoint DAILYPAPERS_PG_BIN at the client programs of the server's version."
        raise BackupError(message)


def backup_postgres(out, *, progress=True):
    partial = out.with_name(out.name + ".partial")
    tables = len(connection.introspection.table_names())
    command = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--verbose",
               f"--file={partial}"]  # fmt: skip
    _run_counting(
        command, total=tables, pattern=r"dumping contents of table", desc="backup",
        progress=progress,
    )  # fmt: skip
    partial.replace(out)
    return out.stat().st_size


def postgres_check(backup):
    """The number of tables with data in a pg_dump archive; BackupError if it is not one."""
    listing = subprocess.run(
        [_pg_tool("pg_restore"), "--list", str(backup)], capture_output=True, text=True
    )
    if listing.returncode != 0:
        raise BackupError(f"{backup} is not a pg_dump archive: {listing.stderr.strip()}")
    if " papers_paper " not in listing.stdout:
        raise BackupError(f"{backup} is a pg_dump archive, but not one of dailypapers.")
    return listing.stdout.count(" TABLE DATA ")


def restore_postgres(backup, *, progress=True):
    tables = postgres_check(backup)
    connection.close()
    command = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
               "--single-transaction", "--exit-on-error", "--verbose",
               f"--dbname={connection.settings_dict['NAME']}", str(backup)]  # fmt: skip
    _run_counting(
        command, total=tables, pattern=r"processing data for table", desc="restore",
        progress=progress,
    )  # fmt: skip
