"""Moderation: merge author name variants (an action on the authors' list, with a page to
pick the name to keep), verify or reject authorship claims, look at collections."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse

from dailypapers.papers.admin import AuthorAdmin as PapersAuthorAdmin
from dailypapers.papers.models import Author
from dailypapers.plural import counted

from .models import AuthorMerge, AuthorshipClaim, Collection, CollectionItem
from .services import authors_merge, claim_decide


class AuthorAdmin(PapersAuthorAdmin):
    list_display = ["name", "merged_into"]
    actions = ["merge"]
    show_full_result_count = False

    @admin.action(description="Merge the selected name variants into one author…")
    def merge(self, request, queryset):
        authors = list(queryset.order_by("name")[:50])
        if len(authors) < 2:
            self.message_user(request, "Select two or more spellings to merge.", messages.WARNING)
            return None
        chosen = request.POST.get("canonical")
        if chosen:
            canonical = next((a for a in authors if str(a.pk) == chosen), None)
            if canonical is None:
                self.message_user(request, "Keep one of the selected names.", messages.ERROR)
                return None
            try:
                count = authors_merge(moderator=request.user, canonical=canonical, variants=authors)
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(
                request, f"Merged {count} variants into “{canonical}”.", messages.SUCCESS
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge author name variants",
            "authors": authors,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/people/merge_authors.html", context)


admin.site.unregister(Author)
admin.site.register(Author, AuthorAdmin)


@admin.register(AuthorMerge)
class AuthorMergeAdmin(admin.ModelAdmin):
    """Deleting a row here undoes that merge."""

    list_display = ["variant", "canonical", "merged_by", "merged_at"]
    search_fields = ["variant__name", "canonical__name"]
    raw_id_fields = ["variant", "canonical", "merged_by"]
    readonly_fields = ["merged_by", "merged_at"]

    def has_add_permission(self, request):
        return False  # merges are made with the action on the authors' list


@admin.register(AuthorshipClaim)
class AuthorshipClaimAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "author", "paper", "status", "decided_by"]
    list_filter = ["status", "created_at"]
    search_fields = ["user__username", "author__name", "paper__arxiv_id"]
    raw_id_fields = ["user", "paper", "author"]
    readonly_fields = [
        "user",
        "paper",
        "author",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    actions = ["verify", "reject"]

    def has_add_permission(self, request):
        return False  # members claim on the paper's page

    @admin.action(description="Verify the selected claims", permissions=["verify"])
    def verify(self, request, queryset):
        self._decide(request, queryset, verified=True)

    @admin.action(description="Reject the selected claims", permissions=["verify"])
    def reject(self, request, queryset):
        self._decide(request, queryset, verified=False)

    def has_verify_permission(self, request):
        return request.user.has_perm("people.verify_claims")

    def _decide(self, request, queryset, *, verified):
        done = 0
        for claim in queryset.select_related("author", "paper"):
            try:
                claim_decide(moderator=request.user, claim=claim, verified=verified)
                done += 1
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.WARNING)
        word = "Verified" if verified else "Rejected"
        self.message_user(request, f"{word} {counted(done, 'claim')}.", messages.SUCCESS)


class CollectionItemInline(admin.TabularInline):
    model = CollectionItem
    raw_id_fields = ["paper"]
    extra = 0


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "is_public", "updated_at"]
    list_filter = ["is_public"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner"]
    inlines = [CollectionItemInline]
