from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "dailypapers.backups"
    verbose_name = "Backups and moves"
