from django.apps import AppConfig


class CachingConfig(AppConfig):
    name = "dailypapers.caching"

    def ready(self):
        from django.apps import apps
        from django.db.models.signals import post_delete, post_save

        from dailypapers.papers.signals import papers_changed

        from .generation import changed

        # What the cached pages show: papers, their daily entries and votes, comments.
        for label in ("papers.Paper", "papers.DailyEntry", "papers.Vote", "community.Comment"):
            model = apps.get_model(label)
            post_save.connect(changed, sender=model, dispatch_uid=f"caching-{label}-saved")
            post_delete.connect(changed, sender=model, dispatch_uid=f"caching-{label}-deleted")
        papers_changed.connect(changed, dispatch_uid="caching-papers-changed")  # bulk writes
