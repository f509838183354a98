"""tantivy-follow: each machine's tantivy index follows the database's change log
(search/follow.py). PostgreSQL only, but for the watermark's rule and the engine choice."""

import datetime as dt
import io
import time

import pytest
from django.core.management import call_command
from django.db import connection

from dailypapers.search import follow, keyword, search_papers
from dailypapers.search.models import IndexState, KeywordChange

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the change log is PostgreSQL's"
)


@pytest.fixture
def following(settings, keyword_only):
    settings.SEARCH_ENGINE = keyword.FOLLOW
    yield settings
    follow.stop_following()  # a search started this process's follower thread


def machine(path):
    """The index of another machine: its own directory, the same database."""
    return follow.FollowingIndex(path)


def found(index, text):
    from dailypapers.search.keyword import Filters
    from dailypapers.search.query import parse

    hits, _ = keyword.KeywordIndex.search(index, parse(text), Filters(), limit=10)
    return [hit.pk for hit in hits]


@pytest.mark.parametrize(
    ("watermark", "rows", "expected"),
    [
        (0, [(1, False), (2, False), (3, False)], 3),  # consecutive ids
        (0, [(1, False), (3, False)], 1),  # id 2 may still commit: wait
        (0, [(1, False), (3, True)], 3),  # change 3 is old: id 2 never will
        (5, [(7, False), (8, True)], 5),  # the change after the gap is not settled
        (5, [], 5),
    ],
)
def test_it_moves_the_watermark_over_a_gap_only_once_the_gap_settled(watermark, rows, expected):
    assert follow.advance(watermark, rows) == expected


def test_it_flags_an_unknown_engine(settings):
    from dailypapers.search.checks import check_search_engine

    settings.SEARCH_ENGINE = "tantivy-folow"
    assert [problem.id for problem in check_search_engine(None)] == ["search.E001"]
    settings.SEARCH_ENGINE = keyword.FOLLOW
    assert check_search_engine(None) == []


def test_it_keeps_the_single_machine_engines_without_the_setting(db, settings):
    settings.SEARCH_ENGINE = "tantivy"
    assert type(keyword.get_index()) is keyword.KeywordIndex


@postgres_only
def test_it_logs_indexed_papers_and_writes_no_index_file(following, paper):
    made = paper(title="Sparse autoencoders for protein folding")
    index = keyword.get_index()
    assert isinstance(index, follow.FollowingIndex)
    assert list(KeywordChange.objects.values_list("paper_id", flat=True)) == [made.pk]
    assert index.count() == 0  # nothing local until the follower applies the log
    follow.catch_up(index)
    assert found(index, "protein folding") == [made.pk]


@postgres_only
def test_two_machines_follow_the_same_database(following, paper, tmp_path):
    from dailypapers.search import index_papers

    kept = paper(title="Sparse autoencoders for protein folding")
    hidden = paper(title="Protein folding with diffusion")
    one, two = machine(tmp_path / "one"), machine(tmp_path / "two")
    for index in (one, two):
        follow.catch_up(index)
        assert sorted(found(index, "protein folding")) == sorted([kept.pk, hidden.pk])
    hidden.hidden = True
    hidden.save()
    index_papers([hidden.pk])  # as the after-commit hook does (tests never commit)
    for index in (one, two):
        assert follow.catch_up(index) == 1
        assert found(index, "protein folding") == [kept.pk]
    assert follow.catch_up(one) == 0  # nothing new: nothing written


@postgres_only
def test_a_new_machine_indexes_every_paper_first(following, make_paper, tmp_path):
    papers = [make_paper(title=f"Graph networks, part {n}") for n in range(3)]  # never logged
    index = machine(tmp_path / "new")
    assert follow.catch_up(index) == 3
    assert sorted(found(index, "graph networks")) == [p.pk for p in papers]
    assert follow.Position.load(index.path).built


@postgres_only
def test_a_machine_behind_the_pruned_log_indexes_everything_again(following, paper, tmp_path):
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    first = paper(title="Graph networks for weather")
    KeywordChange.objects.update(at=old)  # settled: the watermark moves over it
    index = machine(tmp_path / "behind")
    follow.catch_up(index)
    watermark = follow.Position.load(index.path).watermark
    assert watermark == KeywordChange.objects.get().pk
    second = paper(title="Graph networks for traffic")
    KeywordChange.objects.update(at=old)
    assert follow.prune() == 2  # the change of the second paper was never applied
    assert IndexState.objects.get(pk=1).keyword_changes_pruned > watermark
    follow.catch_up(index)
    assert sorted(found(index, "graph networks")) == [first.pk, second.pk]


@postgres_only
def test_a_reindex_clears_the_index_and_logs_every_paper_again(following, paper, tmp_path):
    kept = paper(title="Retrieval augmented generation")
    gone = paper(title="Retrieval for code generation")
    index = machine(tmp_path / "m")
    follow.catch_up(index)
    gone.hidden = True
    gone.save()  # hidden without being indexed: only a reindex repairs that
    call_command("search", "reindex", stdout=None)
    follow.catch_up(index)
    assert found(index, "retrieval generation") == [kept.pk]


@postgres_only
def test_changes_beyond_a_gap_are_applied_once(following, paper, tmp_path):
    index = machine(tmp_path / "gap")
    follow.catch_up(index)
    made = paper(title="Mixture of experts routing")
    change = KeywordChange.objects.get(paper_id=made.pk)
    KeywordChange.objects.filter(pk=change.pk).update(id=change.pk + 5)  # ids in flight below
    assert follow.catch_up(index) == 1
    position = follow.Position.load(index.path)
    assert position.applied == [change.pk + 5]  # beyond the watermark, remembered
    assert follow.catch_up(index) == 0  # not written again while the gap may fill
    assert found(index, "mixture of experts") == [made.pk]


@postgres_only
def test_the_follow_command_builds_the_index_in_the_foreground(following, make_paper, capsys):
    made = make_paper(title="Speculative decoding at scale")
    call_command("search", "follow", "--once")
    assert "1 paper written; 1 document" in capsys.readouterr().out
    assert [p.pk for p in search_papers("speculative decoding").papers] == [made.pk]


@postgres_only
def test_the_follow_command_counts_the_changes_it_catches_up_on(following, paper, capsys):
    """Once the index is built, the bar counts the logged changes (a big ingest's), not
    every paper of the database with no step."""
    call_command("search", "follow", "--once")
    capsys.readouterr()
    for title in ("Sparse attention kernels", "Linear attention", "State space models"):
        paper(title=title)
    call_command("search", "follow", "--once")
    out, err = capsys.readouterr()
    assert "3 papers written; 3 documents" in out
    assert "3/3" in err


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_serving_process_follows_committed_changes_by_itself(following, make_paper):
    """The follower thread reads with its own connection: only committed papers."""
    from dailypapers.search import index_papers

    assert search_papers("tokenizer free language models").papers == []  # starts the thread
    made = make_paper(title="Tokenizer free language models")
    index_papers([made.pk])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if [p.pk for p in search_papers("tokenizer free language models").papers] == [made.pk]:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the follower thread did not apply the change within 20 s")


def test_it_stops_following_without_waiting_forever_for_a_busy_follower(monkeypatch, caplog):
    """A follower stuck in a call (a database that does not answer) must not hang the
    process that stops it: the wait is bounded, and says so."""
    import threading

    release = threading.Event()
    stuck = threading.Thread(target=release.wait, args=(30,), daemon=True)
    stuck.start()
    monkeypatch.setattr(follow, "STOP_TIMEOUT", 0.2)
    monkeypatch.setitem(follow._started, "/nowhere", (stuck, threading.Event()))
    try:
        started = time.monotonic()
        follow.stop_following()
        assert time.monotonic() - started < 5
        assert "still busy" in caplog.text
        assert follow._started == {}
    finally:
        release.set()
        stuck.join(timeout=5)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_restored_database_whose_log_runs_below_the_watermark_is_indexed_again(
    following, make_paper, tmp_path
):
    """A backup restored over the database brings its own, shorter log; the reindex after
    the restore then logs "clear" and every paper under ids the follower took for applied."""
    kept = make_paper(title="Graph transformers for molecules")  # logged as it commits
    gone = make_paper(title="Graph transformers for proteins")
    follow.record(range(1_000_000, 1_000_020))  # more changes (of papers since deleted)
    KeywordChange.objects.update(at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))  # settled
    index = machine(tmp_path / "m")
    follow.catch_up(index)
    assert sorted(found(index, "graph transformers")) == [kept.pk, gone.pk]
    watermark = follow.Position.load(index.path).watermark
    assert watermark >= 22

    # What `restore` does: the backup has neither the second paper nor the changes since;
    # its sequence of change ids stands below the follower's watermark.
    gone.delete()
    KeywordChange.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('search_keywordchange', 'id'), %s)",
            [watermark - 10],
        )
    call_command("search", "reindex", stdout=io.StringIO(), stderr=io.StringIO())
    assert KeywordChange.objects.order_by("-id").first().pk <= watermark

    follow.catch_up(index)
    assert found(index, "graph transformers") == [kept.pk]
    assert follow.Position.load(index.path).built


@postgres_only
def test_status_says_when_the_index_is_caught_up(following, paper):
    paper(title="Contrastive decoding")
    out = io.StringIO()
    call_command("search", "status", stdout=out)
    assert "not built yet: `dailypapers search follow --once` builds it" in out.getvalue()
    follow.catch_up(keyword.get_index())
    out = io.StringIO()
    call_command("search", "status", stdout=out)
    assert "tantivy-follow, 1 of 1 visible papers (100%); caught up (every change up to" in (
        out.getvalue()
    )
    paper(title="Contrastive search")
    out = io.StringIO()
    call_command("search", "status", stdout=out)
    assert "tantivy-follow, 1 of 2 visible papers (50%); 1 changes behind" in out.getvalue()


@postgres_only
def test_papers_written_but_never_logged_are_caught_up(following, make_paper, tmp_path):
    from dailypapers.search import services

    index = machine(tmp_path / "m")
    follow.catch_up(index)
    made = make_paper(title="Kernel methods for tabular data")  # marked; its indexing lost
    assert services.unindexed_ids() == [made.pk]
    assert follow.catch_up(index) == 0  # nothing logged: no machine can know of it
    assert services.catch_up() == 1  # the next ingest, `serve`, the nightly task
    follow.catch_up(index)
    assert found(index, "kernel methods tabular") == [made.pk]
    assert services.unindexed_ids() == []


@postgres_only
def test_a_reindex_never_leaves_a_machine_with_part_of_the_papers(following, paper, tmp_path):
    """`search reindex` logs "clear", then every paper, for minutes: the follower builds from
    the papers themselves over its old documents instead of emptying its index."""
    made = [paper(title=f"Speculative decoding, part {n}") for n in range(3)]
    index = machine(tmp_path / "m")
    follow.catch_up(index)
    gone = made.pop()
    gone.hidden = True
    gone.save()  # hidden without being indexed: the reindex drops it
    follow.record_clear()  # a reindex has begun: it has logged the first paper only
    follow.record([made[0].pk])
    follow.catch_up(index)
    assert sorted(found(index, "speculative decoding")) == [p.pk for p in made]
    follow.record([p.pk for p in made[1:]])  # the rest of the reindex
    follow.catch_up(index)
    assert sorted(found(index, "speculative decoding")) == [p.pk for p in made]
