"""A collaboration's byline ("NVIDIA: Aaron Blakeman, ...") names an organisation, not an
author; and no author is ever a bare ":"."""

import gzip
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from dailypapers.ingest.records import PaperRecord
from dailypapers.ingest.sources.common import split_authors
from dailypapers.ingest.sources.hf_daily import read_hf_daily
from dailypapers.ingest.sources.listings import parse_listing
from dailypapers.ingest.upsert import upsert_daily_records, upsert_records
from dailypapers.papers.models import Author, Organization, Paper, PaperAuthor

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "dailypapers" / "sample"
NEMOTRON = "2512.20848"  # arXiv: "NVIDIA: Aaron Blakeman, Aaron Grattafiori, ..."


def sample_listing(arxiv_id=NEMOTRON):
    with gzip.open(SAMPLE / "arxiv-listings.jsonl.gz") as lines:
        for line in lines:
            obj = json.loads(line)
            if obj["id"] == arxiv_id:
                return obj
    raise LookupError(arxiv_id)


def linked_names(paper):
    links = PaperAuthor.objects.filter(paper=paper).order_by("position")
    return list(links.values_list("author__name", flat=True))


def test_the_real_listing_record_names_nvidia_as_its_organisation():
    listing = sample_listing()
    assert listing["authors"][:3] == ["NVIDIA", ":", "Aaron Blakeman"]  # as arXiv gives it
    upsert_records([parse_listing(listing)])
    paper = Paper.objects.get(arxiv_id=NEMOTRON)
    assert paper.author_names[:2] == ["Aaron Blakeman", "Aaron Grattafiori"]
    assert len(paper.author_names) == len(listing["authors"]) - 2
    assert linked_names(paper) == paper.author_names
    assert not Author.objects.filter(name__in=["NVIDIA", ":"]).exists()
    assert (paper.organization.name, paper.organization.fullname) == ("nvidia", "NVIDIA")


def test_hugging_faces_organisation_is_the_same_one_and_fills_what_it_lacked():
    upsert_records([parse_listing(sample_listing())])
    daily = [r for r in read_hf_daily(SAMPLE / "hf-daily-2025-12-25.json")]
    upsert_daily_records([r for r in daily if r.paper.arxiv_id == NEMOTRON])
    paper = Paper.objects.get(arxiv_id=NEMOTRON)
    assert Organization.objects.count() == 1
    assert paper.organization.name == "nvidia" and paper.organization.avatar_url
    assert paper.author_names[0] == "Aaron Blakeman"


def test_the_demo_sample_has_no_wordless_or_collaboration_authors():
    call_command("load_sample", stdout=open("/dev/null", "w"))
    names = set(Author.objects.values_list("name", flat=True))
    assert names and not [name for name in names if not any(c.isalnum() for c in name)]
    assert "NVIDIA" not in Paper.objects.get(arxiv_id=NEMOTRON).author_names


def test_a_byline_stored_before_heals_on_the_next_import():
    listing = sample_listing()
    bad = [{"name": name} for name in listing["authors"]]
    upsert_records([parse_listing(listing)])
    paper = Paper.objects.get(arxiv_id=NEMOTRON)
    Paper.objects.filter(pk=paper.pk).update(authors=bad, organization=None)
    colon = Author.objects.create(name=":")
    PaperAuthor.objects.create(paper=paper, author=colon, position=len(bad))
    summary = upsert_records([parse_listing(listing)])
    assert summary.updated == 1
    paper.refresh_from_db()
    assert ":" not in paper.author_names and ":" not in linked_names(paper)
    assert paper.organization.fullname == "NVIDIA"


def test_a_raw_byline_and_several_collaborations_split_the_same_way():
    raw = split_authors("Team Phoenix: Arka Ray, Biondi Lee, Eva Lim, Grace Toh, Mistral AI: Jo Ng")
    upsert_records([PaperRecord("2512.00001", "Raw", published_at=_when(), authors=raw)])
    paper = Paper.objects.get(arxiv_id="2512.00001")
    assert paper.author_names == ["Arka Ray", "Biondi Lee", "Eva Lim", "Grace Toh", "Jo Ng"]
    assert paper.organization.fullname == "Team Phoenix"


def test_a_byline_never_replaces_the_organisation_a_source_named():
    meta = Organization.objects.create(name="meta", fullname="AI at Meta")
    record = parse_listing(sample_listing())
    record.organization = {"name": "meta"}
    upsert_records([record])
    assert Paper.objects.get(arxiv_id=NEMOTRON).organization == meta
    upsert_records([parse_listing(sample_listing())])  # arXiv again, without an organisation
    assert Paper.objects.get(arxiv_id=NEMOTRON).organization == meta


def _when():
    import datetime as dt

    return dt.datetime(2025, 12, 24, tzinfo=dt.UTC)
