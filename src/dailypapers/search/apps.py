from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "dailypapers.search"
