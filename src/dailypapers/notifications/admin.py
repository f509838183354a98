from django.contrib import admin

from .models import MailPreference, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "actor", "paper", "read_at", "digested_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username", "text"]
    raw_id_fields = ["user", "actor", "paper", "comment"]


@admin.register(MailPreference)
class MailPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "enabled", "last_sent_at"]
    list_filter = ["enabled"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
