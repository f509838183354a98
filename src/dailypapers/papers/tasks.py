"""Background work on papers: submissions that arXiv did not answer in time."""

import datetime as dt
import logging

from django.contrib.auth import get_user_model
from django.tasks import task

from dailypapers.workers import ARXIV_FETCH_PRIORITY

log = logging.getLogger(__name__)


@task(priority=ARXIV_FETCH_PRIORITY)
def finish_submission(user_id, arxiv_id, day, submitted_at, attempt=1):
    """Queued by paper_submit when arXiv did not answer while the member waited."""
    from .services import paper_submit_queued

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return f"{arxiv_id}: the member who submitted it is gone"
    report = paper_submit_queued(
        user=user,
        arxiv_id=arxiv_id,
        day=dt.date.fromisoformat(day),
        submitted_at=dt.datetime.fromisoformat(submitted_at),
        attempt=attempt,
    )
    log.info("queued submission by %s: %s", user.username, report)
    return report
