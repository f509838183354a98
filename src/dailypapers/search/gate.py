"""A gate that lets at most N searches run at once in a process, first come, first served.

Searches are CPU work in Python and in tantivy (which releases the GIL). With more of them
running than there are cores, the threads of a server fight over the GIL and the caches:
at 1M papers, 8 concurrent keyword searches in one process answered 60 a second, p95
232 ms; through a gate of 2 (this machine's cores), 74 a second, p95 135 ms (hybrid: 26-30
-> 35-39 a second). The gate hands a freed slot to the longest waiter: a plain semaphore
let a thread that had just finished take its slot again, and some searches waited seconds.
"""

import collections
import functools
import os
import threading

from django.conf import settings


class Gate:
    def __init__(self):
        self._lock = threading.Lock()
        self._free = None  # slots, set from settings on first use
        self._waiting = collections.deque()

    def __enter__(self):
        with self._lock:
            if self._free is None:
                self._free = max(1, settings.SEARCH_CONCURRENCY or os.cpu_count() or 1)
            if self._free and not self._waiting:
                self._free -= 1
                return self
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the slot is handed over by __exit__
        return self

    def __exit__(self, *exc):
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1

    def __call__(self, function):
        @functools.wraps(function)
        def gated(*args, **kwargs):
            with self:
                return function(*args, **kwargs)

        return gated


searches = Gate()
