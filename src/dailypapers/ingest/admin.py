from django.contrib import admin

from .models import OaiHarvest


@admin.register(OaiHarvest)
class OaiHarvestAdmin(admin.ModelAdmin):
    """Where each OAI-PMH harvest stands; delete an unfinished one to start it over."""

    list_display = ["__str__", "pages", "records", "complete_list_size", "updated_at",
                    "finished_at"]  # fmt: skip
    list_filter = ["metadata_prefix", "finished_at"]
    search_fields = ["set_spec"]
    readonly_fields = ["started_at", "updated_at"]
