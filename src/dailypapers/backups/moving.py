"""Moving a whole instance between databases: `dailypapers export` writes every row of
every model to one JSON-lines file (Django's own serializer, gzipped when the name ends
in .gz); `dailypapers import` loads it into a freshly migrated database of either kind,
SQLite to PostgreSQL the usual way (docs/operations.md, "Moving an instance").

Both stream: export reads each table in primary-key order in chunks, import reads the file
line by line and inserts in batches (Django's loaddata would save row by row). Primary keys
are kept, so every reference holds; references to content types and permissions go by
their natural keys, which migrate recreates. What is derived or passing is left out and
rebuilt (search embeddings and word tables by `search reindex`) or simply starts afresh
(sessions: members sign in again; the task queue; sign-in counters).
"""

import gzip
import itertools
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.jsonl import Serializer as JsonlSerializer
from django.db import connection, transaction
from tqdm import tqdm

# Rebuilt, recreated or passing: not moved.
LEFT_OUT = {
    "contenttypes.contenttype",  # recreated by migrate, referenced by natural key
    "auth.permission",  # same
    "sessions.session",
    "accounts.throttle",
    "django_tasks_database.dbtaskresult",
    "workers.workerbeat",
    "search.paperembedding",  # `search reindex` embeds again
    "search.indexstate",
    "search.acronym",
    "caching.generation",
}
BATCH = 2000


class Serializer(JsonlSerializer):
    """Django's JSON-lines serializer, with natural keys only for content types and
    permissions (their ids differ between databases; members' and papers' ids do not, and
    looking each one up by name would cost a query per row both ways)."""

    def _natural_for(self, field):
        self.use_natural_foreign_keys = field.remote_field.model in (ContentType, Permission)

    def handle_fk_field(self, obj, field):
        self._natural_for(field)
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj, field):
        self._natural_for(field)
        super().handle_m2m_field(obj, field)


class MoveError(Exception):
    """An export or import that cannot go on; the message says why."""


def models_to_move():
    """Every model with rows of its own, in dependency order (referenced ones first)."""
    chosen = [
        model
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.label_lower not in LEFT_OUT
    ]
    return serializers.sort_dependencies([(None, chosen)], allow_cycles=True)


@contextmanager
def _open(path, mode, *, gzipped=None):
    gzipped = str(path).endswith(".gz") if gzipped is None else gzipped
    opener = gzip.open if gzipped else open
    options = {"compresslevel": 3} if gzipped and mode == "w" else {}  # 9 is slow, little smaller
    with opener(path, mode + "t", encoding="utf-8", **options) as stream:
        yield stream


def _counted(iterable, bar):
    for item in iterable:
        bar.update(1)
        yield item


def export_instance(out, *, progress=True):
    """Write every row to `out`; returns {model label: rows}."""
    models = models_to_move()
    counts = {model._meta.label: model._base_manager.count() for model in models}
    serializer = Serializer()
    partial = Path(str(out) + ".partial")
    with (
        _open(partial, "w", gzipped=str(out).endswith(".gz")) as stream,
        tqdm(total=sum(counts.values()), unit="row", desc="export", disable=not progress) as bar,
    ):
        for model in models:
            rows = model._base_manager.order_by("pk").iterator(chunk_size=BATCH)
            serializer.serialize(_counted(rows, bar), stream=stream)
    partial.replace(out)
    return counts


def _target_is_empty():
    user_model = apps.get_model("auth", "User")
    paper_model = apps.get_model("papers", "Paper")
    return not user_model.objects.exists() and not paper_model.objects.exists()


def _insert(model, objects):
    model._base_manager.bulk_create([item.object for item in objects], batch_size=BATCH)
    for field in model._meta.many_to_many:
        through = field.remote_field.through
        if not through._meta.auto_created:
            continue  # a through model of its own is moved as rows of its own
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        links = [
            through(**{f"{source}_id": item.object.pk, f"{target}_id": pk})
            for item in objects
            for pk in item.m2m_data.get(field.name, [])
        ]
        through._base_manager.bulk_create(links, batch_size=BATCH)


def _lines(path, bar):
    with _open(path, "r") as stream:
        for line in stream:
            bar.update(1)
            yield line


def _count_lines(path):
    with _open(path, "r") as stream:
        return sum(1 for _ in stream)


def import_instance(path, *, progress=True, dry_run=False):
    """Load an export into this (migrated, empty) database; returns {model label: rows}.
    All or nothing: one transaction, rolled back at the end of a dry run."""
    if not _target_is_empty():
        raise MoveError(
            "This database has members or papers already: import goes into a fresh one "
            "(create it, run `dailypapers migrate`, then import)."
        )
    models = models_to_move()
    counts = {}
    with (
        transaction.atomic(),
        tqdm(total=_count_lines(path), unit="row", desc="import", disable=not progress) as bar,
    ):
        # Rows that migrations made (groups, for one) give way to the instance's own.
        for model in models:
            model._base_manager.all().delete()
        try:
            objects = serializers.deserialize("jsonl", _lines(path, bar), ignorenonexistent=True)
            for model, group in itertools.groupby(objects, key=lambda item: type(item.object)):
                for batch in itertools.batched(group, BATCH):
                    _insert(model, batch)
                    counts[model._meta.label] = counts.get(model._meta.label, 0) + len(batch)
        except DeserializationError as exc:
            raise MoveError(f"{path} is not a dailypapers export: {exc}") from None
        if not counts:
            raise MoveError(f"{path} is not a dailypapers export: it holds no rows of ours.")
        with connection.cursor() as cursor:  # PostgreSQL: ids go on after the imported ones
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
        if dry_run:
            transaction.set_rollback(True)
    return counts
