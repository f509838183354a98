"""The member's notifications page; opening one marks it read."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .models import Notification
from .selectors import notifications_for
from .services import notifications_mark_read


@login_required
def notification_list(request):
    context = {"notifications": notifications_for(user=request.user)}
    return render(request, "notifications/list.html", context)


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
