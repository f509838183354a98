from django.apps import AppConfig


class ThumbnailsConfig(AppConfig):
    name = "dailypapers.thumbnails"
    verbose_name = "Thumbnails"
