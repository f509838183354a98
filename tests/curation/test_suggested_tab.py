"""The Suggested tab: the model's ranking of a day's candidates, with reasons; moderators put
one on the day's page; a replayed day sees nothing from that day on; scheduled retraining."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from dailypapers.caching import generation
from dailypapers.curation import services
from dailypapers.curation.tasks import retrain_suggestion_model
from dailypapers.papers.models import DailyEntry, Paper, Vote

from .conftest import paper

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(django_user_model):
    user = django_user_model.objects.create_user("mona", password="x-secret-9")
    user.user_permissions.add(Permission.objects.get(codename="add_dailyentry"))
    return user


@pytest.fixture
def trained(history):
    services.train(history[12])
    return history[-1]


def test_without_a_model_readers_are_told_there_are_none_and_staff_how_to_get_one(
    history, client, django_user_model
):
    page = client.get("/papers/suggested", {"date": str(history[-1])})
    assert page.status_code == 200
    html = page.content.decode()
    assert "No suggestions for this day." in html
    assert "feature train" not in html and "`" not in html

    staff = django_user_model.objects.create_user("stella", password="x-secret-9", is_staff=True)
    client.force_login(staff)
    html = client.get("/papers/suggested", {"date": str(history[-1])}).content.decode()
    assert "No suggestions for this day." in html
    assert "<code>dailypapers feature train</code>" in html and "`" not in html


def test_the_tab_opens_on_the_newest_day_when_papers_stopped_coming(history, client):
    newest = history[-1]  # the history is older than a week
    html = client.get("/papers/suggested").content.decode()
    assert f"{newest:%A, %B %-d, %Y}" in html
    assert 'rel="next"' not in html  # no empty days after the newest one
    earlier = client.get("/papers/suggested", {"date": str(newest - dt.timedelta(days=1))})
    assert f'rel="next" href="?date={newest}"' in earlier.content.decode()
    # its Week and Month tabs open that day's week and month
    week, month = "{}-W{:02d}".format(*newest.isocalendar()[:2]), f"{newest:%Y-%m}"
    assert f'href="/papers/week/{week}"' in html and f'href="/papers/month/{month}"' in html
    assert client.get(f"/papers/week/{week}").status_code == 200

    today = timezone.localdate()
    paper("2512.00001", today, "announced today", ["Ada Lovelace"])
    html = client.get("/papers/suggested").content.decode()
    assert f"{today:%A, %B %-d, %Y}" in html  # while papers come in: today


def test_the_tab_ranks_the_days_candidates_with_a_reason_each(trained, client):
    html = client.get("/papers/suggested", {"date": str(trained)}).content.decode()
    order = [html.index(f'id="paper-{p.arxiv_id}"') for p in services.candidates(trained)
             if f'id="paper-{p.arxiv_id}"' in html]  # fmt: skip
    assert len(order) == 30
    lovelace = html.index("Ada Lovelace")
    assert lovelace < html.index("Someone ")  # the lab's papers come first
    assert "Why: authors with" in html
    assert "Feature on" not in html  # readers and members may not feature


def test_a_moderator_features_a_suggestion_on_its_day(trained, client, moderator, alice):
    pick = services.suggest(trained, 30)[-1].paper  # the model's last choice
    DailyEntry.objects.filter(paper=pick).delete()
    client.force_login(moderator)
    assert "Feature on" in client.get("/papers/suggested", {"date": str(trained)}).content.decode()

    answer = client.post(
        "/papers/suggested/feature", {"arxiv_id": pick.arxiv_id, "date": str(trained)}
    )

    assert answer.status_code == 302
    entry = DailyEntry.objects.get(paper=pick, day=trained)
    assert entry.source == DailyEntry.Source.ADMIN and entry.submitted_by == moderator
    shown = client.get(answer["Location"]).content.decode()
    assert "is on the page of" in shown and "on the page of" in shown

    member = Client()
    member.force_login(alice)
    refused = member.post(
        "/papers/suggested/feature", {"arxiv_id": pick.arxiv_id, "date": str(trained)}
    )
    assert refused.status_code == 403
    assert (
        Client().post("/papers/suggested/feature", {"arxiv_id": pick.arxiv_id}).status_code == 403
    )


def test_bad_input_gets_a_clear_4xx(trained, client, moderator):
    assert client.get("/papers/suggested", {"date": "yesterday"}).status_code == 404
    client.force_login(moderator)
    missing = client.post(
        "/papers/suggested/feature", {"arxiv_id": "2999.99999", "date": str(trained)}
    )
    assert missing.status_code == 404
    assert client.get("/papers/suggested/feature").status_code == 405


def test_a_replayed_day_is_unchanged_by_anything_dated_from_that_day_on(trained, django_user_model):
    day = trained
    before = [(s.paper.arxiv_id, round(s.score, 9), s.reason) for s in services.suggest(day, 40)]

    # Later: the day's page and the next days' pages, members' votes on earlier picks,
    # newer papers by the same lab.
    voters = [django_user_model.objects.create_user(f"voter{n}") for n in range(5)]
    lab = Paper.objects.filter(daily_entries__day__lt=day).distinct()
    for voter in voters:
        Vote.objects.bulk_create(Vote(user=voter, paper=p) for p in lab)
    Paper.objects.filter(pk__in=lab).update(local_upvotes=len(voters))
    later = day + dt.timedelta(days=3)
    newer = paper("2512.09999", later, "diffusion language models again", ["Ada Lovelace"])
    for p in [newer, *services.candidates(day)[:5]]:
        noon = dt.datetime.combine(later, dt.time(12), tzinfo=dt.UTC)
        DailyEntry.objects.get_or_create(paper=p, day=later, defaults={"submitted_at": noon})

    after = [(s.paper.arxiv_id, round(s.score, 9), s.reason) for s in services.suggest(day, 40)]
    assert after == before


def test_the_scheduler_retrains_the_model_and_the_pages_follow(history, settings):
    assert Paper.objects.exists()
    before, _ = generation.current()
    report = retrain_suggestion_model.call()
    assert report.startswith("trained on") and services.model_path().exists()
    assert generation.current()[0] > before  # the Suggested tab shows the new model's ranking


def test_the_scheduler_waits_while_there_is_too_little_history(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    assert retrain_suggestion_model.call().startswith("not trained: too little history")
