from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from dailypapers.community.models import MAX_COMMENT_LENGTH


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        max_length=254,
        help_text="We mail it a link to confirm it. Used only to reset your password and, "
        "if you ask, for digests.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        # No "this address is taken" here: that would tell anyone which addresses have an
        # account. An address another account confirmed stays that account's; its owner is
        # told by mail (accounts/services.py, docs/security.md).
        return get_user_model().objects.normalize_email(self.cleaned_data["email"].strip())


class SubmitForm(forms.Form):
    arxiv_id = forms.CharField(
        label="arXiv id or link",
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "2411.01234 or https://arxiv.org/abs/…"}),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
