from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "dailypapers.workers"
    default_auto_field = "django.db.models.BigAutoField"
