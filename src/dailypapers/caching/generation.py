"""The site's data generation: read on every cached request, moved by every change."""

import datetime as dt

from django.db import connection
from django.db.models import F
from django.utils import timezone

from .models import Generation

TABLE = Generation._meta.db_table


def current():
    """(generation, when it last moved). One indexed read; no row yet is generation 0.

    Every cached page pays for this read, so it goes straight to the driver's cursor:
    Django's cursor wrapper cost as much again as the query itself."""
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection.connection.cursor()
        try:
            cursor.execute(f"SELECT value, changed_at FROM {TABLE} WHERE id = 1")
            row = cursor.fetchone()
        finally:
            cursor.close()
    if row is None:
        return 0, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    value, changed_at = row
    if isinstance(changed_at, str):  # SQLite through a raw cursor
        changed_at = dt.datetime.fromisoformat(changed_at)
    if timezone.is_naive(changed_at):
        changed_at = changed_at.replace(tzinfo=dt.UTC)
    return value, changed_at


def bump():
    """Move the generation on: every page and answer cached so far is out of date."""
    now = timezone.now()
    if not Generation.objects.filter(pk=1).update(value=F("value") + 1, changed_at=now):
        Generation.objects.get_or_create(pk=1, defaults={"value": 1, "changed_at": now})


def changed(*args, raw=False, **kwargs):
    """Signal receiver (saves, deletes, papers_changed): bump, except for fixture loads."""
    if not raw:
        bump()
