"""/settings/tokens: members create and revoke their personal API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

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
