"""dailypapers restore FILE: put a backup of `dailypapers backup` back, replacing everything."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from dailypapers.backups.backup import (
    BackupError,
    act_as,
    database_kind,
    postgres_check,
    restore_postgres,
    restore_sqlite,
    sqlite_check,
)


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup made by `dailypapers backup` (stop the "
        "site first), then migrate it to this version and rebuild the search indexes."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a .sqlite3 or .pgdump file from `backup`")
        parser.add_argument("--yes", action="store_true", help="do not ask before replacing")
        parser.add_argument("--dry-run", action="store_true", help="check the file, change nothing")
        parser.add_argument("--no-reindex", action="store_true", help="skip `search reindex`")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--role",
            help="PostgreSQL, run as a superuser: the role to own the restored tables "
            "(default: the database's owner)",
        )

    def handle(self, *args, file, yes, dry_run, no_reindex, no_progress, role, **options):
        backup = file.expanduser().resolve()
        if not backup.is_file():
            raise CommandError(f"{backup} is not a file.")
        kind = database_kind()
        if role and kind == "sqlite":
            raise CommandError("--role is for PostgreSQL; a SQLite database has no roles.")
        try:
            if kind == "sqlite":
                sqlite_check(backup)
            else:
                postgres_check(backup)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if dry_run:
            self.stdout.write(f"{backup} is a good {kind} backup; nothing was changed.")
            return
        if not yes and not self._confirmed(kind):
            raise CommandError("Nothing was changed.")
        owner = None
        try:
            if kind == "sqlite":
                restore_sqlite(backup)
            else:
                owner = restore_postgres(backup, role=role, progress=not no_progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if owner:
            act_as(owner)  # what migrate and reindex create belongs to the same role
            self.stdout.write(self.style.SUCCESS(f"restored {backup} (tables owned by {owner})"))
        else:
            self.stdout.write(self.style.SUCCESS(f"restored {backup}"))
        call_command("migrate", interactive=False, verbosity=0)
        if not no_reindex:
            call_command("search", "reindex")

    def _confirmed(self, kind):
        question = (f"Replace everything in this {kind} database with the backup? "
                    "Stop the site first. Type yes to go on: ")  # fmt: skip
        try:
            return input(question).strip().lower() == "yes"
        except EOFError:
            raise CommandError("Not a terminal: pass --yes to restore.") from None
