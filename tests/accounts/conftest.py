import pytest

from tests.web.conftest import feature  # noqa: F401 (a paper on a daily page)


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.org", "stapler 3 x")


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("op", "op@example.org", "operate 5 x")
