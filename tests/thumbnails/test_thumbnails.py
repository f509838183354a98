import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from dailypapers.ingest.http import ArxivHttp
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.thumbnails.models import Thumbnail
from dailypapers.thumbnails.render import ThumbnailError, first_page_webp
from dailypapers.thumbnails.services import thumbnails_make
from tests.thumbnails.conftest import PDF


def feature(paper, day=None):
    day = day or timezone.localdate()
    DailyEntry.objects.create(paper=paper, day=day, submitted_at=timezone.now(), source="import")
    return paper


def test_it_renders_the_top_of_the_first_page():
    image, width, height = first_page_webp(PDF)
    assert (width, height) == (400, 250)
    picture = Image.open(io.BytesIO(image))
    assert picture.format == "WEBP" and picture.size == (400, 250)
    # The title is black text on white near the top: dark pixels there, a white margin left.
    top = picture.convert("L").crop((0, 20, 400, 60))
    assert top.getextrema()[0] < 80
    assert picture.convert("L").crop((0, 0, 10, 250)).getextrema()[0] > 230


def test_it_says_why_a_pdf_cannot_be_rendered():
    with pytest.raises(ThumbnailError, match="not a PDF"):
        first_page_webp(b"<html>Not found</html>")


def test_it_renders_featured_papers_through_the_polite_client(pdf_server, make_paper, client):
    featured = feature(make_paper(arxiv_id="2512.16776", version=2))
    make_paper(arxiv_id="2512.00001")  # not featured: no PDF fetched

    summary = thumbnails_make(limit=10)

    assert summary.made == ["2512.16776"] and not summary.failed
    assert [path for path, _ in pdf_server.requests] == ["/pdf/2512.16776v2"]
    assert pdf_server.requests[0][1].startswith("dailypapers/")  # the polite User-Agent
    thumbnail = Thumbnail.objects.get(paper=featured)
    assert (thumbnail.status, thumbnail.version, thumbnail.width) == ("ready", 2, 400)

    page = client.get("/").content.decode()
    assert (
        '<img src="/thumbnails/2512.16776v2.webp" width="200" height="125" loading="lazy"' in page
    )
    image = client.get("/thumbnails/2512.16776v2.webp")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/webp"
    assert "immutable" in image["Cache-Control"]
    assert b"".join(image.streaming_content)[:4] == b"RIFF"
    again = client.get(
        "/thumbnails/2512.16776v2.webp", HTTP_IF_MODIFIED_SINCE=image["Last-Modified"]
    )
    assert again.status_code == 304

    assert thumbnails_make(limit=10).made == []  # done once, not again


def test_it_renders_old_style_ids_and_new_versions_again(pdf_server, make_paper):
    paper = feature(make_paper(arxiv_id="hep-th/9901001", version=1))
    thumbnails_make(limit=10)
    assert pdf_server.requests[-1][0] == "/pdf/hep-th/9901001v1"
    first = pdf_server_file(pdf_server, "hep-th_9901001v1.webp")
    assert first.exists()

    Paper.objects.filter(pk=paper.pk).update(version=2)
    assert thumbnails_make(limit=10).made == ["hep-th/9901001"]
    assert pdf_server_file(pdf_server, "hep-th_9901001v2.webp").exists()
    assert not first.exists()  # the old version's file is gone


def pdf_server_file(server, name):
    from django.conf import settings

    return settings.THUMBNAIL_DIR / name


def test_it_marks_a_missing_pdf_failed_and_tries_again_a_day_later(
    pdf_server, make_paper, time_machine
):
    feature(make_paper(arxiv_id="2512.00404"))
    pdf_server.answers["/pdf/2512.00404v1"] = (404, b"not found", {})
    broken = feature(make_paper(arxiv_id="2512.00500"))
    pdf_server.answers["/pdf/2512.00500v1"] = (200, b"%PDF-1.4 broken", {})

    summary = thumbnails_make(limit=10)

    assert sorted(arxiv_id for arxiv_id, _ in summary.failed) == ["2512.00404", "2512.00500"]
    assert "HTTP 404" in dict(summary.failed)["2512.00404"]
    assert Thumbnail.objects.get(paper=broken).error.startswith("not a PDF")
    assert thumbnails_make(limit=10).failed == []  # not again the same day
    time_machine.move_to(timezone.now() + dt.timedelta(days=1, hours=1))
    assert len(thumbnails_make(limit=10).failed) == 2
    assert Thumbnail.objects.get(paper=broken).attempts == 2


def test_it_stops_when_arxiv_is_busy_and_goes_on_next_time(pdf_server, make_paper):
    feature(make_paper(arxiv_id="2512.00001"))
    pdf_server.answers["/pdf/2512.00001v1"] = (503, b"busy", {})
    http = ArxivHttp(cache_dir=None, max_retries=1, backoff=0)

    summary = thumbnails_make(limit=10, http=http)

    assert "did not answer" in summary.stopped and summary.made == []
    assert len(pdf_server.requests) == 2  # one retry, then the batch stops
    assert not Thumbnail.objects.exists()  # nothing marked failed: the next run goes on
    del pdf_server.answers["/pdf/2512.00001v1"]
    assert thumbnails_make(limit=10).made == ["2512.00001"]


def test_it_lists_what_it_would_fetch_on_a_dry_run(pdf_server, make_paper, capsys):
    feature(make_paper(arxiv_id="2512.00001"))
    call_command("thumbnails", "--dry-run")
    out = capsys.readouterr().out
    assert "2512.00001 v1" in out and "1 paper needs a thumbnail" in out
    assert pdf_server.requests == []
    call_command("thumbnails", "--no-progress")
    assert "thumbnails: 1 made, 0 failed" in capsys.readouterr().out


def test_a_lost_file_is_rendered_again(pdf_server, make_paper, client):
    feature(make_paper(arxiv_id="hep-th/9901001"))
    thumbnails_make(limit=10)
    assert 'src="/thumbnails/hep-th_9901001v1.webp"' in client.get("/").content.decode()
    pdf_server_file(pdf_server, "hep-th_9901001v1.webp").unlink()  # restored without the folder

    assert client.get("/thumbnails/hep-th_9901001v1.webp").status_code == 404
    assert "<img" not in client.get("/").content.decode()  # the listing stops showing it
    assert thumbnails_make(limit=10).made == ["hep-th/9901001"]
    assert client.get("/thumbnails/hep-th_9901001v1.webp").status_code == 200


def test_it_refuses_names_that_are_not_thumbnails(client, pdf_server, db):
    (pdf_server_file(pdf_server, "x").parent).mkdir(parents=True, exist_ok=True)
    for name in ["..%2Fsecret_key", "secret_key", "2512.00001v1.webp", "a/b.webp"]:
        assert client.get(f"/thumbnails/{name}").status_code == 404


def test_listings_work_without_thumbnails(client, make_paper, db):
    feature(make_paper(title="No picture yet"))
    page = client.get("/").content.decode()
    assert "No picture yet" in page and "<img" not in page


def test_search_results_show_thumbnails_too(pdf_server, make_paper, client, settings):
    from dailypapers.search import index_papers, vectors

    settings.SEARCH_DIR = settings.DATA_DIR / "search"
    vectors.reset_stores()
    paper = feature(make_paper(arxiv_id="2512.16776", title="Kling-Omni technical report"))
    index_papers([paper.pk])
    thumbnails_make(limit=10)
    page = client.get("/search?q=Kling-Omni").content.decode()
    vectors.reset_stores()
    assert "Kling-Omni technical report" in page
    assert 'src="/thumbnails/2512.16776v1.webp" width="200" height="125"' in page


def test_a_silent_arxiv_holds_the_worker_for_seconds_not_minutes(settings, tmp_path, make_paper):
    """The worker is shared with mail: one bounded try, then the batch stops for this run."""
    import socket
    import time

    from dailypapers.thumbnails.tasks import make_thumbnails

    feature(make_paper(arxiv_id="2512.00001"))
    feature(make_paper(arxiv_id="2512.00002"))
    settings.THUMBNAILS, settings.DATA_DIR = True, tmp_path
    with socket.socket() as listener:  # accepts connections and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        settings.ARXIV_PDF_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/pdf/{{id}}"
        started = time.monotonic()
        report = make_thumbnails.call()
        elapsed = time.monotonic() - started
    assert elapsed < 25, f"the worker was held {elapsed:.0f} s"
    assert "0 made, 0 failed; stopped: arXiv did not answer" in report
    assert "after 1 try in" in report and not Thumbnail.objects.exists()


def test_a_run_of_the_worker_stops_after_its_time(pdf_server, make_paper):
    for number in (1, 2):
        feature(make_paper(arxiv_id=f"2512.0000{number}"))
    summary = thumbnails_make(limit=10, seconds=0)
    assert summary.made == [] and "out of time" in summary.stopped
    assert pdf_server.requests == []
    assert len(thumbnails_make(limit=10, seconds=60).made) == 2
