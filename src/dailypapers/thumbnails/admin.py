from django.contrib import admin

from .models import Thumbnail


@admin.register(Thumbnail)
class ThumbnailAdmin(admin.ModelAdmin):
    list_display = ["paper", "status", "version", "size", "attempts", "made_at"]
    list_filter = ["status"]
    search_fields = ["paper__arxiv_id"]
    raw_id_fields = ["paper"]
    readonly_fields = ["made_at"]
