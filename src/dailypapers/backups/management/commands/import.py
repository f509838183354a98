"""dailypapers import FILE: load an export into this (fresh, migrated) database."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from dailypapers.backups.moving import MoveError, import_instance
from dailypapers.plural import counted


class Command(BaseCommand):
    help = (
        "Load a file of `dailypapers export` into this database, which must be migrated "
        "and hold no members or papers yet; then rebuild the search indexes. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a file written by `dailypapers export`")
        parser.add_argument(
            "--dry-run", action="store_true", help="load it all, then roll back: a full check"
        )
        parser.add_argument("--no-reindex", action="store_true", help="skip `search reindex`")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file, dry_run, no_reindex, no_progress, **options):
        path = file.expanduser().resolve()
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            counts = import_instance(path, progress=not no_progress, dry_run=dry_run)
        except (MoveError, UnicodeDecodeError, OSError) as exc:
            raise CommandError(str(exc)) from None
        for label, rows in sorted(counts.items()):
            self.stdout.write(f"  {label}: {rows}")
        rows = counted(sum(counts.values()), "row")
        if dry_run:
            loads = "loads" if sum(counts.values()) == 1 else "load"
            self.stdout.write(f"{rows} {loads} cleanly; nothing was changed.")
            return
        self.stdout.write(self.style.SUCCESS(f"imported {rows}"))
        if not no_reindex:
            call_command("search", "reindex")
