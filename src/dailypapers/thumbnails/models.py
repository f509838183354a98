"""The rendered first page of a featured paper: the file lives in the data directory
(settings.THUMBNAIL_DIR), this row says which version it shows and how it went."""

from django.db import models

from dailypapers.papers.models import Paper


class Thumbnail(models.Model):
    class Status(models.TextChoices):
        READY = "ready", "Rendered"
        FAILED = "failed", "Failed (retried a day later, up to 3 times)"

    paper = models.OneToOneField(
        Paper, on_delete=models.CASCADE, primary_key=True, related_name="thumb"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    version = models.PositiveSmallIntegerField()  # the paper version the PDF was of
    width = models.PositiveSmallIntegerField(default=0)
    height = models.PositiveSmallIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)  # bytes of the WebP file
    attempts = models.PositiveSmallIntegerField(default=0)  # failures in a row
    error = models.TextField(blank=True)
    made_at = models.DateTimeField()

    def __str__(self):
        return f"{self.paper_id} v{self.version}: {self.status}"

    @staticmethod
    def file_name(arxiv_id, version):
        # Old-style ids hold a slash (hep-th/9901001); the version makes the URL immutable.
        return f"{arxiv_id.replace('/', '_')}v{version}.webp"
