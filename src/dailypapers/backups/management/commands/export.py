"""dailypapers export FILE: every row of the instance, to move it to another database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dailypapers.backups.moving import export_instance
from dailypapers.plural import counted


class Command(BaseCommand):
    help = (
        "Write the whole instance (members, papers, votes, comments, subscriptions, "
        "deliveries, tokens, ...) to one JSON-lines file (gzipped if FILE ends in .gz), "
        "for `dailypapers import` into another database, e.g. SQLite to PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="where to write, e.g. instance.jsonl.gz")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file, no_progress, **options):
        out = file.expanduser().resolve()
        if out.exists():
            raise CommandError(f"{out} exists already; choose another file.")
        if not out.parent.is_dir():
            raise CommandError(f"{out.parent} is not a folder.")
        counts = export_instance(out, progress=not no_progress)
        size = out.stat().st_size / 1e6
        self.stdout.write(
            self.style.SUCCESS(
                f"exported {counted(sum(counts.values()), 'row')} to {out} ({size:.1f} MB)"
            )
        )
