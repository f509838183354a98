from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "dailypapers.notifications"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from dailypapers.caching.generation import changed

        from .models import Notification

        # A member's cached pages show their unread count in the menu: a new one moves them.
        post_save.connect(changed, sender=Notification, dispatch_uid="caching-notification-saved")
        post_delete.connect(
            changed, sender=Notification, dispatch_uid="caching-notification-deleted"
        )
