from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "dailypapers.api"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from dailypapers.papers.models import DailyEntry, Paper, Vote
        from dailypapers.papers.signals import papers_changed

        from .http import data_changed

        # Answers kept by http.remembered_json are keyed on a version these saves move on.
        for model in (Paper, DailyEntry, Vote):
            post_save.connect(data_changed, sender=model, dispatch_uid=f"api-{model.__name__}-s")
            post_delete.connect(data_changed, sender=model, dispatch_uid=f"api-{model.__name__}-d")
        papers_changed.connect(data_changed, dispatch_uid="api-papers-changed")  # bulk writes
