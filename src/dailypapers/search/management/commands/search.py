"""`dailypapers search reindex|status|query`: maintain and try the search indexes."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from dailypapers.arguments import a_count
from dailypapers.papers.models import Paper
from dailypapers.plural import counted

SORTS = ["relevance", "newest", "upvotes"]


def action(sub, name, text):
    """A sub-command whose own --help says what it does, as the list of actions does."""
    return sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")


class Command(BaseCommand):
    help = (
        "Search indexes. 'reindex' rebuilds the keyword index and (re-)embeds papers whose "
        "vectors are missing or were made by another embedding contract; 'status' shows the "
        "index sizes; 'query TEXT' runs a search as the site would. Reindex also recounts "
        "the acronyms that papers define (LLM = large language model), which queries use, and "
        "on PostgreSQL how many papers hold each word (the keyword ranking's weights)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        reindex = action(sub, "reindex", "rebuild the keyword index, embed what is missing")
        reindex.add_argument("--dry-run", action="store_true", help="count, change nothing")
        reindex.add_argument("--no-embed", action="store_true", help="keyword index only")
        reindex.add_argument("--reembed", action="store_true", help="embed every paper again")
        reindex.add_argument("--batch", type=a_count, default=2000, metavar="N",
                             help="papers per batch (default: 2000)")  # fmt: skip
        action(sub, "status", "papers, indexed documents, vectors")
        catch_up = "index the papers written but not indexed (an interrupted ingest): what the "
        catch_up += "next ingest, `serve` at start-up and the nightly task do"
        action(sub, "catch-up", catch_up)
        follow = action(sub, "follow", "keep this machine's keyword index up to date with the "
                        "database (DAILYPAPERS_SEARCH_ENGINE=tantivy-follow)")  # fmt: skip
        follow.add_argument("--once", action="store_true", help="catch up, then stop")
        example = 'e.g. dailypapers search query "diffusion transformers" --limit 5'
        query = action(sub, "query", f"search from the command line, as the site would; {example}")
        query.add_argument("text", help="the query, in the site's search syntax")
        query.add_argument("--limit", type=a_count, default=10, metavar="N",
                           help="papers to show (default: 10)")  # fmt: skip
        query.add_argument("--sort", default="relevance", choices=SORTS,
                           help="default: relevance")  # fmt: skip
        query.add_argument("--mode", default="auto", choices=["auto", "keyword", "semantic"],
                           help="default: auto")  # fmt: skip

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action.replace('-', '_')}")(**options)

    def do_reindex(self, *, dry_run, no_embed, reembed, batch, **_):
        from dailypapers.search import keyword, vectors
        from dailypapers.search.acronyms import refresh as acronyms_refresh
        from dailypapers.search.embedders import EmbedderUnavailable, get_embedder
        from dailypapers.search.services import (
            index_papers,
            missing_embeddings,
            start_reindex,
            unindexed_ids,
        )

        ids = list(Paper.objects.visible().order_by("pk").values_list("pk", flat=True))
        try:
            embedder = None if no_embed else get_embedder()
        except EmbedderUnavailable as exc:
            raise CommandError(f"The embedder cannot be loaded: {exc}") from None
        to_embed = set(ids if reembed else (missing_embeddings() if embedder else []))
        # Papers written but not indexed (their text may have changed since their vector):
        # indexed with their vectors, which also clears their marks (hidden or deleted ones
        # included).
        to_embed |= set(unindexed_ids()) if embedder else set()
        self.stdout.write(f"{len(ids)} visible papers; {len(to_embed)} to embed")
        if dry_run:
            return
        index = keyword.get_index()
        stale = _documents_to_drop(index, ids)
        if stale is None:
            self.stdout.write(
                "Each machine's keyword index (tantivy-follow) is built again by its follower, "
                "over its old documents: its searches find every paper meanwhile."
            )
        start_reindex()  # index work queued before now is superseded: no paper twice
        if embedder is not None and reembed:
            vectors.forget_published(embedder.contract)
        rest = [pk for pk in ids if pk not in to_embed]
        with index.bulk():
            if stale is None:
                index.clear()  # logged: each follower then builds its index over the old one
            # The papers to embed in one call: when they are many, pgvector's HNSW index is
            # built once after them rather than grown vector by vector.
            with _Steps(self, "embedding", len(to_embed)) as steps:
                index_papers(sorted(to_embed), publish=False, progress=steps.update,
                             batch_size=batch, step=steps.step)  # fmt: skip
            with _Steps(self, "keyword index", len(rest)) as steps:
                index_papers(rest, embed=False, progress=steps.update, batch_size=batch)
            if stale:
                index.write(delete=stale)  # documents of papers gone or hidden
        if embedder is not None:
            vectors.reset_stores()
            store = vectors.get_store(embedder.contract, embedder.dims)
            if store.kind == "pgvector":
                with _Steps(self) as steps:
                    steps.step("vector index: copying what is missing into pgvector, "
                               "building its HNSW index if needed")  # fmt: skip
                    store.catch_up()
            elif len(store.index) >= vectors.HNSW_THRESHOLD or vectors.read_pointer(
                embedder.contract
            ):
                with _Steps(self) as steps:
                    steps.step(f"vector index: publishing the hnswlib graph of "
                               f"{counted(len(store.index), 'vector')}")  # fmt: skip
                    vectors.publish(embedder.contract, embedder.dims)  # serving processes load it
        with _Steps(self) as steps:
            steps.step("counting words and acronyms")
            index.refresh_statistics()  # the PostgreSQL engine's word counts
            acronyms = acronyms_refresh()
        keyword.finish_building()  # a new format's index, now full, answers searches
        self.stdout.write(
            self.style.SUCCESS(
                f"indexed {counted(len(ids), 'paper')}; {counted(acronyms, 'acronym')}"
            )
        )

    def do_catch_up(self, **_):
        from dailypapers.search.services import catch_up, mark_never_embedded, unindexed_count

        mark_never_embedded()
        waiting = unindexed_count()
        if not waiting:
            self.stdout.write("Every paper written is indexed for search: nothing to catch up.")
            return
        with _Steps(self, "catching up", waiting) as steps:
            indexed = catch_up(progress=steps.update, step=steps.step)
        self.stdout.write(self.style.SUCCESS(
            f"indexed {counted(indexed, 'paper')} written but not indexed; "
            f"{unindexed_count()} still waiting"
        ))  # fmt: skip

    def do_follow(self, *, once, **_):
        """What a serving process's follower thread does, in the foreground: before a new
        app server starts (--once), or as a process of its own."""
        import time

        from dailypapers.search import follow, keyword

        index = keyword.get_index()
        if not getattr(index, "follows_database", False):
            raise CommandError(
                "search follow needs PostgreSQL and DAILYPAPERS_SEARCH_ENGINE=tantivy-follow."
            )
        lock = follow.machine_lock(index.path)
        if lock is None:
            raise CommandError(f"Another process already follows the index in {index.path}.")
        # every paper when the index is built first, else the changes logged since it
        with tqdm(total=follow.pending(index), desc="keyword index") as bar:
            written = follow.catch_up(index, progress=bar.update)
        documents = counted(index.count(), "document")
        self.stdout.write(f"keyword index: {counted(written, 'paper')} written; {documents}")
        while not once:
            if follow.catch_up(index):
                follow.bump_caches()
            time.sleep(follow.POLL_SECONDS)

    def do_status(self, **_):
        from dailypapers.search import follow
        from dailypapers.search.embedders import EmbedderUnavailable, get_embedder
        from dailypapers.search.models import Acronym, PaperEmbedding
        from dailypapers.search.status import keyword_status

        keyword = keyword_status()
        visible = keyword.visible
        self.stdout.write(f"visible papers:      {visible:,}")
        self.stdout.write(f"keyword index:       {_keyword_index(keyword, follow.lag())}")
        if keyword.short and keyword.engine != "tantivy-follow":
            self.stdout.write(f"keyword refill:      {_refill(keyword)}")
        if keyword.outdated:
            self.stdout.write(f"document format:     {_rewrite(keyword)}")
        if keyword.waiting:
            self.stdout.write(
                f"not yet indexed:     {counted(keyword.waiting, 'paper')} written but not "
                f"indexed (an interrupted ingest?); the next `dailypapers ingest`, `serve` at "
                f"start-up and the nightly task index them; `dailypapers search catch-up` does "
                f"it now"
            )
        else:
            self.stdout.write("not yet indexed:     none")
        self.stdout.write(f"acronyms:            {Acronym.objects.count()}")
        try:
            embedder = get_embedder()
        except EmbedderUnavailable as exc:
            self.stdout.write(f"embedder:            unavailable ({exc})")
            return
        if embedder is None:
            self.stdout.write("embedder:            off")
            return
        current = PaperEmbedding.objects.filter(contract=embedder.contract).count()
        without = (
            Paper.objects.visible()
            .exclude(
                pk__in=PaperEmbedding.objects.filter(contract=embedder.contract).values("paper_id")
            )
            .count()
        )
        self.stdout.write(f"embedder:            {embedder.contract} ({embedder.dims} dims)")
        covered = _share(visible - without, visible, "visible papers")
        self.stdout.write(f"vectors (current):   {current}; {covered}")
        self.stdout.write(f"vectors (stale):     {PaperEmbedding.objects.count() - current}")
        if without:
            self.stdout.write(
                f"without a vector:    {without} visible papers (`dailypapers search catch-up` "
                f"embeds those never embedded; `search reindex` those of an older embedder)"
            )
        self.stdout.write(f"vector index:        {_vector_index(embedder, current)}")

    def do_query(self, *, text, limit, sort, mode, **_):
        from dailypapers.search import search_papers

        results = search_papers(text, limit=limit, sort=sort, mode=mode)
        plural = "" if results.matches == 1 else "es"
        every = " every word" if results.several_words else ""
        over = "+" if results.more_than_counted else ""
        header = f"{results.matches}{over} match{plural}{every}, mode {results.mode}"
        if results.partly:
            partly = results.some_words
            header += f"; {partly} more match {'some of the words' if every else 'in part'}"
        if results.more_by_meaning:
            header += f"; {results.by_meaning} more close in meaning"
        if results.also_searched:
            header += f"; also searched: {', '.join(results.also_searched)}"
        self.stdout.write(header)
        if results.notice:
            self.stdout.write(results.notice)
        for paper in results.papers:
            mark = "*" if results.pinned and paper.pk == results.pinned.pk else " "
            self.stdout.write(f"{mark} {paper.arxiv_id:<12} {paper.title[:90]}")


def _share(part, whole, things):
    """ "31,204 of 74,813 papers (41%)": the percentage rounded down, so that a part short
    of the whole never shows 100%."""
    percent = f" ({100 * part // whole}%)" if whole else ""
    return f"{part:,} of {whole:,} {things}{percent}"


def _keyword_index(status, following):
    """The engine, its papers against the visible ones, and whether it is complete."""
    line = f"{status.engine}, {_share(status.documents, status.visible, 'visible papers')}"
    if following is not None:  # its follower fills it from the database's change log
        behind, last, position = following
        if not position.built:
            return f"{line}; not built yet: `dailypapers search follow --once` builds it"
        if behind:
            return (f"{line}; {behind} changes behind (applied up to change "
                    f"{position.watermark}, the last is {last})")  # fmt: skip
        return f"{line}; caught up (every change up to {position.watermark} applied)"
    if status.short:
        return f"{line}; refilling" if status.work else f"{line}; short of papers"
    if status.outdated:
        return f"{line}; some of an older format (below)"
    if status.documents < status.visible:
        return f"{line}; the others wait to be indexed (below)"
    return f"{line}; complete"


def _refill(status):
    """What fills an index short of papers, and what is missing until then."""
    missing = status.visible - status.documents - status.waiting
    meanwhile = (f"until then keyword search misses {missing:,} papers (semantic search "
                 f"finds them)")  # fmt: skip
    if status.serving:  # a new format's index, built beside the one searches read
        meanwhile = (f"until then searches read the previous index ({status.serving}, "
                     f"{status.serving_documents:,} papers)")  # fmt: skip
    if status.work:
        return f"{_work(status.work)}; {meanwhile}"
    fix = ("`dailypapers serve` queues a refill at start-up; `dailypapers search reindex` "
           "fills the index now")  # fmt: skip
    if not status.queue_visible:  # RQ, Celery: this command cannot see their queues
        return f"if no refill is queued, {fix}; {meanwhile}"
    return f"none queued: {fix}; {meanwhile}"


def _rewrite(status):
    """PostgreSQL documents of an older format: rewritten by the worker, matched meanwhile."""
    line = f"{_share(status.outdated, status.documents, 'documents')} of an older format"
    meanwhile = ("meanwhile their words match as typed too, and a spelling without accents "
                 "misses their accented words")  # fmt: skip
    if status.work and not status.short:  # else the refill line says the work
        return f"{line}, being rewritten: {_work(status.work)}; {meanwhile}"
    fix = ("`dailypapers serve` queues them at start-up; `dailypapers search reindex` "
           "rewrites them now")  # fmt: skip
    return f"{line}, to rewrite: {fix}; {meanwhile}"


def _work(work):
    """The chunks queued for the worker, and the time left at the pace of those done."""
    from django.utils import timezone

    papers = f"{work.papers:,} paper{'' if work.papers == 1 else 's'}"
    line = f"{papers} in {counted(work.chunks, 'chunk')} queued for the worker"
    if work.running_since:
        running = (timezone.now() - work.running_since).total_seconds()
        line += f" (one running for {_duration(running)})"
    if work.seconds_left is None:
        return f"{line}; the time left is known once a chunk is done"
    left = _duration(work.seconds_left)
    left = left if left.startswith("less") else f"about {left}"
    return f"{line}; {left} left at the pace of the {counted(work.done, 'chunk')} done"


def _duration(seconds):
    minutes = round(seconds / 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return counted(minutes, "minute")
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _documents_to_drop(index, visible):
    """The ids of the keyword documents of papers not visible, which a reindex drops after
    writing every paper's document over its old one: the index is never emptied, so
    searches find every paper while it runs. None on tantivy-follow, whose reindex logs a
    "clear" (each machine's follower then builds its own index the same way)."""
    from dailypapers.search import follow, keyword

    if getattr(index, "follows_database", False):
        return None
    if isinstance(index, keyword.KeywordIndex):
        present = follow.indexed_pks(index)
    else:  # PostgreSQL full-text
        with connection.cursor() as cursor:
            cursor.execute("SELECT paper_id FROM search_pgdocument")
            present = {row[0] for row in cursor.fetchall()}
    return sorted(present.difference(visible))


class _Steps:
    """A progress bar for a run of papers, and the long steps between that are not (building
    a vector index): each said on a line of its own, with its time once over."""

    def __init__(self, command, desc=None, total=0):
        self.command, self.started, self.bar = command, None, None
        if desc and total:
            self.bar = tqdm(total=total, desc=desc, unit=" papers", file=command.stderr._out)

    def __enter__(self):
        return self

    def update(self, count):
        self._done()
        if self.bar is not None:
            self.bar.update(count)

    def step(self, text):
        import time

        self._done()
        if self.bar is not None and self.bar.n >= self.bar.total:
            self.bar.close()  # the papers are through: the step is on its own
            self.bar = None
        self._write(f"{text}...")
        self.started = time.monotonic()

    def _done(self):
        import time

        if self.started is not None:
            self._write(f"  done in {time.monotonic() - self.started:.0f} s")
            self.started = None

    def _write(self, line):
        if self.bar is not None:
            self.bar.write(line, file=self.command.stderr._out)
        else:
            self.command.stderr.write(line)

    def __exit__(self, *exc):
        if exc[0] is None:
            self._done()
        if self.bar is not None:
            self.bar.close()


def _vector_index(embedder, count):
    from dailypapers.search.pgvector import PgVectorUnavailable, mode
    from dailypapers.search.vectors import get_store, read_pointer

    try:
        store = get_store(embedder.contract, embedder.dims)
    except PgVectorUnavailable as exc:
        return f"unavailable ({exc})"
    if getattr(store, "kind", "") == "pgvector":
        vectors = counted(len(store), "vector")
        return f"pgvector HNSW ({vectors}, index {store.index_name}; mode {mode()})"
    pointer = read_pointer(embedder.contract)
    graph = (
        f"published hnswlib graph {pointer['file']} ({counted(pointer['count'], 'vector')})"
        if pointer
        else "no graph published (exact numpy)"
    )
    return f"in memory per process: {graph}; {counted(count, 'vector')} in all; mode {mode()}"
