from django.contrib import admin

from .forms import AdminSignInForm
from .models import ApiToken, UnconfirmedEmail


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]


@admin.register(UnconfirmedEmail)
class UnconfirmedEmailAdmin(admin.ModelAdmin):
    """Accounts whose address is not confirmed; deleting a row confirms the address."""

    list_display = ["user", "address", "created_at"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]

    @admin.display(description="address", ordering="user__email")
    def address(self, row):
        return row.user.email


# The admin's sign-in counts wrong passwords like ours (accounts/throttle.py).
admin.site.login_form = AdminSignInForm
