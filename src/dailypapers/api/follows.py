"""A member's followed topics, authors and categories, and their email digest (scope:
subscriptions). Thin over dailypapers.digests.services; every follow links its own feed."""

from typing import Annotated, Literal
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from ninja import Query, Router, Schema
from pydantic import Field

from dailypapers.digests import selectors, services
from dailypapers.digests.models import Subscription

from .http import json_response
from .schemas import ErrorOut
from .security import TokenAuth, require_scope

router = Router(tags=["subscriptions"], auth=TokenAuth())

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut}
Kind = Literal["topic", "author", "category"]


class FollowIn(Schema):
    kind: Kind
    value: str = Field(min_length=1, max_length=200)


class FollowOut(FollowIn):
    feed: str = Field(description="its Atom feed (.rss for RSS 2.0)")


class SubscriptionIn(Schema):
    email: str | None = Field(None, max_length=254, description="a new address is confirmed")
    frequency: Literal["daily", "weekly", "off"]
    include_trending: bool = True


class SubscriptionOut(Schema):
    email: str
    frequency: str
    status: str
    include_trending: bool
    follows: list[FollowOut]


def feed_url(kind, value):
    return f"{settings.SITE_URL}/feeds/{kind}/{quote(value, safe='')}.atom"


def _follows(user):
    return [
        {"kind": f.kind, "value": f.value, "feed": feed_url(f.kind, f.value)}
        for f in selectors.follows_for_user(user)
    ]


@router.get("/follows", response={200: list[FollowOut], **ERRORS})
def follows(request):
    """What the member follows, each with its feed."""
    require_scope(request, "subscriptions")
    return json_response(_follows(request.auth.user))


@router.post("/follows", response={201: FollowOut, **ERRORS})
def follow(request, body: FollowIn):
    """Follow a topic (a saved search), an author or an arXiv category."""
    require_scope(request, "subscriptions")
    made = services.follow_add(user=request.auth.user, kind=body.kind, value=body.value)
    data = {"kind": made.kind, "value": made.value, "feed": feed_url(made.kind, made.value)}
    return json_response(data, status=201)


@router.delete("/follows", response={200: list[FollowOut], **ERRORS})
def unfollow(request, kind: Kind, value: Annotated[str, Query(min_length=1, max_length=200)]):
    """Stop following; answers what is still followed."""
    require_scope(request, "subscriptions")
    services.follow_remove(user=request.auth.user, kind=kind, value=value)
    return json_response(_follows(request.auth.user))


def _subscription(user):
    subscription = selectors.subscription_for_user(user)
    if subscription is None:
        return {
            "email": "",
            "frequency": Subscription.Frequency.OFF,
            "status": "none",
            "include_trending": True,
            "follows": [],
        }
    return {
        "email": subscription.email,
        "frequency": subscription.frequency,
        "status": subscription.status,
        "include_trending": subscription.include_trending,
        "follows": _follows(user),
    }


@router.get("/subscription", response={200: SubscriptionOut, **ERRORS})
def subscription(request):
    """The member's email digest settings and follows."""
    require_scope(request, "subscriptions")
    return json_response(_subscription(request.auth.user))


@router.put("/subscription", response={200: SubscriptionOut, **ERRORS})
def subscription_set(request, body: SubscriptionIn):
    """Digest frequency ("off" stops email); a new email address gets a confirmation link."""
    require_scope(request, "subscriptions")
    user = request.auth.user
    current = selectors.subscription_for_user(user)
    if body.email and (current is None or body.email.strip().lower() != current.email):
        if body.frequency == "off":
            raise ValidationError("Choose daily or weekly to get digests by email.")
        services.subscription_request(email=body.email, frequency=body.frequency, user=user)
        current = selectors.subscription_for_user(user)
    if current is None:
        raise ValidationError("Give an email address for the digests.")
    follows = [(f.kind, f.value) for f in selectors.follows_for_user(user)]
    services.subscription_update(
        subscription=current,
        frequency=body.frequency,
        include_trending=body.include_trending,
        follows=follows,
    )
    return json_response(_subscription(user))
