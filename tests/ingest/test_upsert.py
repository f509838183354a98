import datetime as dt

import pytest

from dailypapers.community.models import Comment
from dailypapers.ingest.records import DailyRecord, PaperRecord, Rejected
from dailypapers.ingest.upsert import upsert_daily_records, upsert_records
from dailypapers.papers.models import Author, DailyEntry, Paper, PaperAuthor, Vote
from dailypapers.papers.ranking import trending_score

pytestmark = pytest.mark.django_db

V1_DATE = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC)


def record(arxiv_id="2611.01234", version=1, **fields):
    fields.setdefault("title", f"Attention, version {version}")
    fields.setdefault("abstract", f"Abstract of v{version}.")
    fields.setdefault("authors", [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}])
    fields.setdefault("categories", ["cs.CL", "cs.LG"])
    return PaperRecord(arxiv_id=arxiv_id, version=version, published_at=V1_DATE, **fields)


def authors_in_table(paper):
    links = PaperAuthor.objects.filter(paper=paper).order_by("position")
    return [link.author.name for link in links]


def test_it_creates_papers_with_authors_in_order():
    summary = upsert_records([record(), record("2611.00002", authors=[{"name": "Grace Hopper"}])])

    assert (summary.new, summary.updated, summary.unchanged) == (2, 0, 0)
    paper = Paper.objects.get(arxiv_id="2611.01234")
    assert paper.title == "Attention, version 1"
    assert paper.primary_category == "cs.CL"
    assert paper.author_names == ["Ada Lovelace", "Alan Turing"]
    assert authors_in_table(paper) == ["Ada Lovelace", "Alan Turing"]
    assert paper.published_at == V1_DATE
    assert paper.trending_score == trending_score(upvotes=0, featured_at=V1_DATE)
    assert Author.objects.count() == 3
    assert set(summary.new_paper_ids) == set(Paper.objects.values_list("id", flat=True))


def test_it_changes_nothing_when_the_same_records_come_again():
    upsert_records([record(), record("2611.00002")])
    before = list(Paper.objects.values().order_by("id"))

    summary = upsert_records([record(), record("2611.00002")])

    assert (summary.new, summary.updated, summary.unchanged) == (0, 0, 2)
    assert list(Paper.objects.values().order_by("id")) == before
    assert PaperAuthor.objects.count() == 4


def test_it_updates_to_a_newer_version_and_keeps_votes_comments_and_entries(alice):
    upsert_records([record()])
    paper = Paper.objects.get()
    Vote.objects.create(user=alice, paper=paper)
    Paper.objects.filter(pk=paper.pk).update(local_upvotes=1)
    DailyEntry.objects.create(paper=paper, day=V1_DATE.date(), submitted_at=V1_DATE)
    Comment.objects.create(paper=paper, user=alice, body="Nice result.")
    Paper.objects.filter(pk=paper.pk).update(num_comments=1)

    newer = record(version=2, authors=[{"name": "Ada Lovelace"}, {"name": "Mary Somerville"}])
    summary = upsert_records([newer])

    assert summary.updated == 1
    paper.refresh_from_db()
    assert (paper.version, paper.title) == (2, "Attention, version 2")
    assert authors_in_table(paper) == ["Ada Lovelace", "Mary Somerville"]
    assert paper.local_upvotes == 1 and paper.votes.count() == 1
    assert paper.daily_entries.count() == 1
    assert paper.comments.count() == 1 and paper.num_comments == 1


def test_it_never_lets_an_older_version_overwrite_a_newer_one():
    upsert_records([record(version=3)])

    summary = upsert_records([record(version=2, title="Old title")])

    assert (summary.older, summary.updated) == (1, 0)
    assert Paper.objects.get().title == "Attention, version 3"


def test_it_keeps_the_newest_of_duplicates_in_one_input():
    summary = upsert_records([record(version=2), record(version=1), record(version=2)])

    assert summary.new == 1
    assert Paper.objects.get().version == 2


def test_it_does_not_erase_fields_a_source_leaves_empty():
    upsert_records([record(doi="10.1/x", github_repo="https://github.com/a/b")])

    upsert_records([record(version=2)])

    paper = Paper.objects.get()
    assert (paper.doi, paper.github_repo, paper.version) == ("10.1/x", "https://github.com/a/b", 2)


def test_it_rejects_bad_records_and_goes_on():
    bad_id = record("2613.00001")  # month 13
    versioned = record("2611.00001v2")
    no_title = record("2611.00003", title="  ")
    naive = PaperRecord(arxiv_id="2611.00004", title="T", published_at=dt.datetime(2026, 1, 1))
    upstream = Rejected("file.jsonl:7", "not valid JSON")

    summary = upsert_records([bad_id, versioned, record(), no_title, naive, upstream])

    assert summary.new == 1
    reasons = {r.where: r.reason for r in summary.rejected}
    assert "13 is not a month" in reasons["2613.00001"]
    assert "not a base arXiv id" in reasons["2611.00001v2"]
    assert reasons["2611.00003"] == "the record has no title"
    assert "timezone-aware" in reasons["2611.00004"]
    assert reasons["file.jsonl:7"] == "not valid JSON"


def test_it_accepts_old_style_ids():
    upsert_records([record("hep-th/9901001"), record("math.AG/0601001")])

    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == {
        "hep-th/9901001",
        "math.AG/0601001",
    }


def test_it_writes_nothing_in_a_dry_run():
    summary = upsert_records([record(), record("2611.00002")], dry_run=True)

    assert summary.new == 2
    assert not Paper.objects.exists() and not Author.objects.exists()


def test_it_works_across_batches_with_shared_authors():
    records = [record(f"2611.{n:05d}") for n in range(1, 26)]

    summary = upsert_records(records, batch_size=10)

    assert summary.new == 25
    assert Author.objects.count() == 2
    assert PaperAuthor.objects.count() == 50


def daily(arxiv_id="2611.01234", day=dt.date(2026, 11, 23), upvotes=7, **fields):
    submitted = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    return DailyRecord(
        paper=record(arxiv_id, imported_upvotes=upvotes, arxiv_metadata=False, **fields),
        day=day,
        submitted_at=submitted,
        submitter={"name": "akhaliq", "fullname": "AK"},
        extra={"entry": {"numComments": 3}},
    )


def test_it_imports_daily_entries_with_upvotes_and_trending():
    summary = upsert_daily_records([daily(organization={"name": "google", "fullname": "G"})])

    assert (summary.new, summary.entries_new) == (1, 1)
    entry = DailyEntry.objects.select_related("paper__organization").get()
    assert entry.source == DailyEntry.Source.IMPORT
    assert entry.submitter["name"] == "akhaliq" and entry.extra["entry"]["numComments"] == 3
    paper = entry.paper
    assert (paper.imported_upvotes, paper.local_upvotes) == (7, 0)
    assert paper.organization.name == "google"
    assert paper.trending_score == trending_score(upvotes=7, featured_at=entry.submitted_at)


def test_it_reimports_daily_entries_without_changes_and_keeps_the_highest_upvotes():
    upsert_daily_records([daily(upvotes=9)])

    again = upsert_daily_records([daily(upvotes=9)])
    lower = upsert_daily_records([daily(upvotes=4)])

    assert (again.unchanged, again.entries_unchanged) == (1, 1)
    assert lower.updated == 0
    assert Paper.objects.get().imported_upvotes == 9


def test_it_lets_arxiv_metadata_win_over_a_daily_feed_copy():
    upsert_records([record(title="The arXiv title")])

    upsert_daily_records(
        [daily(title="A daily feed's title", github_repo="https://github.com/x/y")]
    )

    paper = Paper.objects.get()
    assert paper.title == "The arXiv title"
    assert paper.github_repo == "https://github.com/x/y"
    assert paper.imported_upvotes == 7


def test_it_keeps_upstream_author_keys_when_arxiv_names_match():
    hf_authors = [{"name": "Ada Lovelace", "_id": "a1", "hidden": False}, {"name": "Alan Turing"}]
    upsert_daily_records([daily(authors=hf_authors)])

    summary = upsert_records([record()])

    assert summary.unchanged == 1
    assert Paper.objects.get().authors[0] == {"name": "Ada Lovelace", "_id": "a1", "hidden": False}


def test_it_leaves_a_members_entry_alone(alice):
    upsert_records([record()])
    paper = Paper.objects.get()
    DailyEntry.objects.create(
        paper=paper, day=dt.date(2026, 11, 23), submitted_at=V1_DATE, submitted_by=alice
    )

    summary = upsert_daily_records([daily()])

    assert summary.entries_unchanged == 1
    assert DailyEntry.objects.get().submitted_by == alice
