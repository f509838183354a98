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


# What a listing row needs of the thumbnail (joined to the row's query: select_related).
FIELDS = ["status", "version", "width", "height"]
THUMBNAIL_COLUMNS = [f"paper__thumb__{name}" for name in FIELDS]


def thumbnail_image(paper):
    """{"url", "width", "height"} of the paper's rendered thumbnail, or None. The paper comes
    with its thumbnail joined (THUMBNAIL_COLUMNS)."""
    try:
        return _image(paper.arxiv_id, paper.thumb)
    except Thumbnail.DoesNotExist:
        return None


def attach_thumbnails(papers):
    """Set `image` (as thumbnail_image gives it) on each of `papers`, one query for all."""
    thumbs = Thumbnail.objects.only("paper_id", *FIELDS).in_bulk([paper.pk for paper in papers])
    for paper in papers:
        paper.image = _image(paper.arxiv_id, thumbs.get(paper.pk))
    return papers


def _image(arxiv_id, thumb):
    # Width and height are the box the listings draw: half the pixels, sharp on HiDPI.
    if thumb is None or thumb.status != Thumbnail.Status.READY:
        return None
    return {
        "url": f"/thumbnails/{Thumbnail.file_name(arxiv_id, thumb.version)}",
        "width": thumb.width // 2,
        "height": thumb.height // 2,
    }
