import datetime as dt
import re
import socket
import time

import pytest
from django.utils import timezone

from dailypapers.papers.models import DailyEntry, Paper

from .conftest import fake_arxiv, paper_record

NEW = f"{timezone.now():%y%m}"  # this month's ids: recent enough to submit


@pytest.fixture
def member(client, alice):
    client.force_login(alice)
    return alice


def submit(client, text):
    return client.post("/submit", {"arxiv_id": text})


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get("/submit")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_fetches_an_unknown_paper_and_features_it_today(client, member, patch_arxiv):
    fetch = patch_arxiv(fake_arxiv({f"{NEW}.04242": paper_record(f"{NEW}.04242")}))
    response = submit(client, f"https://arxiv.org/abs/{NEW}.04242v2")
    today = timezone.localdate()
    assert response.status_code == 302
    assert response["Location"] == f"/papers/date/{today}#paper-{NEW}.04242"
    assert fetch.calls == [[f"{NEW}.04242"]]
    entry = DailyEntry.objects.get(paper__arxiv_id=f"{NEW}.04242")
    assert (entry.day, entry.submitted_by, entry.source) == (today, member, "member")
    page = client.get(response["Location"]).content.decode()
    assert "Fetched from arXiv" in page and "is on today’s page" in page


def test_it_features_a_known_paper_without_asking_arxiv(client, member, make_paper, patch_arxiv):
    fetch = patch_arxiv(fake_arxiv())
    paper = make_paper()
    assert submit(client, f"arXiv:{paper.arxiv_id}").status_code == 302
    assert fetch.calls == [] and paper.daily_entries.count() == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "This field is required"),
        ("not an id", "is not an arXiv id"),
        ("2613.00001", "is not a month"),
        ("x" * 301, "at most 300 characters"),
        ("２６１１．０００１", "is not an arXiv id"),
        ("<script>alert(1)</script>", "is not an arXiv id"),
    ],
)
def test_it_explains_malformed_ids(client, member, text, message):
    response = submit(client, text)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "<script>alert" not in html
    assert not DailyEntry.objects.exists()


def test_it_explains_ids_arxiv_does_not_have(client, member, patch_arxiv):
    patch_arxiv(fake_arxiv({}))
    response = submit(client, f"{NEW}.00404")
    assert response.status_code == 400
    assert f"arXiv has no paper {NEW}.00404" in response.content.decode()
    assert not Paper.objects.exists()


@pytest.fixture
def arxiv_at(settings, tmp_path):
    """Point the arXiv client at `url`, with this test's own rate-limit lock and cache."""

    def point(url):
        settings.DATA_DIR = tmp_path  # the polite interval and day cache of this test alone
        settings.ARXIV_API_URL = url

    return point


@pytest.fixture
def silent_arxiv():
    """A local port that accepts connections and never answers: arXiv hanging."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/query"


@pytest.fixture
def closed_port():
    """A local port nobody listens on: arXiv unreachable (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/query"


def queued_submissions():
    from django_tasks_db.models import DBTaskResult

    tasks = DBTaskResult.objects.filter(task_path="dailypapers.papers.tasks.finish_submission")
    return [task.args_kwargs["kwargs"] for task in tasks]


def test_it_answers_within_seconds_and_queues_when_arxiv_hangs(
    client, member, arxiv_at, silent_arxiv
):
    arxiv_at(silent_arxiv)
    started = time.monotonic()
    response = submit(client, f"{NEW}.00500")
    elapsed = time.monotonic() - started
    assert elapsed < 12, f"the member waited {elapsed:.0f} s"
    assert response.status_code == 302 and response["Location"] == "/submit"
    page = client.get("/submit").content.decode()
    assert "arXiv did not answer in time" in page and "Your submission is saved" in page
    assert "Arxiv" not in page and "Error" not in page and "Timeout" not in page
    assert not Paper.objects.exists() and not DailyEntry.objects.exists()
    [queued] = queued_submissions()
    assert (queued["user_id"], queued["arxiv_id"]) == (member.pk, f"{NEW}.00500")
    assert queued["day"] == timezone.localdate().isoformat()


def test_it_says_so_at_once_when_arxiv_is_unreachable(client, member, arxiv_at, closed_port):
    arxiv_at(closed_port)
    started = time.monotonic()
    response = submit(client, f"arXiv:{NEW}.00501v2")
    assert time.monotonic() - started < 8
    assert response.status_code == 302
    page = client.get("/submit").content.decode()
    assert f"arXiv did not answer in time, so {NEW}.00501 could not be looked up yet" in page
    assert [q["arxiv_id"] for q in queued_submissions()] == [f"{NEW}.00501"]


def test_the_worker_features_a_queued_submission_on_the_day_it_was_made(
    member, patch_arxiv, settings
):
    from dailypapers.ingest.http import ArxivUnavailable
    from dailypapers.papers.tasks import finish_submission

    when = timezone.now() - dt.timedelta(hours=30)
    day = timezone.localdate(when)
    args = dict(user_id=member.pk, arxiv_id="2611.04242", day=day.isoformat())
    args["submitted_at"] = when.isoformat()
    patch_arxiv(fake_arxiv(error=ArxivUnavailable("arXiv did not answer")))
    assert "asking again" in finish_submission.call(**args)
    [again] = queued_submissions()
    assert again == {**args, "attempt": 2}  # later: the queue's run_after says when
    patch_arxiv(fake_arxiv({"2611.04242": paper_record("2611.04242", days_old=2)}))
    assert "featured on" in finish_submission.call(**again)
    entry = DailyEntry.objects.get(paper__arxiv_id="2611.04242")
    assert (entry.day, entry.submitted_by, entry.source) == (day, member, "member")
    assert entry.submitted_at == when
    assert "already on the daily page" in finish_submission.call(**again)  # a double: no-op
    assert DailyEntry.objects.count() == 1
    [told] = member.notifications.all()  # told once, of the outcome, not of the double
    assert told.headline.startswith("Your submission “") and told.paper == entry.paper
    assert f"is on the daily page of {day:%B} {day.day}." in told.headline


def test_the_worker_drops_a_queued_id_arxiv_does_not_have(client, member, patch_arxiv):
    from dailypapers.papers.tasks import finish_submission

    patch_arxiv(fake_arxiv({}))
    report = finish_submission.call(
        user_id=member.pk, arxiv_id="2611.00404", day="2026-11-25",
        submitted_at=timezone.now().isoformat(),
    )  # fmt: skip
    assert report == "arXiv has no paper 2611.00404"
    assert not Paper.objects.exists() and not queued_submissions()
    client.force_login(member)
    page = client.get("/notifications").content.decode()
    assert "arXiv has no paper 2611.00404, so your submission was not added." in page


def test_it_refuses_old_and_duplicate_papers(client, member, make_paper, feature):
    old = make_paper(published_at=timezone.now() - dt.timedelta(days=400))
    assert "only papers from the last" in submit(client, old.arxiv_id).content.decode()
    featured = make_paper()
    feature(featured, day=dt.date(2026, 11, 20))
    response = submit(client, featured.arxiv_id)
    assert response.status_code == 400
    assert "already on the daily page of 2026-11-20" in response.content.decode()
    assert DailyEntry.objects.count() == 1


def test_it_caps_submissions_per_day(client, member, make_paper, settings):
    settings.SUBMISSIONS_PER_DAY = 2
    papers = [make_paper() for _ in range(3)]
    assert [submit(client, p.arxiv_id).status_code for p in papers] == [302, 302, 429]
    assert "2 papers a day" in submit(client, papers[2].arxiv_id).content.decode()
    assert DailyEntry.objects.count() == 2


def test_submissions_waiting_for_arxiv_count_toward_the_cap_and_queue_once(
    client, member, make_paper, settings, arxiv_at, closed_port
):
    settings.SUBMISSIONS_PER_DAY = 2
    arxiv_at(closed_port)
    assert submit(client, f"{NEW}.00601").status_code == 302  # queued
    again = submit(client, f"arXiv:{NEW}.00601v1")
    assert again.status_code == 302
    assert f"submission of {NEW}.00601 is already saved" in client.get("/submit").content.decode()
    assert [q["arxiv_id"] for q in queued_submissions()] == [f"{NEW}.00601"]
    assert submit(client, f"{NEW}.00602").status_code == 302  # queued: the second of two
    capped = submit(client, make_paper().arxiv_id)
    assert capped.status_code == 429 and "2 papers a day" in capped.content.decode()
    assert len(queued_submissions()) == 2 and not DailyEntry.objects.exists()


def test_it_prefills_the_form_from_a_link(client, member):
    html = client.get("/submit?arxiv_id=2611.01234").content.decode()
    assert 'value="2611.01234"' in html and "csrfmiddlewaretoken" in html


def months_ago(months):
    """A moment in the month `months` before this one."""
    first = timezone.now().replace(day=15)
    for _ in range(months):
        first = (first.replace(day=1) - dt.timedelta(days=1)).replace(day=15)
    return first


@pytest.mark.parametrize(
    "typed, base, when",
    [
        ("2512.20002", "2512.20002", "December 2025"),
        ("hep-th/9901001v2", "hep-th/9901001", "January 1999"),
        ("{yymm}.20002", "{yymm}.20002", "{month}"),  # two months ago: ended > 30 days ago
    ],
)
def test_it_refuses_an_id_too_old_by_its_month_without_asking_arxiv(
    client, member, patch_arxiv, typed, base, when
):
    old = months_ago(2)
    fill = dict(yymm=f"{old:%y%m}", month=f"{old:%B %Y}")
    typed, base, when = typed.format(**fill), base.format(**fill), when.format(**fill)
    fetch = patch_arxiv(fake_arxiv({base: paper_record(base)}))
    response = submit(client, typed)
    assert response.status_code == 400
    assert (
        f"arXiv:{base} was first published in {when}; "
        "only papers from the last 30 days can be submitted." in response.content.decode()
    )
    assert fetch.calls == [] and not queued_submissions() and not DailyEntry.objects.exists()


def test_it_asks_arxiv_about_last_months_ids(client, member, patch_arxiv):
    last = f"{months_ago(1):%y%m}.00042"
    fetch = patch_arxiv(fake_arxiv({last: paper_record(last)}))
    assert submit(client, last).status_code == 302
    assert fetch.calls == [[last]]


def test_the_worker_tries_arxiv_once_per_run_and_briefly(member, arxiv_at, silent_arxiv):
    """An unreachable arXiv holds the one worker (and the mail behind it) for seconds: the
    waiting between tries is the queue's."""
    from django_tasks_db.models import DBTaskResult

    from dailypapers.papers.tasks import finish_submission

    arxiv_at(silent_arxiv)
    args = dict(user_id=member.pk, arxiv_id=f"{NEW}.00600", day=timezone.localdate().isoformat())
    args["submitted_at"] = timezone.now().isoformat()
    started = time.monotonic()
    report = finish_submission.call(**args)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"the worker was held {elapsed:.0f} s"
    assert "asking again" in report
    assert queued_submissions() == [{**args, "attempt": 2}]
    [again] = DBTaskResult.objects.filter(task_path=finish_submission.module_path)
    assert again.run_after > timezone.now() + dt.timedelta(minutes=10)


def run_one_task(monkeypatch):
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.management.commands.db_worker import Worker

    # The worker closes connections between tasks (CONN_MAX_AGE 0): inside the test's
    # transaction that would close PostgreSQL's under the test.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    worker = Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=1, worker_id="test", excluded_queue_names=[],
    )  # fmt: skip
    worker.run()


def test_mail_goes_before_queued_arxiv_fetches(member, patch_arxiv, monkeypatch):
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from dailypapers.digests.tasks import send_subscription_mail
    from dailypapers.papers.services import _queue_submission
    from dailypapers.thumbnails.tasks import make_thumbnails

    fetch = patch_arxiv(fake_arxiv({}))
    _queue_submission(user=member, arxiv_id=f"{NEW}.00700", day=timezone.localdate())
    make_thumbnails.enqueue()
    mail = send_subscription_mail.enqueue(12345, "confirm", "new@example.org")  # queued last
    run_one_task(monkeypatch)
    statuses = dict(DBTaskResult.objects.values_list("task_path", "status"))
    assert statuses[mail.task.module_path] == TaskResultStatus.SUCCESSFUL
    assert statuses[make_thumbnails.module_path] == TaskResultStatus.READY
    assert statuses["dailypapers.papers.tasks.finish_submission"] == TaskResultStatus.READY
    assert fetch.calls == []


def text(response):
    """The page's text, without its tags."""
    return re.sub(r"<[^>]+>", "", response.content.decode())


def test_the_member_sees_submissions_waiting_for_arxiv(client, member, bob, arxiv_at, closed_port):
    arxiv_at(closed_port)
    times = [timezone.now().astimezone(dt.UTC)]
    submit(client, f"{NEW}.00501")
    times.append(timezone.now().astimezone(dt.UTC))
    waiting = f"Waiting for arXiv: {NEW}.00501"
    page = text(client.get("/submit"))
    assert waiting in page
    assert any(f"submitted {when:%b %-d, %H:%M} UTC" in page for when in times)
    assert "as soon as arXiv answers" in page and "within minutes" not in page
    assert waiting in text(client.get(f"/u/{member.username}"))
    client.force_login(bob)  # the queue is the member's own business
    assert waiting not in text(client.get(f"/u/{member.username}"))
    assert waiting not in text(client.get("/submit"))


def test_the_worker_drops_a_queued_id_whose_month_is_too_old_by_now(member, patch_arxiv):
    from dailypapers.papers.tasks import finish_submission

    fetch = patch_arxiv(fake_arxiv({}))
    old = f"{months_ago(2):%y%m}.00800"  # queued back then, asked again ever since
    report = finish_submission.call(
        user_id=member.pk, arxiv_id=old, day=timezone.localdate().isoformat(),
        submitted_at=timezone.now().isoformat(), attempt=3,
    )  # fmt: skip
    assert "only papers from the last 30 days can be submitted" in report
    assert fetch.calls == [] and not queued_submissions()
    [told] = member.notifications.all()
    assert told.headline.startswith(f"Your submission of arXiv:{old} was not added")
