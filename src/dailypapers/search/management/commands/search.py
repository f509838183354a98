"""`dailypapers search reindex|status|query`: maintain and try the search indexes."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dailypapers.papers.models import Paper

SORTS = ["relevance", "newest", "upvotes"]


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
        reindex = sub.add_parser("reindex", help="rebuild the keyword index, embed what is missing")
        reindex.add_argument("--dry-run", action="store_true", help="count, change nothing")
        reindex.add_argument("--no-embed", action="store_true", help="keyword index only")
        reindex.add_argument("--reembed", action="store_true", help="embed every paper again")
        reindex.add_argument("--batch", type=int, default=2000)
        sub.add_parser("status", help="papers, indexed documents, vectors")
        follow = sub.add_parser(
            "follow",
            help="keep this machine's keyword index up to date with the database "
            "(DAILYPAPERS_SEARCH_ENGINE=tantivy-follow)",
        )
        follow.add_argument("--once", action="store_true", help="catch up, then stop")
        query = sub.add_parser("query", help="search from the command line")
        query.add_argument("text")
        query.add_argument("--limit", type=int, default=10)
        query.add_argument("--sort", default="relevance", choices=SORTS)
        query.add_argument("--mode", default="auto", choices=["auto", "keyword", "semantic"])

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_reindex(self, *, dry_run, no_embed, reembed, batch, **_):
        from dailypapers.search import keyword, vectors
        from dailypapers.search.acronyms import refresh as acronyms_refresh
        from dailypapers.search.embedders import EmbedderUnavailable, get_embedder
        from dailypapers.search.services import index_papers, missing_embeddings, start_reindex

        ids = list(Paper.objects.visible().order_by("pk").values_list("pk", flat=True))
        try:
            embedder = None if no_embed else get_embedder()
        except EmbedderUnavailable as exc:
            raise CommandError(f"The embedder cannot be loaded: {exc}") from None
        to_embed = set(ids if reembed else (missing_embeddings() if embedder else []))
        self.stdout.write(f"{len(ids)} visible papers; {len(to_embed)} to embed")
        if dry_run:
            return
        start_reindex()  # index work queued before now is superseded: no paper twice
        if embedder is not None and reembed:
            vectors.forget_published(embedder.contract)
        index = keyword.get_index()
        with index.bulk(), tqdm(total=len(ids), unit="paper", desc="indexing") as bar:
            index.clear()
            # The papers to embed in one call: when they are many, pgvector's HNSW index is
            # built once after them rather than grown vector by vector.
            index_papers(sorted(to_embed), publish=False, progress=bar.update, batch_size=batch)
            rest = [pk for pk in ids if pk not in to_embed]
            index_papers(rest, embed=False, progress=bar.update, batch_size=batch)
        if embedder is not None:
            vectors.reset_stores()
            store = vectors.get_store(embedder.contract, embedder.dims)
            if store.kind == "pgvector":
                store.catch_up()  # copies what is missing, builds the HNSW index
            elif len(store.index) >= vectors.HNSW_THRESHOLD or vectors.read_pointer(
                embedder.contract
            ):
                vectors.publish(embedder.contract, embedder.dims)  # serving processes load it
        index.refresh_statistics()  # the PostgreSQL engine's word counts
        acronyms = acronyms_refresh()
        self.stdout.write(self.style.SUCCESS(f"indexed {len(ids)} papers; {acronyms} acronyms"))

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
        self.stdout.write(f"keyword index: {written} papers written; {index.count()} documents")
        while not once:
            if follow.catch_up(index):
                follow.bump_caches()
            time.sleep(follow.POLL_SECONDS)

    def do_status(self, **_):
        from dailypapers.search import follow, keyword
        from dailypapers.search.embedders import EmbedderUnavailable, get_embedder
        from dailypapers.search.models import Acronym, PaperEmbedding

        self.stdout.write(f"visible papers:      {Paper.objects.visible().count()}")
        self.stdout.write(f"keyword documents:   {keyword.get_index().count()}")
        following = follow.lag()
        if following is not None:
            behind, last, position = following
            self.stdout.write(
                f"keyword index:       follows the database (tantivy-follow): change "
                f"{position.watermark} of {last}, {behind} behind"
            )
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
        self.stdout.write(f"embedder:            {embedder.contract} ({embedder.dims} dims)")
        self.stdout.write(f"vectors (current):   {current}")
        self.stdout.write(f"vectors (stale):     {PaperEmbedding.objects.count() - current}")
        self.stdout.write(f"vector index:        {_vector_index(embedder, current)}")

    def do_query(self, *, text, limit, sort, mode, **_):
        from dailypapers.search import search_papers

        results = search_papers(text, limit=limit, sort=sort, mode=mode)
        plural = "" if results.matches == 1 else "es"
        header = f"{results.matches} match{plural}, mode {results.mode}"
        if results.more_by_meaning:
            header += f"; {results.total - results.matches} more close in meaning"
        if results.also_searched:
            header += f"; also searched: {', '.join(results.also_searched)}"
        self.stdout.write(header)
        if results.notice:
            self.stdout.write(results.notice)
        for paper in results.papers:
            mark = "*" if results.pinned and paper.pk == results.pinned.pk else " "
            self.stdout.write(f"{mark} {paper.arxiv_id:<12} {paper.title[:90]}")


def _vector_index(embedder, count):
    from dailypapers.search.pgvector import PgVectorUnavailable, mode
    from dailypapers.search.vectors import get_store, read_pointer

    try:
        store = get_store(embedder.contract, embedder.dims)
    except PgVectorUnavailable as exc:
        return f"unavailable ({exc})"
    if getattr(store, "kind", "") == "pgvector":
        return f"pgvector HNSW ({len(store)} vectors, index {store.index_name}; mode {mode()})"
    pointer = read_pointer(embedder.contract)
    graph = (
        f"published hnswlib graph {pointer['file']} ({pointer['count']} vectors)"
        if pointer
        else "no graph published (exact numpy)"
    )
    return f"in memory per process: {graph}; {count} vectors in all; mode {mode()}"
