import pytest

from tests.web.conftest import feature  # noqa: F401 (a paper on a daily page)


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.org", "stapler 3 x")


@pytest.fixture
def moderator(django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(
        "mod", "mod@example.org", "moderate 4 u", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    return django_user_model.objects.get(pk=user.pk)  # a fresh copy: no cached permissions


@pytest.fixture
def paper(make_paper):
    return make_paper()
