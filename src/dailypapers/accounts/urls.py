from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("settings", views.account_settings, name="settings"),
    path("settings/password", views.password_change, name="password-change"),
    path("settings/email", views.email_change, name="email-change"),
    path("settings/email/confirm", views.confirmation_resend, name="confirmation-resend"),
    path("settings/delete", views.account_delete, name="delete"),
    path("accounts/confirm/<str:token>/", views.email_confirm, name="email-confirm"),
    path("settings/tokens", views.tokens, name="tokens"),
    path("settings/tokens/<int:token_id>/revoke", views.token_revoke_view, name="token-revoke"),
]
