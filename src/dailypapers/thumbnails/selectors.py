from datetime import timedelta

from django.db.models import F, Max
from django.utils import timezone

from dailypapers.papers.models import DailyEntry, Paper

from .models import Thumbnail

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(days=1)


def papers_needing_thumbnails(*, limit):
    """Featured papers with no thumbnail of their latest version, newest daily page first.
    A failure is tried again a day later, MAX_ATTEMPTS times in all."""
    failed = Thumbnail.Status.FAILED
    return list(
        Paper.objects.visible()
        .filter(pk__in=DailyEntry.objects.values("paper_id"))
        .exclude(thumb__status=Thumbnail.Status.READY, thumb__version=F("version"))
        .exclude(thumb__status=failed, thumb__attempts__gte=MAX_ATTEMPTS)
        .exclude(thumb__status=failed, thumb__made_at__gt=timezone.now() - RETRY_AFTER)
        .annotate(last_day=Max("daily_entries__day"))
        .order_by("-last_day", "pk")
        .only("pk", "arxiv_id", "version")[:limit]
    )


def thumbnail_images(paper_ids):
    """{paper id: {"url", "width", "height"}} of the rendered thumbnails among paper_ids.
    Width and height are the box the listings draw (half the pixels: sharp on HiDPI)."""
    rows = Thumbnail.objects.filter(
        paper_id__in=paper_ids, status=Thumbnail.Status.READY
    ).values_list("paper_id", "paper__arxiv_id", "version", "width", "height")
    return {
        paper_id: {
            "url": f"/thumbnails/{Thumbnail.file_name(arxiv_id, version)}",
            "width": width // 2,
            "height": height // 2,
        }
        for paper_id, arxiv_id, version, width, height in rows
    }
