import pytest
from django.contrib.auth.models import Permission

from dailypapers.people.services import paper_link_authors
from tests.web.conftest import feature  # noqa: F401


@pytest.fixture
def linked_paper(make_paper):
    """make_paper with its Author and PaperAuthor rows, as ingest writes them."""

    def make(**fields):
        paper = make_paper(**fields)
        paper_link_authors(paper)
        return paper

    return make


@pytest.fixture
def moderator(django_user_model):
    """A staff member who may merge authors and verify claims, and nothing else."""
    user = django_user_model.objects.create_user("mod", "mod@example.org", "moderate 3")
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="people", codename__in=["merge_authors", "verify_claims"]
        )
    )
    return django_user_model.objects.get(pk=user.pk)  # fresh permission cache
