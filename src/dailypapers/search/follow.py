"""A tantivy keyword index on every machine, following the database (PostgreSQL).

With `DATABASE_URL` on PostgreSQL and `DAILYPAPERS_SEARCH_ENGINE=tantivy-follow`, whoever indexes
papers (a worker, `ingest`, `search reindex`, a request that saved a paper) writes no index
file: it appends the ids of the papers it indexed to a change log in the database
(`KeywordChange`). Every machine that searches keeps its own tantivy index in its search
directory and follows that log: one process per machine (a file lock elects it) reads the
new changes every POLL_SECONDS, reads those papers from the database and writes them into
the local index; every process on the machine searches it (tantivy's readers reload on
commit). A machine with no index, or one that fell behind the pruned log, indexes every
visible paper first (688,535 papers: 29 minutes, 7.8 of them CPU, on a busy 2-core machine;
`dailypapers search follow --once` does it in the foreground, before a server starts).

Why: at 1M papers PostgreSQL's full-text search answered keyword queries in p95 of several
hundred ms, tantivy in tens (docs/search.md, "Search at 1M papers on PostgreSQL").

The log's ids come from a sequence, so a transaction that took id 10 may commit after the
one that took id 11. A follower therefore moves its watermark (every change up to it is
applied) over a gap only once the change after the gap is SETTLE_SECONDS old; changes
beyond the watermark that it applied already are remembered, not applied twice.
"""

import contextlib
import fcntl
import json
import logging
import os
import threading
from dataclasses import dataclass, field

from django.db import connection, transaction

from . import keyword

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
SETTLE_SECONDS = 60  # a gap in the log older than this is an id that will never come
KEEP_DAYS = 7  # the nightly task prunes older changes; a follower behind them rebuilds
READ_BATCH = 20_000  # changes read at a time
PAPER_BATCH = 2_000  # papers read from the database at a time
POSITION_FILE = "follow.json"
LOCK_FILE = "follow.lock"


# --- the writing side: any process that indexes ----------------------------------------------


def record(paper_ids):
    """Log that these papers' keyword documents changed (added, changed, hidden or deleted)."""
    from .models import KeywordChange

    paper_ids = sorted({int(pk) for pk in paper_ids})
    if paper_ids:
        KeywordChange.objects.bulk_create(KeywordChange(paper_id=pk) for pk in paper_ids)


def record_clear():
    """Log that the index was cleared (`search reindex` then logs every paper again)."""
    from .models import KeywordChange

    KeywordChange.objects.create(paper_id=None)


def prune(days=KEEP_DAYS):
    """Drop changes older than `days`; returns how many. A follower whose watermark is below
    the highest id dropped indexes everything again."""
    from .models import IndexState, KeywordChange

    if connection.vendor != "postgresql":
        return 0  # no machine follows a SQLite database (and SQLite has no now())
    with transaction.atomic():
        old = KeywordChange.objects.filter(at__lt=_db_now() - _days(days))
        last = max(old.values_list("id", flat=True).order_by("-id")[:1], default=0)
        if not last:
            return 0
        deleted, _ = KeywordChange.objects.filter(id__lte=last).delete()
        IndexState.objects.get_or_create(pk=1)
        IndexState.objects.filter(pk=1).update(keyword_changes_pruned=last)
    return deleted


def _db_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


def _days(days):
    import datetime as dt

    return dt.timedelta(days=days)


class FollowingIndex(keyword.KeywordIndex):
    """The engine on PostgreSQL with DAILYPAPERS_SEARCH_ENGINE=tantivy-follow: writes go to the
    change log; searches read the local index, which a follower keeps up to date."""

    follows_database = True

    def bulk(self):
        return contextlib.nullcontext(self)  # a log row per paper: nothing to buffer

    def write(self, *, add=(), delete=()):
        record([doc["pk"] for doc in add] + list(delete))

    def clear(self):
        record_clear()

    def search(self, *args, **kwargs):
        start_following(self)
        return super().search(*args, **kwargs)

    def count_every_word(self, *args, **kwargs):
        start_following(self)
        return super().count_every_word(*args, **kwargs)

    def searcher(self):
        start_following(self)
        return super().searcher()

    # the follower's own writes, into the local files
    def apply(self, *, add=(), delete=()):
        keyword.KeywordIndex.write(self, add=add, delete=delete)

    def apply_clear(self):
        keyword.KeywordIndex.clear(self)

    def local_bulk(self):
        return keyword.KeywordIndex.bulk(self)


# --- the following side: one process per machine -----------------------------------------------


@dataclass
class Position:
    """How far the local index has followed the log (kept in POSITION_FILE beside it)."""

    watermark: int = 0  # every change up to this id is in the local index
    applied: list = field(default_factory=list)  # ids above the watermark applied already
    built: bool = False  # every paper was indexed once (a new index is not)
    # The last change read (id, and its time as the database wrote it): a log where that
    # row is gone or another is another log (a restored backup), which the index never
    # followed; its ids may run below the watermark. The index is then built again.
    last_id: int = 0
    last_at: str = ""

    @classmethod
    def load(cls, path):
        try:
            data = json.loads((path / POSITION_FILE).read_text())
        except (OSError, ValueError):
            return cls()
        return cls(
            int(data["watermark"]), list(data.get("applied", [])), bool(data["built"]),
            int(data.get("last_id", 0)), str(data.get("last_at", "")),
        )  # fmt: skip

    def read(self, change_id, at):
        if change_id >= self.last_id:
            self.last_id, self.last_at = change_id, at.isoformat()

    def save(self, path):
        temporary = path / f"{POSITION_FILE}.tmp"
        temporary.write_text(json.dumps(self.__dict__))
        os.replace(temporary, path / POSITION_FILE)  # atomic: never half a file


def advance(watermark, rows):
    """The new watermark after reading `rows` [(id, settled)] in id order: it moves over
    consecutive ids, and over a gap only when the change after it is settled (old enough
    that no transaction can still commit an id in the gap)."""
    for change_id, settled in rows:
        if change_id != watermark + 1 and not settled:
            break
        watermark = change_id
    return watermark


def _pruned():
    from .models import IndexState

    pruned = IndexState.objects.filter(pk=1).values_list("keyword_changes_pruned", flat=True)
    return pruned.first() or 0


def must_rebuild(position, pruned):
    return not position.built or position.watermark < pruned or not same_log(position, pruned)


def same_log(position, pruned):
    """Whether the database's change log is the one the local index followed: the last
    change read is still there, written at the same time. A restored backup brings its
    own log, whose ids (from its own sequence) start below this index's watermark: its
    changes, its "clear" included, would otherwise be taken for changes applied already."""
    if not position.last_id or position.last_id <= pruned:
        return True  # nothing read yet, or pruned since: nothing to compare
    with connection.cursor() as cursor:
        cursor.execute("SELECT at FROM search_keywordchange WHERE id = %s", [position.last_id])
        row = cursor.fetchone()
    return row is not None and row[0].isoformat() == position.last_at


def pending(index):
    """What catch_up has to go through, for a progress bar: every visible paper when it
    builds the index first (the build then skips the log written before it), else the
    changes logged since the watermark."""
    from dailypapers.papers.models import Paper

    position = Position.load(index.path)
    if must_rebuild(position, _pruned()):
        return Paper.objects.visible().count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM search_keywordchange WHERE id > %s", [position.watermark]
        )
        return cursor.fetchone()[0]


def catch_up(index, *, progress=None):
    """Apply the changes logged since the last call; returns the number of papers written.
    Indexes every visible paper first when the local index was never built or fell behind
    the pruned log. `progress(n)` after each batch of papers or changes."""
    position = Position.load(index.path)
    pruned = _pruned()
    written = 0
    if must_rebuild(position, pruned):
        if position.built and not same_log(position, pruned):
            log.warning(
                "keyword index: the database's change log is not the one this index followed "
                "(a restored backup?): indexing every paper again"
            )
        written = rebuild(index, pruned=pruned, progress=progress)
        position = Position.load(index.path)
    while True:
        rows = _changes_after(position.watermark)
        if not rows:
            return written
        applied = set(position.applied)
        if any(row[1] is None and row[0] not in applied for row in rows):
            # `search reindex` cleared the index and logs every paper again, for minutes:
            # emptied here, this machine's searches would find only what it logged so far.
            # Build from the papers themselves instead, over the old documents.
            log.info("keyword index: a reindex started: indexing every paper again")
            written += rebuild(index, pruned=pruned, progress=progress)
            position = Position.load(index.path)
            continue
        new = [(row[0], row[1]) for row in rows if row[0] not in applied]
        with index.local_bulk():  # one commit for the lot: a commit per batch re-merges
            written += _apply(index, [paper_id for _, paper_id in new])
        if progress:
            progress(len(rows))
        watermark = advance(position.watermark, [(row[0], row[2]) for row in rows])
        applied |= {change_id for change_id, _ in new}
        moved = watermark != position.watermark
        position.watermark = watermark
        position.read(rows[-1][0], rows[-1][3])
        position.applied = sorted(i for i in applied if i > watermark)
        position.save(index.path)
        if not moved or len(rows) < READ_BATCH:
            return written  # caught up, or waiting for a gap to settle


def _changes_after(watermark):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, paper_id, at < now() - make_interval(secs => %s), at "
            "FROM search_keywordchange WHERE id > %s ORDER BY id LIMIT %s",
            [SETTLE_SECONDS, watermark, READ_BATCH],
        )
        return cursor.fetchall()


def _apply(index, paper_ids):
    """Write these papers into the local index, in log order; None (a clear) empties it
    first, and what came before it no longer matters (the reindex logs every paper)."""
    pending = []
    for paper_id in paper_ids:
        if paper_id is None:
            pending = []
            index.apply_clear()
        else:
            pending.append(paper_id)
    return _write_papers(index, pending)


def _write_papers(index, paper_ids):
    from .services import keyword_documents

    paper_ids = sorted(set(paper_ids))
    for start in range(0, len(paper_ids), PAPER_BATCH):
        _, documents, gone = keyword_documents(paper_ids[start : start + PAPER_BATCH])
        index.apply(add=documents, delete=gone)
    return len(paper_ids)


def rebuild(index, *, pruned=0, progress=None):
    """Index every visible paper from the database; returns how many.

    The local index is never emptied first: every paper's document is written over its old
    one, and the documents of papers no longer visible are dropped at the end, so searches
    on this machine find every paper throughout (a `search reindex`, a restored database).
    The changes committed before the papers are read are reflected by that read: they
    count as applied. Those committed after are applied after it (again, harmlessly)."""
    from dailypapers.papers.models import Paper

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, at FROM search_keywordchange "
            "WHERE at < now() - make_interval(secs => %s) ORDER BY id DESC LIMIT 1",
            [SETTLE_SECONDS],
        )
        settled = cursor.fetchone()
        start = max(settled[0] if settled else 0, pruned)
        cursor.execute("SELECT id, at FROM search_keywordchange WHERE id > %s ORDER BY id", [start])
        committed = cursor.fetchall()  # at most the last SETTLE_SECONDS of the log
    before = indexed_pks(index)
    ids = list(Paper.objects.visible().order_by("pk").values_list("pk", flat=True))
    log.info("keyword index: indexing %d papers from the database", len(ids))
    with index.local_bulk():
        for first in range(0, len(ids), PAPER_BATCH):
            _write_papers(index, ids[first : first + PAPER_BATCH])
            if progress:
                progress(min(PAPER_BATCH, len(ids) - first))
        index.apply(delete=sorted(before.difference(ids)))
    position = Position(start, [change_id for change_id, _ in committed], built=True)
    for last in (settled, *committed[-1:]):
        if last:
            position.read(*last)
    position.save(index.path)
    return len(ids)


def indexed_pks(index):
    """The paper ids of every document of the local index (a fast field: no document read)."""
    import tantivy

    searcher = keyword.KeywordIndex.searcher(index)  # not FollowingIndex's: no thread
    if not searcher.num_docs:
        return set()
    hits = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs).hits
    return set(searcher.fast_field_values("pk", [address for _, address in hits]))


# --- the follower thread of a serving process ------------------------------------------------

_started = {}  # index path -> (thread, its stop event)
STOP_TIMEOUT = 30  # seconds stop_following waits for each thread
_start_lock = threading.Lock()


def start_following(index):
    """Start this process's follower thread for the index (once; again after a fork)."""
    running = _started.get(index.path)
    if running is not None and running[0].is_alive():
        return
    with _start_lock:
        running = _started.get(index.path)
        if running is None or not running[0].is_alive():
            stop = threading.Event()
            thread = threading.Thread(
                target=_follow, args=(index, stop), name="keyword-follower", daemon=True
            )
            _started[index.path] = (thread, stop)
            thread.start()


def stop_following():
    """Stop this process's follower threads (tests; a process that exits need not)."""
    with _start_lock:
        running = list(_started.values())
        _started.clear()
    for _, stop in running:
        stop.set()
    for thread, _ in running:
        # Bounded: a follower stuck in a database call must not hang the caller (CI).
        thread.join(timeout=STOP_TIMEOUT)
        if thread.is_alive():
            log.warning("keyword index: follower thread still busy after %s s", STOP_TIMEOUT)


def _follow(index, stop):
    """Take the machine's follower lock (or wait for the process that holds it to go),
    then apply the log's changes every POLL_SECONDS, until stopped."""
    lock = None
    try:
        while not stop.is_set():
            try:
                lock = lock or machine_lock(index.path)
                if lock is not None and catch_up(index):
                    bump_caches()
            except Exception:
                log.exception("keyword index: following the database failed; retrying")
                connection.close()  # a broken connection (database restarted) is not reused
            stop.wait(POLL_SECONDS if lock is not None else 5 * POLL_SECONDS)
    finally:
        if lock is not None:
            lock.close()
        connection.close()  # this thread's own connection


def machine_lock(path):
    """An open file holding the lock of this index directory, or None if another process
    of this machine follows it."""
    handle = open(path / LOCK_FILE, "a")  # noqa: SIM115 (held for the life of the process)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def bump_caches():
    """The local index changed: cached answers of this machine must not outlive it."""
    from dailypapers.caching.generation import bump

    bump()


def _forget_after_fork():
    _started.clear()  # threads do not survive a fork; the child starts its own


os.register_at_fork(after_in_child=_forget_after_fork)


def lag():
    """(changes not yet applied to this machine's index, the last change id beyond the
    watermark or 0, the Position), for `search status`."""
    index = keyword.get_index()
    if not getattr(index, "follows_database", False):
        return None
    position = Position.load(index.path)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE id <> ALL(%s)), coalesce(max(id), 0) "
            "FROM search_keywordchange WHERE id > %s",
            [list(position.applied), position.watermark],
        )
        behind, last = cursor.fetchone()
    return behind, last, position
