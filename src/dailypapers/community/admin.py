"""Moderation in the admin: the report queue, comments (hide, restore, ban their authors)
and bans. Every action goes through services.py, which keeps comment counts right."""

from django.contrib import admin, messages
from django.db.models import Count, Q

from dailypapers.plural import counted

from .models import Ban, Comment, CommentReport
from .services import (
    comments_recount,
    comments_set_hidden,
    is_moderator,
    member_ban,
    member_unban,
    reports_dismiss,
)


class ModeratorActions:
    """Hiding, restoring and banning need the moderate_comment permission, not only access
    to the admin page."""

    def has_moderate_permission(self, request):
        return is_moderator(request.user)


@admin.register(Comment)
class CommentAdmin(ModeratorActions, admin.ModelAdmin):
    list_display = ["created_at", "user", "paper", "body", "hidden", "open_reports", "score"]
    list_filter = ["hidden", "created_at"]
    search_fields = ["body", "user__username", "paper__arxiv_id"]
    raw_id_fields = ["paper", "user", "parent"]
    # hidden changes only through the actions, which keep the paper's comment count right.
    readonly_fields = [
        "created_at", "edited_at", "deleted_at", "hidden", "body_html",
        "upvotes", "downvotes", "score",
    ]  # fmt: skip
    actions = ["hide", "unhide", "ban_authors"]

    def get_queryset(self, request):
        reports = Count("reports", filter=Q(reports__resolved_at__isnull=True))
        return super().get_queryset(request).annotate(open_report_count=reports)

    # Deleting (an operator's choice; the page lists the replies that go with a comment)
    # leaves each paper's comment count as its shown comments say.
    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        comments_recount(paper_ids=[obj.paper_id])

    def delete_queryset(self, request, queryset):
        paper_ids = set(queryset.values_list("paper_id", flat=True))
        super().delete_queryset(request, queryset)
        comments_recount(paper_ids=paper_ids)

    @admin.display(description="open reports", ordering="open_report_count")
    def open_reports(self, comment):
        return comment.open_report_count

    @admin.action(description="Hide the selected comments", permissions=["moderate"])
    def hide(self, request, queryset):
        count = comments_set_hidden(comments=queryset, hidden=True, moderator=request.user)
        self.message_user(request, f"Hid {counted(count, 'comment')}.", messages.SUCCESS)

    @admin.action(description="Show the selected comments again", permissions=["moderate"])
    def unhide(self, request, queryset):
        count = comments_set_hidden(comments=queryset, hidden=False, moderator=request.user)
        self.message_user(request, f"Showed {counted(count, 'comment')} again.", messages.SUCCESS)

    @admin.action(
        description="Ban the authors of the selected comments (and hide all theirs)",
        permissions=["moderate"],
    )
    def ban_authors(self, request, queryset):
        authors = {c.user for c in queryset.select_related("user") if c.user_id}  # not deleted
        for author in authors:
            member_ban(user=author, moderator=request.user, reason="Banned from the admin.")
        self.message_user(request, f"Banned {counted(len(authors), 'member')}.", messages.SUCCESS)


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(CommentReport)
class CommentReportAdmin(ModeratorActions, admin.ModelAdmin):
    """The moderators' queue: open reports, oldest first."""

    list_display = ["created_at", "reason", "comment_text", "comment_author", "reporter", "note"]
    list_filter = [OpenFilter, "reason", "outcome"]
    list_select_related = ["comment", "comment__user", "reporter"]
    raw_id_fields = ["comment", "reporter", "resolved_by"]
    readonly_fields = ["created_at", "resolved_at", "resolved_by", "outcome"]
    ordering = ["created_at"]
    actions = ["hide_comments", "dismiss", "ban_authors"]

    @admin.display(description="comment")
    def comment_text(self, report):
        return report.comment.body[:200] or "(deleted)"

    @admin.display(description="author")
    def comment_author(self, report):
        return report.comment.user

    def _comments(self, queryset):
        return Comment.objects.filter(pk__in=queryset.values("comment_id"))

    @admin.action(description="Hide the reported comments", permissions=["moderate"])
    def hide_comments(self, request, queryset):
        count = comments_set_hidden(
            comments=self._comments(queryset), hidden=True, moderator=request.user
        )
        self.message_user(request, f"Hid {counted(count, 'comment')}.", messages.SUCCESS)

    @admin.action(description="Dismiss the reports (keep the comments)", permissions=["moderate"])
    def dismiss(self, request, queryset):
        count = reports_dismiss(reports=queryset, moderator=request.user)
        self.message_user(request, f"Dismissed {counted(count, 'report')}.", messages.SUCCESS)

    @admin.action(description="Ban the authors of the reported comments", permissions=["moderate"])
    def ban_authors(self, request, queryset):
        authors = {report.comment.user for report in queryset if report.comment.user_id}
        for author in authors:
            member_ban(user=author, moderator=request.user, reason="Reported comments.")
        self.message_user(request, f"Banned {counted(len(authors), 'member')}.", messages.SUCCESS)


@admin.register(Ban)
class BanAdmin(ModeratorActions, admin.ModelAdmin):
    list_display = ["user", "until", "reason", "created_at", "created_by"]
    search_fields = ["user__username", "reason"]
    raw_id_fields = ["user", "created_by"]
    readonly_fields = ["created_at", "created_by"]
    actions = ["lift"]

    def save_model(self, request, obj, form, change):
        # Through the service, so a ban made here hides the member's comments too.
        ban = member_ban(user=obj.user, moderator=request.user, reason=obj.reason, until=obj.until)
        obj.pk, obj.created_at = ban.pk, ban.created_at

    @admin.action(description="Lift the selected bans", permissions=["moderate"])
    def lift(self, request, queryset):
        count = sum(member_unban(user=ban.user) for ban in queryset.select_related("user"))
        self.message_user(request, f"Lifted {counted(count, 'ban')}.", messages.SUCCESS)
