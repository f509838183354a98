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
from dailypapers.papers.services import paper_feature

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
    with pytest.raises(CommandError, match="give a FILE_OR_DIR, or --api URL"):
        ingest("hf-daily")


def test_a_folder_where_a_file_is_wanted_is_said_in_a_sentence(tmp_path):
    with pytest.raises(CommandError, match=r"is a folder: `ingest listings` reads one file"):
        ingest("listings", str(tmp_path))


@pytest.mark.parametrize("source, wrong", [("listings", "hf-daily-papers/2025-12-31.json"),
                                           ("snapshot", "hf-daily-papers/2025-12-31.json"),
                                           ("hf-daily", SNAPSHOT)])  # fmt: skip
def test_a_file_of_the_wrong_kind_fails_with_the_kinds_each_source_reads(
    sample_data, source, wrong
):
    # Every record rejected is a failure (non-zero exit), not a run with nothing new.
    with pytest.raises(CommandError, match="could be read: is it the right kind of file?"):
        ingest(source, str(sample_data / wrong))
    assert not Paper.objects.exists()


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


def test_papers_known_only_from_hugging_face_are_asked_of_arxiv(sample_data, recorded, make_http):
    """Hugging Face's daily papers carry no arXiv categories: the real 2512.23541 and
    2512.23162 (on the 2025-12-30 page, and in none of the arXiv listings we hold) land in
    no category, so no category follow could find them. The scheduled job asks arXiv for
    their metadata; when arXiv cannot answer, the job still ends and the next run asks."""
    ingest("hf-daily", str(sample_data / "hf-daily-papers/2025-12-30.json"))
    for arxiv_id in ("2512.23541", "2512.23162"):
        paper = Paper.objects.get(arxiv_id=arxiv_id)
        assert (paper.primary_category, paper.categories) == ("", [])
    summary, _ = services.scheduled_ingest(
        categories=[], http=make_http(recorded), today=dt.date(2025, 12, 31)
    )  # the recording has no answer for these ids: arXiv "answers" 404

    [asked] = recorded.requests
    ids = dict(asked.url.params)["id_list"].split(",")
    assert {"2512.23541", "2512.23162"} <= set(ids) and len(ids) == 20  # the page's papers
    assert summary.updated == 0


def test_arxivs_categories_fill_a_paper_known_from_hugging_face(recorded, make_http, settings):
    """The recorded arXiv answer for 1605.08386 (math.CO, math.ST) fills a paper that came
    without categories, and a digest's category follow then finds it by either."""
    from dailypapers.digests.content import PeriodContent, daily_period
    from dailypapers.digests.models import Follow

    settings.DIGEST_TIME_ZONE = "UTC"
    day = dt.date(2026, 11, 26)
    paper = Paper.objects.create(
        arxiv_id="1605.08386",
        title="Heat-bath random walks with Markov bases",
        abstract="Graphs on lattice points are studied whose edges come from a finite set.",
        authors=[{"name": "Caprice Stanley"}, {"name": "Tobias Windisch"}],
        published_at=dt.datetime(2016, 5, 26, 17, 59, 46, tzinfo=dt.UTC),
    )  # as an HF daily entry makes it: no categories
    paper_feature(paper=paper, day=day, source=DailyEntry.Source.IMPORT)
    content = PeriodContent(daily_period(day))
    assert content.matches(Follow.Kind.CATEGORY, "math.ST") == []

    summary = services.arxiv_metadata_fill(since=day, http=make_http(recorded))

    paper.refresh_from_db()
    assert summary.updated == 1
    assert (paper.primary_category, paper.categories) == ("math.CO", ["math.CO", "math.ST"])
    content = PeriodContent(daily_period(day))
    assert [p.pk for p in content.matches(Follow.Kind.CATEGORY, "math.ST")] == [paper.pk]
    assert [p.pk for p in content.matches(Follow.Kind.CATEGORY, "math.co")] == [paper.pk]
    assert services.arxiv_metadata_fill(since=day, http=make_http(recorded)).seen == 0
