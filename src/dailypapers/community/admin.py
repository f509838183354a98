from django.contrib import admin, messages

from .models import Comment
from .services import comments_set_hidden


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "paper", "body", "hidden"]
    list_filter = ["hidden", "created_at"]
    search_fields = ["body", "user__username", "paper__arxiv_id"]
    raw_id_fields = ["paper", "user"]
    # hidden changes only through the actions, which keep the paper's comment count right.
    readonly_fields = ["created_at", "hidden"]
    actions = ["hide", "unhide"]

    @admin.action(description="Hide the selected comments")
    def hide(self, request, queryset):
        count = comments_set_hidden(comments=queryset, hidden=True)
        self.message_user(request, f"Hid {count} comments.", messages.SUCCESS)

    @admin.action(description="Show the selected comments again")
    def unhide(self, request, queryset):
        count = comments_set_hidden(comments=queryset, hidden=False)
        self.message_user(request, f"Showed {count} comments again.", messages.SUCCESS)
