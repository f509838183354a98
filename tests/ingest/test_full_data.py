"""The readers against the full real data set of ../shared/data (CI only): every record
that was ever published must parse, across all the schema eras."""

import pytest

from dailypapers.ingest.records import Rejected
from dailypapers.ingest.sources.hf_daily import read_hf_daily
from dailypapers.ingest.sources.listings import read_listings

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def test_it_reads_every_hugging_face_daily_day_without_a_rejection(shared_data):
    days = sorted((shared_data / "hf-daily-papers").glob("*.json"))
    records = [record for day in days for record in read_hf_daily(day)]

    rejected = [record for record in records if isinstance(record, Rejected)]
    assert len(days) > 400 and len(records) > 6_000
    assert rejected == []


def test_it_reads_every_listing_record_without_a_rejection(shared_data):
    records = list(read_listings(shared_data / "arxiv-listings-2025-03_2026-07.jsonl.gz"))

    rejected = [record for record in records if isinstance(record, Rejected)]
    assert len(records) > 70_000
    assert rejected == []
