"""Search state kept in the database: paper embeddings and members' feedback on papers."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class PaperEmbedding(models.Model):
    """The vector of a paper under one embedding contract (model, dims, norm, text format).

    Re-embedding deletes and inserts, so the id only grows: a process that has seen every
    id up to N catches up on new and changed vectors with `id > N`.
    """

    paper = models.OneToOneField(
        "papers.Paper", on_delete=models.CASCADE, related_name="search_embedding"
    )
    contract = models.CharField(max_length=64, db_index=True)
    vector = models.BinaryField()  # float32, little-endian, L2-normalised
    # A digest of the text that was embedded: a paper whose text did not change keeps its
    # vector (ingest re-announces papers; a queued index task may follow a reindex).
    text_hash = models.CharField(max_length=16, default="", blank=True)

    def __str__(self):
        return f"{self.paper_id} [{self.contract}]"


class IndexState(models.Model):
    """One row: how far the search indexes have moved, shared by every process.

    `generation` moves whenever indexing changed what a search can find, so caches of
    search answers key on it (search.index_generation). `reindex_epoch` moves when
    `search reindex` starts: index work queued before it is superseded and stops.
    """

    generation = models.BigIntegerField(default=0)
    reindex_epoch = models.IntegerField(default=0)
    # KeywordChange rows up to this id were pruned: a follower behind it starts again.
    keyword_changes_pruned = models.BigIntegerField(default=0)

    def __str__(self):
        return f"generation {self.generation}, reindex epoch {self.reindex_epoch}"


class KeywordChange(models.Model):
    """A paper whose keyword document changed, for the tantivy indexes that follow the
    database (search/follow.py: PostgreSQL with DAILYPAPERS_SEARCH_ENGINE=tantivy-follow).

    paper_id None: the index was cleared (`search reindex`). No foreign key: a deleted
    paper's change says "drop it". `at` is the database's clock, the same for every
    machine, so a follower can tell an id that will never come from one still in flight.
    """

    paper_id = models.BigIntegerField(null=True)
    at = models.DateTimeField(db_default=Now(), db_index=True)

    def __str__(self):
        return f"{self.pk}: {self.paper_id if self.paper_id is not None else 'clear'}"


class UnindexedPaper(models.Model):
    """A paper written but not yet indexed for search (search/services.py, "catch-up").

    Whoever writes papers marks them (`tasks.index_papers_later`, the receiver of every
    paper write); indexing them (keyword document and vector) removes the marks it read
    before reading the papers, so a paper written again meanwhile stays marked. A write
    whose indexing was interrupted (a killed `ingest`, a database outage) leaves its marks:
    the next ingest, `serve` at start-up and the nightly task index them. A paper marked
    twice has two rows; no foreign key: a deleted paper's mark says "drop it".
    """

    paper_id = models.BigIntegerField(db_index=True)
    at = models.DateTimeField(db_default=Now())

    def __str__(self):
        return f"{self.paper_id} unindexed since {self.at}"


class PaperFeedback(models.Model):
    """A member's explicit signal on a paper, for "For you" (upvotes are the other one)."""

    class Kind(models.TextChoices):
        SAVED = "saved", "Saved"
        NOT_INTERESTED = "not_interested", "Not interested"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "paper"], name="search_feedback_once")
        ]
        indexes = [models.Index(fields=["user", "kind"], name="search_feedback_user")]

    def __str__(self):
        return f"{self.user} {self.kind} {self.paper_id}"


class Acronym(models.Model):
    """An acronym as the papers define it, e.g. llm -> "large language models" (acronyms.py)."""

    short = models.CharField(max_length=16, unique=True)  # lowercase, singular
    long = models.CharField(max_length=200)
    papers = models.PositiveIntegerField()  # papers that define it this way

    def __str__(self):
        return f"{self.short} = {self.long}"
