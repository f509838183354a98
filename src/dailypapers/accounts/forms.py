"""Account forms: sign-in forms that count wrong passwords (accounts/throttle.py), ours and
the admin's; the password reset that mails confirmed addresses only; the settings page's
forms (change password, change address, delete the account)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm
from django.core.exceptions import ValidationError

from .throttle import Limit, client_ip, throttle_clear, throttle_hit, throttle_wait, wait_message


class ThrottledSignIn:
    """Refuses to check a password while the account, or the caller's address, has had too
    many wrong ones in the window; counts each wrong one; a right one clears the account."""

    throttled = False

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        counters = [(Limit.named("signin-account"), username)] if username else []
        if self.request is not None:
            counters.append((Limit.named("signin-ip"), client_ip(self.request)))
        wait = max([throttle_wait(limit, ident) for limit, ident in counters], default=0)
        if wait:
            self.throttled = True
            raise ValidationError(
                wait_message(wait, "wrong passwords") + " Or reset your password by email.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                for limit, ident in counters:
                    throttle_hit(limit, ident)
            raise
        if username:  # the owner is in: their account's count starts again
            throttle_clear(Limit.named("signin-account"), username)
        return cleaned


class SignInForm(ThrottledSignIn, AuthenticationForm):
    pass


class AdminSignInForm(ThrottledSignIn, AdminAuthenticationForm):
    pass


class ConfirmedPasswordResetForm(PasswordResetForm):
    """Django's, mailing only accounts whose address is confirmed (accounts.UnconfirmedEmail):
    a reset link sent to an address nobody proved would hand the account to whoever owns it."""

    def get_users(self, email):
        for user in super().get_users(email):
            if not hasattr(user, "unconfirmed_email"):
                yield user


class CurrentPasswordMixin:
    """A settings form that asks for the member's password: wrong ones count against the
    account like wrong sign-ins (a borrowed session cannot guess it)."""

    password_field = "password"
    throttled = False

    def clean(self):
        cleaned = super().clean()
        username = self.user.get_username()
        limit = Limit.named("signin-account")
        wait = throttle_wait(limit, username)
        if wait:
            self.throttled = True
            raise ValidationError(wait_message(wait, "wrong passwords"), code="throttled")
        if self.password_field in self.errors:
            return cleaned
        if not self.user.check_password(cleaned.get(self.password_field) or ""):
            throttle_hit(limit, username)
            self.add_error(self.password_field, "That is not your current password.")
        return cleaned


class PasswordChangeInPlaceForm(CurrentPasswordMixin, PasswordChangeForm):
    """Django's password change; the current password is checked (and counted) in clean()."""

    password_field = "old_password"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One form among three on the settings page: no jumping to it on every visit.
        self.fields["old_password"].widget.attrs.pop("autofocus", None)

    def clean_old_password(self):
        return self.cleaned_data["old_password"]


class PasswordConfirmedForm(CurrentPasswordMixin, forms.Form):
    """A change of the member's own account, confirmed with their password."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


class EmailChangeForm(PasswordConfirmedForm):
    prefix = "change"  # the settings page holds three forms: their ids must differ
    email = forms.EmailField(label="New email address", max_length=254)
    field_order = ["email", "password"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if email.lower() == (self.user.email or "").lower():
            raise ValidationError("That is the address your account has already.")
        return email


class AccountDeleteForm(PasswordConfirmedForm):
    prefix = "delete"
