from django import forms


class PaperLinksForm(forms.Form):
    github_repo = forms.CharField(
        label="GitHub repository",
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://github.com/owner/repo"}),
    )
    project_page = forms.CharField(
        label="Project page",
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
    )
    organization = forms.CharField(
        label="Organisation",
        required=False,
        max_length=300,
        help_text="Its short handle or full name; a new organisation is made if none matches.",
    )


class CollectionForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_public = forms.BooleanField(
        label="Public: anyone with the address can read it, and it shows on your profile",
        required=False,
    )
