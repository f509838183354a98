from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "dailypapers.search"

    def ready(self):
        from . import checks, signals  # noqa: F401
