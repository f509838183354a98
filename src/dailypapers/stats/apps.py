from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "dailypapers.stats"
    verbose_name = "Site statistics"
