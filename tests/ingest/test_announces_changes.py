"""Bulk upserts send no post_save: they announce the papers they wrote with papers_changed,
so that search indexes them (and the API's answer cache moves on)."""

from dailypapers.ingest.sources.hf_daily import read_hf_daily
from dailypapers.ingest.upsert import upsert_daily_records
from dailypapers.papers.models import Paper
from dailypapers.papers.signals import papers_changed


def test_it_announces_written_papers_once_committed(
    db, sample_data, django_capture_on_commit_callbacks
):
    announced = []

    def receiver(sender, paper_ids, **kwargs):
        announced.extend(paper_ids)

    papers_changed.connect(receiver, dispatch_uid="test-announce")
    try:
        records = list(read_hf_daily(sample_data / "hf-daily-papers" / "2025-05-02.json"))
        with django_capture_on_commit_callbacks(execute=True):
            upsert_daily_records(records)
        assert sorted(announced) == sorted(Paper.objects.values_list("pk", flat=True))
        assert announced

        announced.clear()
        with django_capture_on_commit_callbacks(execute=True):
            upsert_daily_records(records, dry_run=True)
        assert announced == []  # a dry run writes nothing and announces nothing
    finally:
        papers_changed.disconnect(dispatch_uid="test-announce")
