"""`dailypapers ...`: every Django management command, with our settings.

dailypapers demo            # serve with the bundled sample, on a fresh data directory
dailypapers serve           # web + task worker + scheduler in one process tree
dailypapers ingest ...      # see `dailypapers ingest --help`
dailypapers migrate / createsuperuser / ...
"""

import os
import sys


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["dailypapers", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
