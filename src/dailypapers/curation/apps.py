from django.apps import AppConfig


class CurationConfig(AppConfig):
    name = "dailypapers.curation"
