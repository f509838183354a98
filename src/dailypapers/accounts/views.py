"""/settings: a member's account (password, email address, deletion) and, on
/settings/tokens, their personal API tokens; /accounts/confirm/<token>: the link that
confirms an address."""

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dailypapers.web.accounts import confirmation_message

from . import services
from .forms import AccountDeleteForm, EmailChangeForm, PasswordChangeInPlaceForm
from .models import ApiToken
from .services import TokenError, token_create, token_revoke


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    secret = None
    if request.method == "POST":
        try:
            token, secret = token_create(
                user=request.user,
                name=request.POST.get("name", ""),
                scopes=request.POST.getlist("scopes"),
            )
        except TokenError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"Token “{token.name}” created. Copy it now: it is shown once."
            )
    context = {
        "secret": secret,
        "tokens": request.user.api_tokens.all(),
        "scopes": ApiToken.Scope.choices,
    }
    failed = request.method == "POST" and secret is None
    return render(request, "accounts/tokens.html", context, status=400 if failed else 200)


@login_required
@require_POST
def token_revoke_view(request, token_id):
    if token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "Token revoked: programs using it can no longer sign in.")
    else:
        messages.error(request, "No such active token.")
    return redirect("accounts:tokens")


def _settings_page(request, *, failed="", **forms):
    """The page; `failed` names the section whose form was refused (its errors are shown
    there, and a line at the top points to it)."""
    user = request.user
    context = {
        "failed_section": failed,
        "email_confirmed": services.email_is_confirmed(user),
        "password_form": forms.get("password_form") or PasswordChangeInPlaceForm(user),
        "email_form": forms.get("email_form") or EmailChangeForm(user),
        "delete_form": forms.get("delete_form") or AccountDeleteForm(user),
        "token_count": user.api_tokens.filter(revoked_at=None).count(),
    }
    status = 200
    if failed:
        status = 429 if context[f"{failed}_form"].throttled else 400
    return render(request, "web/accounts/settings.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def account_settings(request):
    return _settings_page(request)


@login_required
@require_POST
def password_change(request):
    form = PasswordChangeInPlaceForm(request.user, request.POST)
    if not form.is_valid():
        return _settings_page(request, password_form=form, failed="password")
    form.save()
    update_session_auth_hash(request, form.user)  # this browser stays signed in; others not
    messages.success(request, "Password changed. Other browsers signed in as you are signed out.")
    return redirect("accounts:settings")


@login_required
@require_POST
def email_change(request):
    form = EmailChangeForm(request.user, request.POST)
    if not form.is_valid():
        return _settings_page(request, email_form=form, failed="email")
    email = form.cleaned_data["email"]
    try:
        sent = services.email_change_request(user=request.user, email=email)
    except services.AccountError as error:
        form.add_error("email", str(error))
        return _settings_page(request, email_form=form, failed="email")
    if sent:
        messages.success(
            request,
            f"We sent a link to {email}. Your address changes when you open it; until then "
            f"it stays {request.user.email}.",
        )
    else:
        messages.error(request, f"We could not send a mail to {email} just now; try again later.")
    return redirect("accounts:settings")


@login_required
@require_POST
def confirmation_resend(request):
    try:
        sent = services.confirmation_send(user=request.user)
    except services.AccountError as error:
        messages.info(request, str(error))
    else:
        (messages.success if sent else messages.error)(
            request, confirmation_message(request.user.email, sent)
        )
    return redirect("accounts:settings")


@login_required
@require_POST
def account_delete(request):
    form = AccountDeleteForm(request.user, request.POST)
    if not form.is_valid():
        return _settings_page(request, delete_form=form, failed="delete")
    user, name = request.user, request.user.get_username()
    logout(request)
    services.account_delete(user=user)
    messages.success(request, f"The account {name} is deleted. Thank you for taking part.")
    return redirect("home")


@require_http_methods(["GET", "POST"])
def email_confirm(request, token):
    """GET shows what the link does and a button (mail scanners open links); POST does it."""
    try:
        user, email, old = services.confirmation_read(token)
    except services.AccountError as error:
        return render(request, "web/accounts/confirm.html", {"error": str(error)}, status=400)
    context = {"member": user, "email": email, "change": old is not None}
    if request.method == "POST":
        try:
            services.email_confirm(token=token)
        except services.AccountError as error:
            context["error"] = str(error)
            return render(request, "web/accounts/confirm.html", context, status=400)
        context["done"] = True
    return render(request, "web/accounts/confirm.html", context)
