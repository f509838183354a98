from django.apps import AppConfig
from django.db.models.signals import post_migrate

MODERATOR_PERMISSIONS = [
    "moderate_comment",
    "view_comment",
    "change_comment",
    "view_commentreport",
    "change_commentreport",
    "view_ban",
    "add_ban",
    "change_ban",
    "delete_ban",
]


def moderators_group(sender, using="default", **kwargs):
    """A "Moderators" group with what moderating needs: an operator makes a member a
    moderator by ticking "staff status" and adding them to it."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.using(using).get_or_create(name="Moderators")
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="community", codename__in=MODERATOR_PERMISSIONS
    )
    group.permissions.add(*permissions)


class CommunityConfig(AppConfig):
    name = "dailypapers.community"

    def ready(self):
        post_migrate.connect(moderators_group, sender=self, dispatch_uid="moderators-group")
