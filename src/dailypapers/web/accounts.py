"""Sign up, and Django's own auth views (sign in/out, password reset) with our templates.

The admin app ships templates named registration/*.html that would win over ours (it comes
first in INSTALLED_APPS), so ours live under web/accounts/ and are named explicitly.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy

from dailypapers.accounts.forms import ConfirmedPasswordResetForm, SignInForm
from dailypapers.accounts.services import confirmation_send, email_mark_unconfirmed
from dailypapers.accounts.throttle import Limit, attempt_allowed, throttle_clear, wait_message

from .forms import SignupForm


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        wait = attempt_allowed(request, "signup", request.POST.get("email", ""))
        if wait:
            form.is_valid()
            form.add_error(None, wait_message(wait, "sign-up attempts"))
            return render(request, "web/accounts/signup.html", {"form": form}, status=429)
        if form.is_valid():
            with transaction.atomic():
                user = form.save()
                email_mark_unconfirmed(user=user)
            sent = confirmation_send(user=user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, confirmation_message(user.email, sent))
            return redirect("profile", username=user.username)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/accounts/signup.html", {"form": form}, status=status)


def confirmation_message(email, sent):
    """What a member reads after giving an address: the same whether or not the address
    belongs to another account (that account's owner gets a mail instead)."""
    if not sent:
        return (
            f"We could not send the confirmation mail to {email} just now. Ask for it again "
            "on your settings page in a few minutes."
        )
    return (
        f"We sent a link to {email}: open it to confirm your address. Until you do, we send "
        "nothing else there, not even a password reset."
    )


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "web/accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with a limit on the mails one address or one network can ask for; it mails
    confirmed addresses only, and names the site (not the host) in the mail."""

    form_class = ConfirmedPasswordResetForm

    @property
    def extra_email_context(self):
        return {"site_name": settings.SITE_NAME}

    def form_valid(self, form):
        wait = attempt_allowed(self.request, "reset", form.cleaned_data["email"])
        if wait:
            form.add_error(None, wait_message(wait, "reset requests"))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's; a new password also ends a sign-in lock on the account (no lockout)."""

    def form_valid(self, form):
        throttle_clear(Limit.named("signin-account"), self.user.get_username())
        return super().form_valid(form)


urlpatterns = [
    path("signup/", signup, name="signup"),
    path(
        "login/",
        SignInView.as_view(),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password_reset/",
        PasswordResetView.as_view(
            template_name="web/accounts/password_reset_form.html",
            email_template_name="web/accounts/password_reset_email.txt",
            subject_template_name="web/accounts/password_reset_subject.txt",
            success_url=reverse_lazy("password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="web/accounts/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(
            template_name="web/accounts/password_reset_confirm.html",
            success_url=reverse_lazy("password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="web/accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
