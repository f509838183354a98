from django.contrib import admin, messages

from dailypapers.plural import counted

from .models import Author, DailyEntry, Organization, Paper, Vote
from .signals import papers_changed_on_commit


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["arxiv_id", "title", "primary_category", "published_at", "upvotes", "hidden"]
    list_filter = ["hidden", "primary_category", "published_at"]
    search_fields = ["arxiv_id", "title"]
    raw_id_fields = ["organization"]
    readonly_fields = ["upvotes", "trending_score", "local_upvotes", "created_at", "modified_at"]
    date_hierarchy = "published_at"
    actions = ["hide", "unhide"]
    show_full_result_count = False  # COUNT(*) over a million rows on every page is slow

    @admin.action(description="Hide the selected papers everywhere")
    def hide(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = Paper.objects.filter(pk__in=ids).update(hidden=True)
        papers_changed_on_commit(self, ids)
        self.message_user(request, f"Hid {counted(count, 'paper')}.", messages.SUCCESS)

    @admin.action(description="Show the selected papers again")
    def unhide(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = Paper.objects.filter(pk__in=ids).update(hidden=False)
        papers_changed_on_commit(self, ids)
        self.message_user(request, f"Showed {counted(count, 'paper')} again.", messages.SUCCESS)


@admin.register(DailyEntry)
class DailyEntryAdmin(admin.ModelAdmin):
    list_display = ["day", "paper", "source", "submitted_by", "submitted_at"]
    list_filter = ["source", "day"]
    search_fields = ["paper__arxiv_id", "paper__title", "submitted_by__username"]
    raw_id_fields = ["paper", "submitted_by"]
    date_hierarchy = "day"


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["paper", "user", "created_at"]
    search_fields = ["paper__arxiv_id", "user__username"]
    raw_id_fields = ["paper", "user"]


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "fullname"]
    search_fields = ["name", "fullname"]
