"""Signals of the papers app.

Bulk writes (ingest's executemany, the admin's hide action, QuerySet.update) send no
post_save. Whoever writes papers in bulk sends `papers_changed` once the rows are
committed, so that the search index and the API's answer cache follow without the writer
knowing about either.
"""

from django.db import transaction
from django.dispatch import Signal

# Sent with `paper_ids` (a list of Paper primary keys that were created, updated or hidden).
papers_changed = Signal()


def papers_changed_on_commit(sender, paper_ids):
    paper_ids = list(paper_ids)
    if paper_ids:
        transaction.on_commit(lambda: papers_changed.send(sender=sender, paper_ids=paper_ids))
