"""The daily page from the keyboard, in a real browser: skip link, upvote by Enter, and
what a screen reader is told about the upvote button."""

import pytest

from tests.e2e.test_browser import pytestmark  # noqa: F401 (chromium or skip)

pytestmark = [*pytestmark, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def papers(on_todays_page):
    return [
        on_todays_page(title="Scaling sparse attention", imported_upvotes=5),
        on_todays_page(title="A smaller result", imported_upvotes=1),
    ]


def signed_in_page(browser, live_server, django_user_model):
    django_user_model.objects.create_user("kim", "kim@example.org", "a fine pass phrase 5")
    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "kim")
    page.fill("#id_password", "a fine pass phrase 5")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    return page


def test_it_keeps_the_focus_on_the_upvote_button_pressed_with_enter(
    live_server, browser, papers, django_user_model
):
    page = signed_in_page(browser, live_server, django_user_model)
    button = page.locator(f"#vote-{papers[0].pk} button")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#vote-{papers[0].pk} button.on")

    focused = page.evaluate("document.activeElement.id")
    assert focused == f"upvote-{papers[0].pk}"
    assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"
    page.keyboard.press("Enter")  # and Enter again takes the upvote back
    page.wait_for_selector(f"#vote-{papers[0].pk} button:not(.on)")
    assert page.evaluate("document.activeElement.id") == f"upvote-{papers[0].pk}"
    page.close()


def test_it_names_the_upvote_button_with_its_count(live_server, browser, papers, django_user_model):
    reader = browser.new_page()
    reader.goto(live_server.url + "/")
    assert reader.get_by_role("link", name="Sign in to upvote, 5 upvotes").count() == 1
    assert reader.get_by_role("link", name="Sign in to upvote, 1 upvote").count() == 1
    reader.close()

    page = signed_in_page(browser, live_server, django_user_model)
    button = page.get_by_role("button", name="Upvote, 5 upvotes")
    assert button.get_attribute("aria-pressed") == "false"
    assert button.inner_text().replace("\n", "") == "▲5"  # it looks the same
    button.click()
    voted = page.get_by_role("button", name="Upvote, 6 upvotes", pressed=True)
    voted.wait_for()
    page.close()


def test_it_skips_to_the_content_with_the_first_tab(live_server, browser, papers):
    page = browser.new_page()
    page.goto(live_server.url + "/")
    skip = page.get_by_role("link", name="Skip to content")
    assert not skip.is_visible() or skip.bounding_box()["y"] < 0  # out of sight until focused
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert skip.bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    for _ in range(6):  # the first paper is a few Tabs away, not the whole header's
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('li.paper')"):
            break
    else:
        pytest.fail("the first paper is not within 6 Tabs of the skip link")
    page.close()
