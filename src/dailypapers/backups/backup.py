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
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created
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
    try:
        _copy_sqlite(source_path, partial, progress)
        sqlite_check(partial)
    except sqlite3.OperationalError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(
            f"Cannot write the backup {out} ({exc}): choose a folder this user can write "
            "with --output."
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)  # no half copy left behind
        raise
    partial.replace(out)
    return out.stat().st_size


def _copy_sqlite(source_path, partial, progress):
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


# pg_restore's words for an archive of a newer format than it reads, and for a server newer
# than itself: the answer to both is the client programs of the server's version.
NEWER_PG = ("unsupported version", "version mismatch")
PG_BIN_HINT = "Point DAILYPAPERS_PG_BIN at the client programs of the server's version."
# Lines of `pg_restore --list` that create or comment an extension: a restore leaves them
# out (dropping or creating an extension takes its owner or a superuser; the app role is
# neither). "3; 3079 17509 EXTENSION - vector" and "2857; 0 0 COMMENT - EXTENSION vector".
EXTENSION_ENTRY = re.compile(r"^\d+; \d+ \d+ (?:EXTENSION - |COMMENT - EXTENSION )(\S+)")


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
        if any(words in message for words in NEWER_PG):
            message += "\n" + PG_BIN_HINT
        elif "must be owner of" in message:
            message += (
                "\nThe restore replaces tables, and only their owner may: run it as the role "
                "that owns them (the app's DATABASE_URL), or give them to that role first "
                "(ALTER TABLE ... OWNER TO, as a superuser)."
            )
        raise BackupError(message)


def backup_postgres(out, *, progress=True):
    partial = out.with_name(out.name + ".partial")
    tables = len(connection.introspection.table_names())
    command = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--verbose",
               f"--file={partial}"]  # fmt: skip
    try:
        _run_counting(
            command, total=tables, pattern=r"dumping contents of table", desc="backup",
            progress=progress,
        )  # fmt: skip
    except BaseException:
        partial.unlink(missing_ok=True)  # no half archive left behind
        raise
    partial.replace(out)
    return out.stat().st_size


def _pg_listing(backup):
    """The table of contents of a pg_dump archive (`pg_restore --list`); BackupError if not one."""
    pg_restore = _pg_tool("pg_restore")
    listing = subprocess.run([pg_restore, "--list", str(backup)], capture_output=True, text=True)
    if listing.returncode != 0:
        error = listing.stderr.strip()
        if "unsupported version" in error:
            raise BackupError(
                f"{backup} was written by a newer pg_dump than {pg_restore} can read "
                f"({error}). {PG_BIN_HINT}"
            )
        raise BackupError(f"{backup} is not a pg_dump archive: {error}")
    if " papers_paper " not in listing.stdout:
        raise BackupError(f"{backup} is a pg_dump archive, but not one of dailypapers.")
    return listing.stdout


def postgres_check(backup):
    """The number of tables with data in a pg_dump archive; BackupError if it is not one, or
    if this database lacks an extension it needs."""
    listing = _pg_listing(backup)
    error = missing_extensions(listing)
    if error:
        raise error
    return listing.count(" TABLE DATA ")


def _fetch(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def restore_role(role=None):
    """The role to own what a restore creates: None for the connected role itself.

    A superuser's restore would leave every table to the superuser, and the app's own role
    (which owns the database, as docs/operations.md sets it up) locked out: it restores as
    `role`, by default the database's owner, instead (SET ROLE). Any other role restores as
    itself. BackupError if `role` does not exist or is not the owner's to take.
    """
    superuser, user, owner = _fetch(
        "SELECT rolsuper, current_user, pg_get_userbyid(datdba) FROM pg_roles, pg_database "
        "WHERE rolname = current_user AND datname = current_database()"
    )
    if not superuser:
        if role and role != user:
            raise BackupError(
                f"Only a superuser can restore as another role ({role}); this is {user}. "
                f"Leave out --role: the tables will belong to {user}."
            )
        return None
    role = role or owner
    if not _fetch("SELECT count(*) FROM pg_roles WHERE rolname = %s", [role])[0]:
        raise BackupError(f"There is no role {role} in this PostgreSQL server.")
    return None if role == user else role


def missing_extensions(listing):
    """The extensions an archive's tables need that this database lacks, as a BackupError."""
    wanted = sorted({m.group(1) for m in map(EXTENSION_ENTRY.match, listing.splitlines()) if m})
    if not wanted:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = ANY(%s)", [wanted])
        present = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT name FROM pg_available_extensions WHERE name = ANY(%s)", [wanted])
        available = {row[0] for row in cursor.fetchall()}
    missing = [name for name in wanted if name not in present]
    if not missing:
        return None
    database = connection.settings_dict["NAME"]
    create = "; ".join(f"CREATE EXTENSION IF NOT EXISTS {name}" for name in missing)
    message = (
        f"The backup needs the PostgreSQL extension(s) {', '.join(missing)}, which this "
        f"database does not have. A superuser creates them once: "
        f'psql -d {database} -c "{create}" (docs/operations.md, "PostgreSQL"); then restore '
        f"again. Nothing was changed."
    )
    if any(name not in available for name in missing):
        message += (
            " The server lacks the package itself: install pgvector for its PostgreSQL "
            "version first (e.g. postgresql-18-pgvector)."
        )
    return BackupError(message)


def restore_postgres(backup, *, role=None, progress=True):
    """Replace the database's content with a pg_dump archive's, in one transaction.

    The archive's extensions are left out (they stay as they are; they must exist). Returns
    the role it restored as when that is not the connected one (see restore_role), else None.
    """
    listing = _pg_listing(backup)
    error = missing_extensions(listing)
    if error:
        raise error
    role = restore_role(role)
    connection.close()
    kept = "\n".join(
        (";" + line) if EXTENSION_ENTRY.match(line) else line for line in listing.splitlines()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".list", prefix="dailypapers-") as entries:
        entries.write(kept + "\n")
        entries.flush()
        command = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                   "--single-transaction", "--exit-on-error", "--verbose",
                   f"--use-list={entries.name}",
                   f"--dbname={connection.settings_dict['NAME']}", str(backup)]  # fmt: skip
        if role:
            command.insert(1, f"--role={role}")
        _run_counting(
            command, total=listing.count(" TABLE DATA "), pattern=r"processing data for table",
            desc="restore", progress=progress,
        )  # fmt: skip
    return role


def act_as(role):
    """From now on, every connection of this process does its work as `role` (SET ROLE).

    After a superuser's restore, `migrate` and `search reindex` create tables too: they
    must belong to the same role as the restored ones.
    """

    def set_role(sender, connection, **kwargs):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('role', %s, false)", [role])

    connection_created.connect(set_role, weak=False)
    if connection.connection is not None:
        set_role(None, connection)
