"""The member's notifications page; opening one marks it read. Whether replies and
mentions are mailed (from the page, or the signed link in each such mail)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .models import Notification
from .selectors import notifications_for
from .services import notifications_mark_read


@login_required
def notification_list(request):
    context = {
        "notifications": notifications_for(user=request.user),
        "digest_mails": bool(services.digest_reaches([request.user.pk])),
        "mail_enabled": services.mail_enabled(request.user),
    }
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def notification_mail(request):
    enabled = request.POST.get("enabled") == "1"
    services.mail_preference_set(user=request.user, enabled=enabled)
    if enabled:
        messages.success(request, "Replies and mentions will be mailed to you.")
    else:
        messages.success(request, "Replies and mentions will no longer be mailed to you.")
    return redirect("notifications")


@csrf_exempt  # RFC 8058 one-click unsubscribe: the mail client POSTs without a token
@require_http_methods(["GET", "POST"])
def notification_mail_off(request, token):
    """The "stop these mails" link: GET shows a button (link scanners change nothing),
    POST turns the mails off."""
    user = services.mail_off_user(token)
    if user is None:
        raise Http404("This link is not valid.")
    done = request.method == "POST"
    if done:
        services.mail_preference_set(user=user, enabled=False)
    return render(request, "notifications/mail_off.html", {"done": done, "token": token})


@login_required
def notification_open(request, pk):
    notification = get_object_or_404(
        Notification.objects.select_related("paper"), pk=pk, user=request.user
    )
    notifications_mark_read(user=request.user, ids=[notification.pk])
    return redirect(notification.get_absolute_url())


@login_required
@require_POST
def notification_read_all(request):
    notifications_mark_read(user=request.user)
    return redirect("notifications")
