from django.contrib import admin, messages
from django.core.mail import mailers

from dailypapers.papers.selectors import latest_day_with_papers
from dailypapers.plural import counted

from . import services
from .content import PeriodContent, daily_period
from .emails import DigestComposer, site_domain
from .models import Delivery, Follow, SentPaper, Subscription


class FollowInline(admin.TabularInline):
    model = Follow
    extra = 0


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["email", "user", "frequency", "status", "bounce_count", "confirmed_at"]
    list_filter = ["status", "frequency"]
    search_fields = ["email", "user__username"]
    readonly_fields = [
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "notified_at",
        "last_bounce_at",
    ]
    inlines = [FollowInline]
    actions = ["send_test_digest"]

    @admin.action(description="Send a test digest of these subscriptions to me")
    def send_test_digest(self, request, queryset):
        """The digest each selected subscriber would get for the latest day with papers,
        sent to the admin's own address; nothing is recorded, nothing is marked sent."""
        if not request.user.email:
            self.message_user(request, "Your account has no email address.", messages.ERROR)
            return
        day = latest_day_with_papers()
        if day is None:
            self.message_user(request, "There are no papers yet.", messages.WARNING)
            return
        period = daily_period(day)
        content = PeriodContent(period)
        composer = DigestComposer(period_label=f"[test] {period.label}", kind="daily")
        sent = 0
        with mailers.default as connection:
            for subscription in queryset.prefetch_related("follows")[:20]:
                sections = content.sections_for(subscription, subscription.follows.all(), set())
                if not sections or not subscription.email:
                    continue
                composed = composer.compose(
                    to=request.user.email,
                    sections=sections,
                    message_id=f"<test.{period.key}.{subscription.pk}.{sent}@{site_domain()}>",
                    unsubscribe_url=services.unsubscribe_url(subscription),
                    manage_url=services.manage_url(subscription),
                )
                connection.send_messages([composed.as_django_message()])
                sent += 1
        self.message_user(
            request, f"Sent {counted(sent, 'test digest')} of {day} to {request.user.email}."
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["period", "subscription", "status", "attempts", "sent_at", "short_error"]
    list_filter = ["status", "period"]
    search_fields = ["subscription__email", "message_id"]
    raw_id_fields = ["subscription"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    @admin.display(description="error")
    def short_error(self, delivery):
        return delivery.error[:80]


@admin.register(SentPaper)
class SentPaperAdmin(admin.ModelAdmin):
    list_display = ["subscription", "paper", "delivery"]
    raw_id_fields = ["subscription", "paper", "delivery"]
