from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "dailypapers.search"

    def ready(self):
        from . import signals  # noqa: F401
