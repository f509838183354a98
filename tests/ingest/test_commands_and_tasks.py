import datetime as dt
import io
import json

import httpx
import pytest
from django.core.management import CommandError, call_command

from dailypapers.ingest import services
from dailypapers.ingest.http import ArxivHttp
from dailypapers.ingest.upsert import upsert_records
from dailypapers.papers.models import DailyEntry, Paper

pytestmark = pytest.mark.django_db
SNAPSHOT = "kaggle-snapshot/arxiv-metadata-oai-snapshot-sample.json"


def ingest(*args):
    out = io.StringIO()
    call_command("ingest", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_prints_a_summary_and_a_rerun_changes_nothing(sample_data):
    first = ingest("snapshot", str(sample_data / SNAPSHOT))
    second = ingest("snapshot", str(sample_data / SNAPSHOT))

    assert "papers: 200 new, 0 updated, 0 unchanged" in first
    assert "papers: 0 new, 0 updated, 200 unchanged" in second


def test_it_writes_nothing_in_a_dry_run(sample_data):
    output = ingest("hf-daily", str(sample_data / "hf-daily-papers/2025-12-31.json"), "--dry-run")

    assert "daily entries: 4 new" in output and "Dry run: nothing was written." in output
    assert not Paper.objects.exists() and not DailyEntry.objects.exists()


def test_it_lists_rejections_with_reasons(tmp_path, sample_data):
    good = json.loads((sample_data / "hf-daily-papers/2025-12-31.json").read_text())[:1]
    (tmp_path / "2025-12-31.json").write_text(json.dumps([*good, {"paper": {"id": "x"}}]))

    output = ingest("hf-daily", str(tmp_path))

    assert "papers: 1 new" in output and "1 rejected" in output
    assert "rejected 2025-12-31.json[1]: “x” is not an arXiv id" in output


def test_it_refuses_missing_files_clearly():
    with pytest.raises(CommandError, match="no such file or directory"):
        ingest("listings", "/nonexistent.jsonl.gz")
    with pytest.raises(CommandError, match="needs a FILE_OR_DIR"):
        ingest("hf-daily")


def one_page_transport(sample_data, seen):
    """Any query API request gets the recorded answer for 1605.08386."""
    body = json.loads(
        (sample_data / "arxiv-api/2026/id_1605.08386_s0_m100_199195aa31ad.json").read_text()
    )["body"]

    def handler(request):
        seen.append(request)
        return httpx.Response(200, content=body.encode())

    return httpx.MockTransport(handler)


@pytest.fixture
def fake_arxiv(monkeypatch, sample_data, limiter):
    seen = []

    def make(**options):
        return ArxivHttp(transport=one_page_transport(sample_data, seen), limiter=limiter,
                         cache_dir=None)  # fmt: skip

    monkeypatch.setattr("dailypapers.ingest.sources.arxiv_api.ArxivHttp", make)
    return seen


def test_it_ingests_arxiv_by_category_and_id(fake_arxiv):
    output = ingest("arxiv", "--category", "cs.CL", "--since", "2026-11-20",
                    "--until", "2026-11-23")  # fmt: skip

    assert "papers: 1 new" in output
    query = dict(fake_arxiv[0].url.params)["search_query"]
    assert query == "cat:cs.CL AND submittedDate:[202611200000 TO 202611232359]"
    assert "papers: 0 new, 0 updated, 1 unchanged" in ingest("arxiv", "--id", "1605.08386")
    assert "rejected 2401.00001: arXiv has no paper" in ingest("arxiv", "--id", "2401.00001")


def test_it_says_what_is_wrong_with_an_id():
    with pytest.raises(CommandError, match="is not an arXiv id"):
        ingest("arxiv", "--id", "banana")


def test_auto_feature_rules(settings, make_paper):
    cl = make_paper(categories=["cs.CL"])
    cv = make_paper(categories=["cs.CV", "cs.LG"])
    ids = [cl.id, cv.id]

    assert services.auto_feature_rule("none") is None
    assert services.papers_auto_feature(paper_ids=ids, rule="none") == 0
    assert services.papers_auto_feature(paper_ids=ids, rule="cs.LG, math.AG") == 1
    assert DailyEntry.objects.get().paper == cv
    assert DailyEntry.objects.get().source == DailyEntry.Source.AUTO
    assert services.papers_auto_feature(paper_ids=ids, rule="all") == 1  # cv: already on
    settings.AUTO_FEATURE = "none"
    assert services.papers_auto_feature(paper_ids=ids) == 0


def test_it_runs_the_scheduled_ingest_and_auto_features(settings, sample_data, limiter):
    settings.AUTO_FEATURE = "math.CO"
    seen = []
    http = ArxivHttp(transport=one_page_transport(sample_data, seen), limiter=limiter,
                     cache_dir=None)  # fmt: skip

    summary, featured = services.scheduled_ingest(
        categories=["math.CO", "cs.CL"], http=http, today=dt.date(2026, 11, 26)
    )
    again, featured_again = services.scheduled_ingest(
        categories=["math.CO"], http=http, today=dt.date(2026, 11, 26)
    )

    assert (summary.new, featured) == (1, 1)
    assert (again.new, featured_again) == (0, 0)
    entry = DailyEntry.objects.get()
    assert entry.day == dt.date(2026, 11, 26) and entry.source == DailyEntry.Source.AUTO
    windows = [dict(r.url.params)["search_query"] for r in seen]
    assert windows[0] == "cat:math.CO AND submittedDate:[202611230000 TO 202611262359]"


def test_the_task_is_scheduled_after_each_announcement():
    import zoneinfo

    from dailypapers.ingest.tasks import ANNOUNCEMENT_SCHEDULE

    eastern = zoneinfo.ZoneInfo("America/New_York")
    friday_noon = dt.datetime(2026, 11, 27, 12, tzinfo=eastern)
    fire = ANNOUNCEMENT_SCHEDULE.get_next_fire_time(None, friday_noon)

    assert fire == dt.datetime(2026, 11, 29, 20, 30, tzinfo=eastern)  # Sunday evening
    thursday_night = dt.datetime(2026, 11, 26, 21, tzinfo=eastern)
    after = ANNOUNCEMENT_SCHEDULE.get_next_fire_time(None, thursday_night)
    assert after.strftime("%a %H:%M") == "Sun 20:30"  # no run on Friday or Saturday


def test_load_sample_is_idempotent():
    out = io.StringIO()
    call_command("load_sample", stdout=out)
    counts = (Paper.objects.count(), DailyEntry.objects.count())
    call_command("load_sample", stdout=out)

    assert counts == (224, 224)
    assert (Paper.objects.count(), DailyEntry.objects.count()) == counts
    assert "papers: 0 new, 0 updated, 224 unchanged" in out.getvalue()
    assert upsert_records([]).seen == 0


def test_the_scheduled_task_ingests_and_features(settings, fake_arxiv):
    from dailypapers.ingest.tasks import ingest_announced_papers

    settings.ARXIV_CATEGORIES = ["math.CO"]
    settings.AUTO_FEATURE = "all"

    report = ingest_announced_papers.call()

    assert "papers: 1 new" in report and report.endswith("auto-featured: 1")
    assert DailyEntry.objects.get().source == DailyEntry.Source.AUTO
