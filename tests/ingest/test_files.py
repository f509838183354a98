"""The file sources: listings JSONL.gz, the Kaggle snapshot, Hugging Face daily JSON."""

import gzip
import json

import pytest

from dailypapers.ingest.records import DailyRecord, PaperRecord, Rejected
from dailypapers.ingest.sources.hf_daily import parse_hf_entry, read_hf_daily
from dailypapers.ingest.sources.listings import read_listings
from dailypapers.ingest.sources.snapshot import read_snapshot
from dailypapers.ingest.upsert import upsert_daily_records, upsert_records
from dailypapers.papers.models import DailyEntry, Paper

SNAPSHOT = "kaggle-snapshot/arxiv-metadata-oai-snapshot-sample.json"


def first_lines(sample_data, n):
    path = sample_data / "arxiv-listings-sample.jsonl.gz"
    with gzip.open(path, "rt") as lines:
        return [next(lines) for _ in range(n)]


def test_it_reads_listing_records(sample_data, tmp_path):
    path = tmp_path / "l.jsonl.gz"
    with gzip.open(path, "wt") as out:
        out.writelines(first_lines(sample_data, 50))

    records = list(read_listings(path))

    assert len(records) == 50 and all(isinstance(r, PaperRecord) for r in records)
    assert records[0].arxiv_id == "2503.11677" and records[0].categories == ["cs.HC", "cs.CV"]
    assert records[0].published_at.date().isoformat() == "2025-03-18"
    assert "\n" not in records[0].abstract


def test_it_rejects_bad_lines_and_goes_on(sample_data, tmp_path):
    good = first_lines(sample_data, 3)
    bad_id = json.dumps({**json.loads(good[0]), "id": "not-an-id"}) + "\n"
    no_date = json.dumps({**json.loads(good[1]), "listed": "yesterday"}) + "\n"
    path = tmp_path / "l.jsonl"
    path.write_text(good[0] + "{not json\n" + bad_id + "[1, 2]\n" + no_date + good[2])

    records = list(read_listings(path))

    rejected = {r.where: r.reason for r in records if isinstance(r, Rejected)}
    assert [r.arxiv_id for r in records if isinstance(r, PaperRecord)] == [
        json.loads(good[0])["id"], json.loads(good[2])["id"]
    ]  # fmt: skip
    assert rejected["l.jsonl:2"].startswith("not valid JSON")
    assert "not an arXiv id" in rejected["l.jsonl:3"]
    assert rejected["l.jsonl:4"] == "not a JSON object"
    assert "'listed'" in rejected[f"l.jsonl:5 ({json.loads(good[1])['id']})"]


def test_it_stops_clearly_at_a_truncated_gzip(sample_data, tmp_path):
    whole = gzip.compress("".join(first_lines(sample_data, 200)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])

    records = list(read_listings(path))

    assert isinstance(records[-1], Rejected) and "truncated" in records[-1].reason
    assert 0 < len(records) - 1 < 200


def test_it_reads_the_kaggle_snapshot(sample_data):
    records = list(read_snapshot(sample_data / SNAPSHOT))

    assert len(records) == 200 and all(isinstance(r, PaperRecord) for r in records)
    first = records[0]
    assert first.arxiv_id == "0704.0001" and first.version == 2
    assert first.authors[0] == {"name": "C. Balázs"}
    assert first.journal_ref == "Phys.Rev.D76:013009,2007" and first.doi
    assert first.published_at.isoformat() == "2007-04-02T19:18:42+00:00"


@pytest.mark.django_db
def test_it_ingests_the_snapshot_twice_without_changes(sample_data):
    path = sample_data / SNAPSHOT

    first = upsert_records(read_snapshot(path))
    second = upsert_records(read_snapshot(path))

    assert first.new == Paper.objects.count() == 200
    assert (second.new, second.updated, second.unchanged) == (0, 0, 200)


HF = "hf-daily-papers"


def test_it_reads_the_old_hf_schema(sample_data):
    records = list(read_hf_daily(sample_data / HF / "2024-05-27.json"))

    assert records and all(isinstance(r, DailyRecord) for r in records)
    record = records[0]
    assert record.day.isoformat() == "2024-05-27"
    assert record.paper.arxiv_id == "2405.15738" and record.paper.imported_upvotes >= 0
    assert record.paper.authors[0]["user"]["user"] == "ChunjiangGe"
    assert record.paper.authors[0]["status"] == "admin_assigned"
    assert record.extra["entry"]["numComments"] >= 0
    assert "\n" not in record.paper.title


def test_it_reads_the_new_hf_schema_with_organisation_and_ai_fields(sample_data):
    [record, *_] = read_hf_daily(sample_data / HF / "2025-12-31.json")

    paper = record.paper
    assert paper.organization["name"] == "ByteDance" and paper.organization["avatar_url"]
    assert record.submitted_at.isoformat().startswith("2025-12-31T01:36:44")
    assert record.extra["paper"]["discussionId"] == "69549ff6869a8627b452c961"
    assert record.extra["entry"]["thumbnail"].endswith("2512.22525.png")


def test_it_finds_repo_and_organisation_at_either_level(sample_data):
    entry = json.loads((sample_data / HF / "2025-12-31.json").read_text())[0]
    paper = entry["paper"]
    moved = {**entry, "githubRepo": "https://github.com/a/b", "organization": paper["organization"],
             "paper": {k: v for k, v in paper.items() if k != "organization"}}  # fmt: skip

    record = parse_hf_entry(moved)

    assert record.paper.github_repo == "https://github.com/a/b"
    assert record.paper.organization["name"] == "ByteDance"


def test_it_keeps_everything_needed_to_rebuild_the_entry(sample_data):
    entries = json.loads((sample_data / HF / "2025-06-02.json").read_text())

    for entry in entries:
        record = parse_hf_entry(entry)
        rebuilt = {**record.extra["entry"], "paper": record.extra["paper"]}
        if "submittedBy" in entry:
            rebuilt["submittedBy"] = record.submitter
        assert rebuilt == entry


def test_it_rejects_bad_hf_entries_and_files_clearly(sample_data, tmp_path):
    good = json.loads((sample_data / HF / "2025-12-31.json").read_text())[0]
    (tmp_path / "2025-12-30.json").write_text(
        json.dumps([good, {"paper": {"id": "nope", "title": "x"}}, {"title": "no paper"}, 7])
    )
    (tmp_path / "2025-12-31.json").write_text("[{broken")

    items = list(read_hf_daily(tmp_path))

    assert isinstance(items[0], DailyRecord)
    reasons = {r.where: r.reason for r in items[1:]}
    assert "not an arXiv id" in reasons["2025-12-30.json[1]"]
    assert reasons["2025-12-30.json[2]"] == "the entry has no 'paper' object"
    assert reasons["2025-12-30.json[3]"] == "an entry is not a JSON object"
    assert reasons["2025-12-31.json"].startswith("not a readable JSON file")


@pytest.mark.django_db
def test_it_ingests_hf_days_with_entries_and_upvotes(sample_data):
    summary = upsert_daily_records(read_hf_daily(sample_data / HF / "2025-12-31.json"))

    assert summary.new == summary.entries_new == DailyEntry.objects.count() > 0
    top = Paper.objects.order_by("-imported_upvotes").first()
    assert top.imported_upvotes > 0 and top.daily_entries.get().day.isoformat() == "2025-12-31"
