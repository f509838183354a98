"""A moderator promotes a suggestion from the Suggested tab, in a real browser."""

from django.contrib.auth.models import Permission
from django.test import Client

from dailypapers.curation import services
from tests.curation.conftest import make_history
from tests.e2e.test_browser import pytestmark  # noqa: F401  (e2e, and chromium or skip)


def test_a_moderator_features_a_suggestion(live_server, browser, settings, tmp_path,
                                           django_user_model):  # fmt: skip
    settings.DATA_DIR = tmp_path
    days = make_history()
    services.train(days[12])
    day = days[-1]
    mona = django_user_model.objects.create_user("mona", password="x-secret-9")
    mona.user_permissions.add(Permission.objects.get(codename="add_dailyentry"))
    signed_in = Client()
    signed_in.force_login(mona)
    page = browser.new_context(base_url=live_server.url)
    page.add_cookies([{"name": "sessionid", "value": signed_in.cookies["sessionid"].value,
                       "url": live_server.url}])  # fmt: skip
    tab = page.new_page()
    tab.set_default_timeout(15_000)

    tab.goto(f"/papers/suggested?date={day}")
    rows = tab.locator("ol.suggested li.paper")
    assert rows.count() == 30
    assert rows.first.locator(".reason").inner_text().startswith("Why: authors with")
    unfeatured = rows.filter(has=tab.locator("button", has_text="Feature on"))
    title = unfeatured.first.locator("h2").inner_text()
    unfeatured.first.locator("button", has_text="Feature on").click()

    assert "is on the page of" in tab.locator(".messages").inner_text()
    tab.goto(f"/papers/date/{day}")
    assert title in tab.locator("ol.papers").inner_text()
    page.close()
