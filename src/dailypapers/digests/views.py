"""Subscribe, confirm, manage, unsubscribe: thin views over services.py."""

import math

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from dailypapers.accounts.throttle import attempt_allowed, wait_message

from . import services
from .forms import PreferencesForm, SubscribeForm
from .models import Subscription
from .selectors import subscription_for_user


def _bad_link(request, message="This link is not valid (it may be incomplete or outdated)."):
    return render(
        request, "digests/message.html", {"title": "Link not valid", "text": message}, status=404
    )


@require_http_methods(["GET", "POST"])
def subscribe(request):
    user = request.user if request.user.is_authenticated else None
    mine = subscription_for_user(user)
    if request.method == "POST":
        form = SubscribeForm(request.POST)
        wait = attempt_allowed(request, "subscribe", request.POST.get("email", ""))
        if wait:
            form.is_valid()
            form.add_error(None, wait_message(wait, "subscription requests"))
            context = {"form": form, "subscription": mine}
            return render(request, "digests/subscribe.html", context, status=429)
        if form.is_valid():
            data = form.cleaned_data
            requested = services.subscription_request(
                email=data["email"], frequency=data["frequency"], follows=data["follows"], user=user
            )
            if requested.subscribed:  # the member's own confirmed address: nothing to hide
                return render(
                    request,
                    "digests/message.html",
                    {
                        "title": "Subscribed",
                        "text": f"{data['email']} will get the {data['frequency']} digest: "
                        "no confirmation needed, this address is confirmed already.",
                    },
                )
            if (
                user is not None
                and not requested.mailed
                and not requested.wait
                and mine is not None
                and mine.email == data["email"]
            ):
                return render(
                    request,
                    "digests/message.html",
                    {"title": "Saved", "text": "Your digest settings are saved."},
                )
            # The same answer whatever we know about the address (no enumeration).
            if requested.wait:
                minutes = max(1, math.ceil(requested.wait / 60))
                unit = "minute" if minutes == 1 else "minutes"
                return render(
                    request,
                    "digests/message.html",
                    {
                        "title": "Link already sent",
                        "text": f"If {data['email']} can receive digests, a message with a link "
                        "was sent there a few minutes ago, and that link still works. No other "
                        f"message was sent now: to get a new one, ask again in {minutes} {unit}.",
                    },
                )
            return render(
                request,
                "digests/message.html",
                {
                    "title": "Check your inbox",
                    "text": f"If {data['email']} can receive digests, a message with a link is "
                    "on its way. Nothing is sent until you confirm.",
                },
            )
    else:
        initial = {"email": getattr(user, "email", "")}
        if mine is not None:
            initial["email"] = mine.email or initial["email"]
            prefs = PreferencesForm.for_subscription(mine)
            follows = ("topics", "authors", "categories", "organizations")
            initial.update({key: prefs.initial[key] for key in follows})
            if mine.frequency != Subscription.Frequency.OFF:
                initial["frequency"] = mine.frequency
        form = SubscribeForm(initial=initial)
    return render(request, "digests/subscribe.html", {"form": form, "subscription": mine})


@require_http_methods(["GET", "POST"])
def confirm(request, token):
    # GET only shows a button: mail scanners that open links must not confirm for people.
    if request.method == "GET":
        return render(request, "digests/confirm.html", {"token": token})
    subscription = services.subscription_confirm(token=token)
    if subscription is None:
        return _bad_link(
            request,
            "This confirmation link is not valid or has expired. Subscribe again to get a new one.",
        )
    return render(
        request,
        "digests/message.html",
        {
            "title": "Subscribed",
            "text": f"Confirmed: {subscription.email} will get the "
            f"{subscription.frequency} digest.",
            "manage_url": services.manage_url(subscription),
        },
    )


@require_http_methods(["GET", "POST"])
def manage(request, token):
    subscription = services.subscription_from_manage_token(token)
    if subscription is None:
        return _bad_link(request)
    form = PreferencesForm.for_subscription(subscription, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.subscription_update(
            subscription=subscription,
            frequency=data["frequency"],
            include_trending=data["include_trending"],
            follows=data["follows"],
        )
        return redirect(request.path + "?saved=1")
    return render(
        request,
        "digests/manage.html",
        {
            "form": form,
            "subscription": subscription,
            "saved": "saved" in request.GET,
            "unsubscribe_url": reverse("digests:unsubscribe", args=[token]),
        },
    )


@csrf_exempt  # RFC 8058: mail providers POST here without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    subscription = services.subscription_from_manage_token(token)
    if subscription is None:
        return _bad_link(request)
    if request.method == "GET":  # link scanners GET: show a button, change nothing
        return render(request, "digests/unsubscribe.html", {"subscription": subscription})
    services.subscription_unsubscribe(subscription=subscription)
    return render(
        request,
        "digests/message.html",
        {
            "title": "Unsubscribed",
            "text": f"{subscription.email} will get no more digests.",
            "manage_url": services.manage_url(subscription),
        },
    )
