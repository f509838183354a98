"""The suggestion model: trained on the instance's daily pages, it ranks a day's candidates
using only what was known before that day, and says why."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from dailypapers.curation import services
from dailypapers.papers.models import DailyEntry, Paper

pytestmark = pytest.mark.django_db

from .conftest import paper  # noqa: E402


def test_candidates_are_the_last_4_announcement_days_not_featured_before(history):
    day = history[10]
    pool = services.candidates(day)
    assert {p.published_at.date() for p in pool} == set(history[7:11])
    assert not pool.filter(daily_entries__day__lt=day).exists()
    assert pool.filter(daily_entries__day=day).count() == 2  # that day's picks are candidates


def test_it_learns_from_the_past_and_ranks_the_kind_of_paper_the_community_features(history):
    cutoff = history[12]
    out = io.StringIO()
    call_command("feature", "train", "--until", str(cutoff), "--no-progress", stdout=out)
    assert "trained on 12 days" in out.getvalue()

    day = history[-1]
    new = paper(
        "2512.00001",
        day,
        "diffusion language models decode faster",
        ["Ada Lovelace", "New Student"],
        github_repo="https://github.com/ada/dlm",
    )
    suggestions = services.suggest(day, limit=5)
    assert all(s.paper.authors[0]["name"] == "Ada Lovelace" for s in suggestions[:3])  # the lab's 3
    ours = next(s for s in suggestions if s.paper == new)
    assert "authors with" in ours.reason and "code released" in ours.reason
    assert suggestions[0].score > suggestions[-1].score

    call_command("feature", "suggest", "--date", str(day), "--limit", "3", stdout=out)
    assert "2512.00001" in out.getvalue() and "code released" in out.getvalue()


def test_a_replayed_day_uses_only_history_before_it(history):
    day = history[5]
    earlier = services.History(day).reception(Paper.objects.get(arxiv_id="2511.05000"), day)
    assert earlier[0] == 2 * 5  # Ada's 10 featured papers of the 5 days before, not later ones
    assert (
        services.History(None).reception(Paper.objects.get(arxiv_id="2511.05000"), day) == earlier
    )


def test_it_says_what_is_wrong(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    with pytest.raises(CommandError, match="no suggestion model yet"):
        call_command("feature", "suggest", "--date", "2025-12-01")
    with pytest.raises(CommandError, match="argument --date: 'yesterday' is not a date"):
        call_command("feature", "suggest", "--date", "yesterday")
    with pytest.raises(CommandError, match="too little history"):
        call_command("feature", "train", "--no-progress")


def test_it_counts_one_day_in_the_singular(settings, tmp_path, monkeypatch):
    summary = {"days": 1, "rows": 1, "featured": 1, "path": tmp_path / "model"}
    monkeypatch.setattr(services, "train", lambda until, progress: summary)
    out = io.StringIO()
    call_command("feature", "train", "--no-progress", stdout=out)
    assert "trained on 1 day (1 candidate, 1 featured) before today" in out.getvalue()


def test_the_api_answers_suggestions_in_the_daily_papers_shape(history, client):
    assert client.get("/api/suggestions", {"date": str(history[-1])}).status_code == 409
    services.train(history[12])

    answer = client.get("/api/suggestions", {"date": str(history[-1]), "limit": 3})

    assert answer.status_code == 200
    body = answer.json()
    assert len(body) == 3  # the day's 2 papers of the Lovelace lab come first
    assert [row["paper"]["authors"][0]["name"] for row in body[:2]] == ["Ada Lovelace"] * 2
    assert all(row["reason"].startswith("authors with") for row in body[:2])
    assert body[0]["suggestionScore"] >= body[-1]["suggestionScore"]
    assert {"paper", "publishedAt", "title", "summary", "numComments"} <= body[0].keys()
    bad = client.get("/api/suggestions", {"date": "2025-13-40"})
    assert bad.status_code == 400 and "not a date" in bad.json()["error"]
    assert client.get("/api/suggestions", {"date": "x", "limit": 0}).status_code == 400


def test_auto_feature_top_n_features_the_best_suggestions(history, caplog):
    from dailypapers.ingest.services import papers_auto_feature

    day = history[-1] + dt.timedelta(days=3)  # the next Monday
    new = paper("2512.00002", day, "diffusion language models at scale", ["Ada Lovelace"])
    assert papers_auto_feature(paper_ids=[], day=day, rule="top:1") == 0  # no model yet
    assert "no suggestion model yet" in caplog.text

    services.train()
    assert papers_auto_feature(paper_ids=[], day=day, rule="top:1") == 1
    entry = DailyEntry.objects.get(day=day)
    assert entry.paper == new and entry.source == DailyEntry.Source.AUTO


@pytest.mark.parametrize("value, valid", [("top:5", True), ("top:0", False), ("top:x", False)])
def test_the_top_n_rule_is_checked_at_start_up(settings, value, valid):
    from django.core.checks import run_checks

    settings.AUTO_FEATURE = value
    assert any(p.id == "dailypapers.E002" for p in run_checks()) is not valid
