"""Papers, the people and organisations behind them, the days they were featured, votes."""

from django.conf import settings
from django.db import models
from django.db.models import F

from . import ranking
from .tex import tex_plain


class Organization(models.Model):
    """An organisation papers are attributed to (as Hugging Face Papers shows them)."""

    name = models.CharField(max_length=200, unique=True)  # the short handle, e.g. "google"
    fullname = models.CharField(max_length=300, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)

    def __str__(self):
        return self.fullname or self.name


class Author(models.Model):
    """A distinct author name; Paper.authors keeps the order and display form."""

    name = models.CharField(max_length=300, unique=True)

    def __str__(self):
        return self.name


class PaperQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(hidden=False)


class Paper(models.Model):
    arxiv_id = models.CharField(max_length=40, unique=True)  # base id, no version
    version = models.PositiveSmallIntegerField(default=1)  # latest known version
    # [{"version": 1, "created": "2024-01-02T18:00:00Z"}, ...] oldest first
    versions = models.JSONField(default=list, blank=True)
    title = models.TextField()
    abstract = models.TextField(blank=True)
    # [{"name": "Ada Lovelace"}, ...] in paper order; may carry upstream ids ("hf_id").
    authors = models.JSONField(default=list, blank=True)
    author_set = models.ManyToManyField(Author, through="PaperAuthor", related_name="papers")
    categories = models.JSONField(default=list, blank=True)  # ["cs.CL", "cs.AI"]
    primary_category = models.CharField(max_length=40, blank=True)
    comment = models.TextField(blank=True)
    journal_ref = models.TextField(blank=True)
    doi = models.CharField(max_length=200, blank=True)
    github_repo = models.URLField(max_length=500, blank=True)
    github_stars = models.PositiveIntegerField(null=True, blank=True)
    project_page = models.URLField(max_length=500, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="papers"
    )
    ai_summary = models.TextField(blank=True)
    ai_keywords = models.JSONField(default=list, blank=True)
    thumbnail = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField(db_index=True)  # v1 submission (arXiv "published")
    updated_at = models.DateTimeField(null=True, blank=True)  # latest version
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    imported_upvotes = models.PositiveIntegerField(default=0)  # from another service
    local_upvotes = models.PositiveIntegerField(default=0)  # = count of Vote rows
    upvotes = models.GeneratedField(
        expression=F("imported_upvotes") + F("local_upvotes"),
        output_field=models.IntegerField(),
        db_persist=True,
    )
    trending_score = models.FloatField(default=0.0, db_index=True)  # ranking.trending_score
    num_comments = models.PositiveIntegerField(default=0)

    hidden = models.BooleanField(default=False, help_text="Hidden papers appear nowhere.")
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    objects = PaperQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(F("published_at").desc(), name="paper_published_desc"),
            # A category's newest papers (its feed, search's category filter) in index order:
            # with the category alone, cs.CL's 20,000 papers were sorted for every feed.
            models.Index("primary_category", F("published_at").desc(), name="paper_category_new"),
            # /stats counts papers ingested per day; new rows append at the end, so cheap.
            models.Index(fields=["created_at"], name="paper_created"),
        ]

    def __str__(self):
        return f"{self.arxiv_id}: {self.title[:80]}"

    def get_absolute_url(self):
        return f"/papers/{self.arxiv_id}"

    @property
    def plain_title(self):
        """The title with its TeX as text ("PA$^3$" as "PA³"), for messages and mail, where
        no KaTeX typesets it."""
        return tex_plain(self.title)

    @property
    def author_names(self):
        return [author["name"] for author in self.authors]

    @property
    def arxiv_url(self):
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self):
        return f"https://arxiv.org/pdf/{self.arxiv_id}"

    def compute_trending_score(self, *, featured_at=None):
        return ranking.trending_score(
            upvotes=self.imported_upvotes + self.local_upvotes,
            featured_at=featured_at or self.published_at,
        )


class PaperAuthor(models.Model):
    # No single-column indexes: the (paper, position) constraint and the (author, paper)
    # index cover both lookups, and each extra index slows bulk ingest (~7%).
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, db_index=False)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, db_index=False)
    position = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["paper", "position"], name="paperauthor_position")
        ]
        indexes = [models.Index(fields=["author", "paper"], name="paperauthor_author")]

    def __str__(self):
        return f"{self.position}. {self.author_id} of {self.paper_id}"


class DailyEntry(models.Model):
    """A paper featured on the daily page of `day`."""

    class Source(models.TextChoices):
        MEMBER = "member", "Submitted by a member"
        IMPORT = "import", "Imported from another daily feed"
        AUTO = "auto", "Auto-featured by the operator's rules"
        ADMIN = "admin", "Added by a moderator"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="daily_entries")
    day = models.DateField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # For imported entries: the upstream submitter ({"name", "fullname", "avatarUrl", ...}).
    submitter = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MEMBER)
    # Upstream fields kept for faithful re-export (thumbnail, mediaUrls, numComments, ...).
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "daily entries"
        constraints = [models.UniqueConstraint(fields=["paper", "day"], name="dailyentry_once")]
        indexes = [models.Index(fields=["day", "paper"], name="dailyentry_day")]

    def __str__(self):
        return f"{self.day}: {self.paper.arxiv_id}"


class Vote(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="vote_once")]
        indexes = [models.Index(fields=["paper"], name="vote_paper")]

    def __str__(self):
        return f"{self.user} ▲ {self.paper.arxiv_id}"
