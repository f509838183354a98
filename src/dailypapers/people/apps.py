from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "dailypapers.people"
    verbose_name = "Authors, organisations and collections"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from dailypapers.caching.generation import changed
        from dailypapers.papers.signals import papers_changed

        from . import models
        from .notify import on_papers_changed

        # New papers by followed authors become notifications (ingest, submissions).
        papers_changed.connect(on_papers_changed, dispatch_uid="people-notify-new-papers")

        # What the cached pages show: author links, badges, the member's collections.
        for model in (
            models.AuthorMerge,
            models.AuthorshipClaim,
            models.Collection,  # the paper page lists the member's collections
        ):
            uid = f"caching-people-{model.__name__}"
            post_save.connect(changed, sender=model, dispatch_uid=f"{uid}-saved")
            post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}-deleted")
