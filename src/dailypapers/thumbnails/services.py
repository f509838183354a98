"""Rendering the thumbnails of featured papers (the worker's task and `dailypapers
thumbnails` call these; never a request).

PDFs come from arXiv through the same polite client as every other arXiv fetch
(ingest/http.py: one request at a time machine-wide, 3 s apart), and are not kept: only
the small WebP of the first page is, in settings.THUMBNAIL_DIR. The worker is shared with
mail and queued submissions, so a run holds it briefly: one try per PDF with short
timeouts (no back-off: a busy or unreachable arXiv stops the batch, the next run goes on)
and, in the worker, BATCH_SECONDS for the whole batch.
"""

import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from django.conf import settings
from django.utils import timezone

from dailypapers.caching.generation import bump
from dailypapers.ingest.http import ArxivHttp, ArxivRequestError, ArxivUnavailable, RateLimiter
from dailypapers.papers.models import Paper

from .models import Thumbnail
from .render import ThumbnailError, first_page_webp
from .selectors import papers_needing_thumbnails

log = logging.getLogger(__name__)

MAX_PDF_BYTES = 60 * 1024 * 1024  # arXiv's own limit on a submission is 50 MB
PDF_TIMEOUT = httpx.Timeout(15.0, connect=5.0)  # a PDF is larger than an API answer
SLOT_WAIT = 10.0  # seconds waited for another fetcher's turn before the batch stops
BATCH_SECONDS = 60.0  # the worker's run starts no new PDF after this; the next goes on


@dataclass
class Summary:
    made: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (arxiv id, why)
    stopped: str = ""  # why the batch stopped early (arXiv unavailable)

    def line(self):
        text = f"thumbnails: {len(self.made)} made, {len(self.failed)} failed"
        return text + (f"; stopped: {self.stopped}" if self.stopped else "")


def thumbnails_make(*, limit, http=None, progress=None, seconds=None):
    """Render up to `limit` missing thumbnails, starting none after `seconds` (None: no
    limit). arXiv being unavailable stops the batch (the next run goes on); a paper whose
    PDF is missing or unreadable is marked failed."""
    papers = papers_needing_thumbnails(limit=limit)
    summary = Summary()
    own, http = http is None, http or pdf_client()
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        for paper in papers:
            if deadline is not None and time.monotonic() >= deadline:
                summary.stopped = f"out of time ({seconds:.0f} s); the next run goes on"
                break
            try:
                thumbnail = thumbnail_make(paper=paper, http=http)
            except ArxivUnavailable as exc:
                summary.stopped = str(exc)
                break
            if thumbnail.status == Thumbnail.Status.READY:
                summary.made.append(paper.arxiv_id)
            else:
                summary.failed.append((paper.arxiv_id, thumbnail.error))
            if progress:
                progress.update(1)
    finally:
        if own:
            http.close()
    return summary


def pdf_client():
    """One bounded try per PDF: thumbnails can wait for the next run, a mail cannot wait
    behind arXiv's back-off."""
    return ArxivHttp(
        cache_dir=None,
        limiter=RateLimiter(max_wait=SLOT_WAIT),
        timeout=PDF_TIMEOUT,
        max_retries=0,
        retry_for=0,
    )


def thumbnail_make(*, paper, http):
    """Fetch the PDF of the paper's latest version, render its first page, store it."""
    url = settings.ARXIV_PDF_URL.format(id=paper.arxiv_id, version=paper.version)
    try:
        pdf = http.get(url)
        if len(pdf) > MAX_PDF_BYTES:
            raise ThumbnailError(f"the PDF is {len(pdf) // 2**20} MB, more than we render")
        image, width, height = first_page_webp(pdf)
    except (ArxivRequestError, ThumbnailError) as exc:
        log.info("no thumbnail for %s: %s", paper.arxiv_id, exc)
        return _failed(paper, str(exc))
    _write(Thumbnail.file_name(paper.arxiv_id, paper.version), image)
    old = Thumbnail.objects.filter(paper=paper, status=Thumbnail.Status.READY).first()
    thumbnail, _ = Thumbnail.objects.update_or_create(
        paper=paper,
        defaults={
            "status": Thumbnail.Status.READY,
            "version": paper.version,
            "width": width,
            "height": height,
            "size": len(image),
            "attempts": 0,
            "error": "",
            "made_at": timezone.now(),
        },
    )
    if old and old.version != paper.version:
        (thumbnail_dir() / Thumbnail.file_name(paper.arxiv_id, old.version)).unlink(missing_ok=True)
    _show(paper)
    return thumbnail


def thumbnail_dir():
    return Path(settings.THUMBNAIL_DIR)


def thumbnail_lost(name):
    """The file of a thumbnail said to be ready is missing: forget it, so that listings stop
    showing it at once and the worker renders it again."""
    arxiv_id, version = name.removesuffix(".webp").rsplit("v", 1)
    arxiv_id = arxiv_id.replace("_", "/")  # file_name's inverse: arXiv ids hold no "_"
    lost = Thumbnail.objects.filter(
        paper__arxiv_id=arxiv_id, version=int(version), status=Thumbnail.Status.READY
    ).select_related("paper")
    for thumbnail in lost:
        log.warning("thumbnail %s is missing from %s: rendering it again", name, thumbnail_dir())
        paper = thumbnail.paper
        thumbnail.delete()
        _show(paper)


def _failed(paper, why):
    thumbnail, created = Thumbnail.objects.get_or_create(
        paper=paper,
        defaults={
            "status": Thumbnail.Status.FAILED,
            "version": paper.version,
            "attempts": 1,
            "error": why[:1000],
            "made_at": timezone.now(),
        },
    )
    if not created and thumbnail.status == Thumbnail.Status.FAILED:
        thumbnail.attempts += 1
        thumbnail.error = why[:1000]
        thumbnail.made_at = timezone.now()
        thumbnail.save(update_fields=["attempts", "error", "made_at"])
    # A ready thumbnail of an older version stays shown when the newer PDF fails.
    return thumbnail


def _write(name, data):
    """Write atomically: a reader never sees half a file."""
    folder = thumbnail_dir()
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, folder / name)


def _show(paper):
    # Listing rows are cached on the paper's modified_at and pages on the generation.
    Paper.objects.filter(pk=paper.pk).update(modified_at=timezone.now())
    bump()
