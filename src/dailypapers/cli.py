"""`dailypapers ...`: every Django management command, with our settings.

dailypapers demo            # serve with the bundled sample, on a fresh data directory
dailypapers serve           # web + task worker + scheduler in one process tree
dailypapers ingest ...      # see `dailypapers ingest --help`
dailypapers migrate / createsuperuser / ...
"""

import os
import sys

NOT_SET_UP = (
    "dailypapers: the database {where} is not set up for this version yet ({error}).\n"
    "Run `dailypapers migrate` first (`dailypapers serve` and `dailypapers demo` do it "
    "themselves), or point DAILYPAPERS_DATA_DIR (or DATABASE_URL) at the site's data."
)


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError, ProgrammingError

    try:
        settings.INSTALLED_APPS  # noqa: B018 (reads the environment: a bad value says so here)
    except ImproperlyConfigured as error:  # Django would hide it behind "unknown command"
        sys.exit(f"dailypapers: {error}")
    try:
        execute_from_command_line(["dailypapers", *(sys.argv[1:] if argv is None else argv)])
    except (OperationalError, ProgrammingError) as error:
        if not _missing_table(error):
            raise
        sys.exit(NOT_SET_UP.format(where=_database(), error=str(error).splitlines()[0]))


def _database():
    """The database a command used, as its operator names it: the SQLite file (a data
    directory other than the one meant is the usual cause), or PostgreSQL's host and name."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return str(name)
    return f"{name} on {connection.settings_dict.get('HOST') or 'localhost'}"


def _missing_table(error):
    """SQLite's "no such table", PostgreSQL's "relation ... does not exist"."""
    text = str(error)
    return "no such table" in text or ("relation" in text and "does not exist" in text)


if __name__ == "__main__":
    main()
