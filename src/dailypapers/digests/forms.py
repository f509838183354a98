from django import forms
from django.core.exceptions import ValidationError

from . import services
from .models import Follow, Subscription, weekly_schedule

FOLLOW_HELP = "One per line."


def frequency_choices(*, off=True):
    labels = {Subscription.Frequency.WEEKLY: f"Weekly ({weekly_schedule()})"}
    return [
        (value, labels.get(value, label))
        for value, label in Subscription.Frequency.choices
        if off or value != Subscription.Frequency.OFF
    ]


class FollowsMixin:
    def clean(self):
        data = super().clean()
        try:
            data["follows"] = services.follows_parse(
                topics=data.get("topics", ""),
                authors=data.get("authors", ""),
                categories=data.get("categories", ""),
                organizations=data.get("organizations", ""),
            )
        except ValidationError as error:
            self.add_error(None, error)
        return data


def _follow_fields():
    textarea = forms.Textarea(attrs={"rows": 3})
    return {
        "topics": forms.CharField(
            required=False,
            max_length=4000,
            widget=textarea,
            help_text=(
                "Saved searches, one per line, e.g. diffusion language models. A paper "
                "matches when its title or a sentence of its abstract holds every word (an "
                "acronym counts: MoE for mixture of experts); put words in quotes to want "
                'them side by side: "world model".'
            ),
        ),
        "authors": forms.CharField(
            required=False, max_length=4000, widget=textarea, help_text="Full names, one per line."
        ),
        "categories": forms.CharField(
            required=False, max_length=1000, help_text="arXiv categories, e.g. cs.CL, cs.LG."
        ),
        "organizations": forms.CharField(
            label="Organisations",
            required=False,
            max_length=4000,
            widget=textarea,
            help_text="Names as on their pages (/orgs/...), one per line.",
        ),
    }


class SubscribeForm(FollowsMixin, forms.Form):
    email = forms.CharField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    frequency = forms.ChoiceField(
        choices=lambda: frequency_choices(off=False),
        initial=Subscription.Frequency.DAILY,
        widget=forms.RadioSelect,
    )
    locals().update(_follow_fields())

    def clean_email(self):
        return services.email_normalize(self.cleaned_data["email"])


class PreferencesForm(FollowsMixin, forms.Form):
    frequency = forms.ChoiceField(choices=frequency_choices, widget=forms.RadioSelect)
    include_trending = forms.BooleanField(
        required=False, label="Start with the top trending papers"
    )
    locals().update(_follow_fields())

    @classmethod
    def for_subscription(cls, subscription, data=None):
        follows = {kind: [] for kind in Follow.Kind.values}
        for follow in subscription.follows.all():
            follows[follow.kind].append(follow.value)
        initial = {
            "frequency": subscription.frequency,
            "include_trending": subscription.include_trending,
            "topics": "\n".join(follows["topic"]),
            "authors": "\n".join(follows["author"]),
            "categories": ", ".join(follows["category"]),
            "organizations": "\n".join(follows["org"]),
        }
        return cls(data=data, initial=initial)
