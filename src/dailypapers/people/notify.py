"""On-site notifications of new papers by the authors members follow (the notifications
app shows them and puts them into the member's next digest; never mailed on their own)."""

import datetime as dt
import logging
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from dailypapers.papers.models import Paper

from .models import AuthorMerge

log = logging.getLogger(__name__)

NEW_PAPER_DAYS = 7  # a paper first seen later than this after its v1 is not news
CHUNK = 500


def followers_by_name():
    """{author name, lower-cased: {member id}} for every author followed by an active
    member, each spelling merged with a followed author included."""
    from dailypapers.digests.models import Follow  # digests imports people

    follows = Follow.objects.filter(
        kind=Follow.Kind.AUTHOR, subscription__user__is_active=True
    ).values_list("value", "subscription__user_id")
    followers, names = defaultdict(set), set()
    for name, user_id in follows:
        followers[name.lower()].add(user_id)
        names.add(name)
    if not followers:
        return followers
    groups = defaultdict(set)  # canonical name -> every spelling
    merges = AuthorMerge.objects.filter(
        Q(canonical__name__in=names) | Q(variant__name__in=names)
    ).values_list("canonical_id", "canonical__name")
    canonical_ids = {pk for pk, _ in merges}
    for canonical, variant in AuthorMerge.objects.filter(
        canonical_id__in=canonical_ids
    ).values_list("canonical__name", "variant__name"):
        groups[canonical.lower()].update({canonical.lower(), variant.lower()})
    for spellings in groups.values():
        members = set().union(*(followers.get(name, set()) for name in spellings))
        for name in spellings:
            followers[name] = followers[name] | members
    return followers


def notify_new_papers(paper_ids):
    """Tell each member who follows an author of these papers (published in the last
    NEW_PAPER_DAYS days) about them, once per member and paper. Returns how many were new."""
    from dailypapers.notifications.models import Notification
    from dailypapers.notifications.services import notification_create

    followers = followers_by_name()
    if not followers:
        return 0
    recent = timezone.now() - dt.timedelta(days=NEW_PAPER_DAYS)
    paper_ids = list(paper_ids)
    wanted = defaultdict(list)  # paper -> [(member id, author name)]
    for start in range(0, len(paper_ids), CHUNK):
        papers = Paper.objects.visible().filter(
            pk__in=paper_ids[start : start + CHUNK], published_at__gte=recent
        )
        for paper in papers.only("pk", "arxiv_id", "title", "authors"):
            told = set()
            for name in paper.author_names:
                for user_id in followers.get(name.lower(), set()) - told:
                    told.add(user_id)
                    wanted[paper].append((user_id, name))
    users = get_user_model().objects.in_bulk(
        {user_id for pairs in wanted.values() for user_id, _ in pairs}
    )
    created = 0
    for paper, pairs in wanted.items():
        for user_id, name in pairs:
            text = f"{name}: {paper.plain_title}"
            if notification_create(
                user=users[user_id], kind=Notification.Kind.AUTHOR_PAPER, paper=paper, text=text
            ):
                created += 1
    return created


def on_papers_changed(sender, paper_ids, **kwargs):
    """papers_changed receiver: notifications must never break an ingest."""
    try:
        notify_new_papers(paper_ids)
    except Exception:
        log.exception("notifications of new papers by followed authors failed")
