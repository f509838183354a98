import threading
import time

from dailypapers.search import gate, search_papers


def wait_until(condition, seconds=5):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_at_most_the_set_number_of_searches_run_at_once(settings):
    settings.SEARCH_CONCURRENCY = 2
    searches, running, most = gate.Gate(), [0], [0]
    lock = threading.Lock()

    @searches
    def search():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    threads = [threading.Thread(target=search) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2


def test_a_freed_slot_goes_to_the_longest_waiter(settings):
    """A thread that leaves and comes straight back queues behind those waiting: with a
    plain semaphore it took its slot again, and a waiter could wait for ever."""
    settings.SEARCH_CONCURRENCY = 1
    searches, entered = gate.Gate(), []
    inside = threading.Event()
    leave = threading.Event()

    def hog():
        with searches:
            entered.append("hog")
            inside.set()
            leave.wait()
        with searches:  # straight back
            entered.append("hog again")

    def waiter():
        with searches:
            entered.append("waiter")

    first = threading.Thread(target=hog)
    first.start()
    inside.wait()
    second = threading.Thread(target=waiter)
    second.start()
    wait_until(lambda: len(searches._waiting) == 1)
    leave.set()
    first.join()
    second.join()
    assert entered == ["hog", "waiter", "hog again"]


def test_search_goes_through_the_gate(monkeypatch):
    from dailypapers.search import selectors

    started = threading.Event()

    def first_step(*args):
        started.set()
        raise LookupError("stop here")

    monkeypatch.setattr(selectors, "_clamp", first_step)
    monkeypatch.setattr(gate.searches, "_free", 0)  # every slot taken

    def search():
        try:
            search_papers("pruning")
        except LookupError:
            pass

    thread = threading.Thread(target=search)
    thread.start()
    wait_until(lambda: len(gate.searches._waiting) == 1)
    assert not started.is_set()  # it waits for a slot
    gate.searches.__exit__(None, None, None)  # a slot is freed: handed to the search
    thread.join(5)
    assert started.is_set()
