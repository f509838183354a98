from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "dailypapers.search"

    def ready(self):
        from . import checks, signals  # noqa: F401

        one_blas_thread()


def one_blas_thread():
    """numpy's OpenBLAS with a thread per core solves a linear system (For you's ridge
    regression) with work arrays on the calling thread's stack: called from several of
    the web server's threads at once, it overflowed their 2 MiB stacks and the worker
    process died (a segfault: every request in it lost). With one BLAS thread it does not;
    requests are the parallelism here, not a 256 x 256 solve. The package sets
    OPENBLAS_NUM_THREADS before numpy loads; this also holds where numpy came first."""
    import numpy  # noqa: F401  (threadpoolctl limits the libraries loaded)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
