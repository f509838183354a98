from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dailypapers.accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self):
        from . import services  # noqa: F401  (connects account_release to the user's deletion)
