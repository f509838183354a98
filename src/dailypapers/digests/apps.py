from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "dailypapers.digests"
