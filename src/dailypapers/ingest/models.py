"""Ingest's own state: where an OAI-PMH harvest stands, so an interrupted one resumes."""

from django.db import models


class OaiHarvest(models.Model):
    """One ListRecords harvest (set, format, from, until) and its last resumption token."""

    set_spec = models.CharField(max_length=100, blank=True)
    metadata_prefix = models.CharField(max_length=20)
    from_date = models.DateField(null=True, blank=True)
    until_date = models.DateField(null=True, blank=True)
    # The token for the next page; empty before the first page and after the last one.
    resumption_token = models.TextField(blank=True)
    pages = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    complete_list_size = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["set_spec", "metadata_prefix", "from_date"], name="oai_harvest")
        ]

    def __str__(self):
        state = "finished" if self.finished_at else f"at page {self.pages}"
        where = self.set_spec or "(all sets)"
        return f"OAI {self.metadata_prefix} {where} from {self.from_date}: {state}"
