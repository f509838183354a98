"""Task workers that recover from each other's deaths.

django-tasks-db marks a task RUNNING when a worker claims it and leaves it so if that
worker dies (SIGKILL, OOM, a lost machine): nobody would ever run it again. Our
`dailypapers db_worker` is django-tasks-db's, plus a heartbeat: every worker writes the
time into WorkerBeat every TASK_WORKER_BEAT seconds, and puts back in the queue the
running tasks of workers that have not beaten for TASK_ORPHAN_AFTER seconds (a task whose
workers died TASK_MAX_ATTEMPTS times is marked failed instead, so that one task that kills
its worker cannot kill them all). Our tasks are idempotent (ingest upserts, indexing
rewrites, digests are claimed per subscriber), so running one again duplicates nothing.
"""

# Task priorities (django.tasks; a worker takes the highest-priority ready task first): a
# mail that someone waits for (a subscription's confirmation, the digests) goes before the
# rest, and background fetches from arXiv (queued submissions, thumbnails) after it.
MAIL_PRIORITY = 50
ARXIV_FETCH_PRIORITY = -50
