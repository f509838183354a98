from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from dailypapers.community.models import MAX_COMMENT_LENGTH


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        max_length=254, help_text="Used only to reset your password and, if you ask, for digests."
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address exists already.")
        return email


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
