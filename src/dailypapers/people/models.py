"""Who is behind the papers: author name variants merged by moderators, authorship claims
by members (verified by moderators), and members' collections of papers."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.text import slugify

from dailypapers.papers.models import Author, Paper


def author_slug(author_id, name):
    """The address of an author page: the id makes it unique, the name makes it readable."""
    words = slugify(name)[:80].strip("-")
    return f"{author_id}-{words}" if words else str(author_id)


class AuthorMerge(models.Model):
    """`variant` is another spelling of `canonical` (decided by a moderator, never guessed).

    Nothing is rewritten: the variant's papers show on the canonical author's page, the
    variant's page redirects there, and deleting the row undoes the merge.
    """

    variant = models.OneToOneField(Author, on_delete=models.CASCADE, related_name="merged_into")
    canonical = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="variants")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("merge_authors", "Can merge author name variants")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(variant=models.F("canonical")), name="authormerge_not_itself"
            )
        ]

    def __str__(self):
        return f"{self.variant} → {self.canonical}"


class AuthorshipClaim(models.Model):
    """A member says they wrote `paper` (as the author at `author`); a moderator decides."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a moderator"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authorship_claims"
    )
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="claims")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="claims")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("verify_claims", "Can verify or reject authorship claims")]
        constraints = [
            models.UniqueConstraint(fields=["user", "paper"], name="claim_once"),
            # one member per author slot of a paper, once verified
            models.UniqueConstraint(
                fields=["paper", "author"],
                condition=Q(status="verified"),
                name="claim_verified_once",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="claim_queue")]

    def __str__(self):
        return f"{self.user} as {self.author} of {self.paper.arxiv_id}: {self.status}"


class Collection(models.Model):
    """A member's list of papers with notes; public ones are shared by their address."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=2000, blank=True)
    is_public = models.BooleanField(default=False)
    papers = models.ManyToManyField(Paper, through="CollectionItem", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "-updated_at"], name="collection_owner")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return f"/collections/{self.pk}"


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    note = models.TextField(max_length=2000, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "paper"], name="collectionitem_once")
        ]

    def __str__(self):
        return f"{self.paper_id} in {self.collection_id}"
