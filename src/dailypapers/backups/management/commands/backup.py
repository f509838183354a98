"""dailypapers backup [--output FILE]: a consistent copy of the whole database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from dailypapers.backups.backup import (
    BackupError,
    backup_postgres,
    backup_sqlite,
    database_kind,
    default_backup_path,
)

NOT_SET_UP = (
    "The database {where} is not set up (never migrated): there is nothing to back up. "
    "Point DAILYPAPERS_DATA_DIR (or DATABASE_URL) at the site's data."
)


class Command(BaseCommand):
    help = (
        "Back up the whole database while the site runs: SQLite through its online backup "
        "API (a .sqlite3 file), PostgreSQL through pg_dump (a custom-format archive). "
        "`dailypapers restore FILE` puts it back."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", "-o", type=Path,
            help="where to write it (default: DATA_DIR/backups/dailypapers-DATE-TIME.*)",
        )  # fmt: skip
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, output, no_progress, **options):
        out = (output or default_backup_path(timezone.now())).expanduser().resolve()
        if out.is_dir():
            out = out / default_backup_path(timezone.now()).name
        if out.exists():
            raise CommandError(f"{out} exists already; choose another --output.")
        if "papers_paper" not in connection.introspection.table_names():
            raise CommandError(NOT_SET_UP.format(where=connection.settings_dict["NAME"]))
        out.parent.mkdir(parents=True, exist_ok=True)
        save = backup_sqlite if database_kind() == "sqlite" else backup_postgres
        try:
            size = save(out, progress=not no_progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"backed up to {out} ({size / 1e6:.1f} MB)"))
