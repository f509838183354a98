from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "actor", "paper", "read_at", "digested_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username", "text"]
    raw_id_fields = ["user", "actor", "paper", "comment"]
