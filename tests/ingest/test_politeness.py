"""One request per interval and one connection at a time, across processes."""

import multiprocessing
import time

from dailypapers.ingest.http import RateLimiter


def test_it_spaces_requests_by_the_interval(limiter, clock):
    with limiter.slot():
        pass
    clock.now += 1.25  # the next request comes 1.25 s later
    with limiter.slot():
        pass
    clock.now += 10
    with limiter.slot():
        pass

    assert clock.sleeps == [1.75]


def test_it_measures_the_interval_from_the_end_of_the_last_request(limiter, clock):
    with limiter.slot():
        clock.now += 20  # a slow answer
    with limiter.slot():
        pass

    assert clock.sleeps == [3.0]


def test_it_survives_a_garbled_lock_file(tmp_path, clock):
    path = tmp_path / "rate.lock"
    path.write_text("not a time")
    limiter = RateLimiter(path, 3, clock=clock.time, sleep=clock.sleep)

    with limiter.slot():
        pass

    assert float(path.read_text()) == clock.now


def _worker(path, interval, out):
    limiter = RateLimiter(path, interval)
    with open(out, "w") as spans:
        for _ in range(2):
            with limiter.slot():
                start = time.time()
                time.sleep(0.02)
                spans.write(f"{start} {time.time()}\n")


def test_it_holds_one_connection_at_a_time_across_processes(tmp_path):
    context = multiprocessing.get_context("spawn")
    outs = [tmp_path / f"spans-{n}.txt" for n in range(3)]
    workers = [
        context.Process(target=_worker, args=(tmp_path / "rate.lock", 0.15, out)) for out in outs
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    spans = sorted(tuple(map(float, line.split())) for out in outs for line in out.open())
    assert len(spans) == 6
    for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
        assert next_start >= end + 0.15 - 0.01  # never overlapping, always spaced


def test_a_person_waits_for_the_slot_a_bounded_time(tmp_path):
    import fcntl

    import pytest

    from dailypapers.ingest.http import ArxivUnavailable

    path = tmp_path / "rate.lock"
    with open(path, "a+") as busy:  # another fetcher's long request holds the one connection
        fcntl.flock(busy, fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(ArxivUnavailable, match="busy"):
            with RateLimiter(path, 3, max_wait=0.5).slot():
                pass
        assert 0.5 <= time.monotonic() - started < 2
