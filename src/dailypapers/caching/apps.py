from django.apps import AppConfig


class CachingConfig(AppConfig):
    name = "dailypapers.caching"

    def ready(self):
        from django.apps import apps
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save

        from dailypapers.papers.signals import papers_changed

        from .generation import changed

        # What the cached pages show: papers, their daily entries and votes, comments.
        for label in ("papers.Paper", "papers.DailyEntry", "papers.Vote", "community.Comment"):
            model = apps.get_model(label)
            post_save.connect(changed, sender=model, dispatch_uid=f"caching-{label}-saved")
            post_delete.connect(changed, sender=model, dispatch_uid=f"caching-{label}-deleted")
        papers_changed.connect(changed, dispatch_uid="caching-papers-changed")  # bulk writes
        # Accounts: a member's cached pages are keyed on their session, so signing in (which
        # saves last_login), signing out, a new password or a ban must retire them all.
        post_save.connect(changed, sender=get_user_model(), dispatch_uid="caching-user-saved")
        post_delete.connect(changed, sender=get_user_model(), dispatch_uid="caching-user-deleted")
        user_logged_out.connect(changed, dispatch_uid="caching-signed-out")
