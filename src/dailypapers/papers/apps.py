from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "dailypapers.papers"

    def ready(self):
        from dailypapers import checks  # noqa: F401  (registers the configuration checks)
