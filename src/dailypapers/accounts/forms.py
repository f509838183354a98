"""Sign-in forms that count wrong passwords (accounts/throttle.py): ours and the admin's."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
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
