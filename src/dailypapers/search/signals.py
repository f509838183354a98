"""Keep the search index in step with single saves (admin, services) and with bulk writes,
which announce themselves with papers.signals.papers_changed (ingest, admin actions)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.signals import papers_changed

from .tasks import index_papers_later

# Fields whose change does not affect the index (vote counters, scores).
UNINDEXED = {"imported_upvotes", "local_upvotes", "trending_score", "num_comments", "modified_at"}


@receiver(post_save, sender=Paper, dispatch_uid="search_paper_saved")
def paper_saved(sender, instance, update_fields=None, raw=False, **kwargs):
    if raw or (update_fields and set(update_fields) <= UNINDEXED):
        return
    index_papers_later([instance.pk])


@receiver(post_delete, sender=Paper, dispatch_uid="search_paper_deleted")
def paper_deleted(sender, instance, **kwargs):
    index_papers_later([instance.pk])


@receiver(post_save, sender=DailyEntry, dispatch_uid="search_entry_saved")
def entry_saved(sender, instance, created=False, raw=False, **kwargs):
    if created and not raw:  # "featured" is indexed
        index_papers_later([instance.paper_id])


@receiver(papers_changed, dispatch_uid="search_papers_changed")
def papers_bulk_changed(sender, paper_ids, **kwargs):
    index_papers_later(paper_ids)
