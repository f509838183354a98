from django.contrib import admin

from .forms import AdminSignInForm
from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]


# The admin's sign-in counts wrong passwords like ours (accounts/throttle.py).
admin.site.login_form = AdminSignInForm
