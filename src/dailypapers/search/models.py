"""Search state kept in the database: paper embeddings and members' feedback on papers."""

from django.conf import settings
from django.db import models


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

    def __str__(self):
        return f"{self.paper_id} [{self.contract}]"


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
