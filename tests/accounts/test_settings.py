"""/settings: change the password in place, change the address by a mailed link."""

import re

from django.test import Client


def link_in(mail):
    return re.search(r"https?://[^/]+(/accounts/confirm/\S+/)", mail.body)[1]


def test_settings_are_for_members(client, db):
    response = client.get("/settings")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_profile_links_to_the_settings(client, alice):
    client.force_login(alice)
    page = client.get("/u/alice").content.decode()
    assert 'href="/settings">Account settings</a>' in page
    assert "password_reset" not in page
    settings_page = client.get("/settings").content.decode()
    assert "alice@example.org" in settings_page and "confirmed" in settings_page
    assert 'href="/settings/tokens"' in settings_page


def test_a_member_changes_their_password_and_stays_signed_in(client, alice, mailoutbox):
    other = Client()
    other.force_login(alice)
    client.force_login(alice)
    wrong = client.post(
        "/settings/password",
        {"old_password": "nope", "new_password1": "new pass 9 x", "new_password2": "new pass 9 x"},
    )
    assert wrong.status_code == 400
    assert "That is not your current password." in wrong.content.decode()
    short = client.post(
        "/settings/password",
        {"old_password": "correct horse 1", "new_password1": "x1", "new_password2": "x1"},
    )
    assert short.status_code == 400 and "too short" in short.content.decode()
    response = client.post(
        "/settings/password",
        {
            "old_password": "correct horse 1",
            "new_password1": "new pass 9 x",
            "new_password2": "new pass 9 x",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/settings"
    assert "Password changed." in response.content.decode()
    assert client.get("/settings").status_code == 200  # this browser: still signed in
    assert other.get("/settings").status_code == 302  # the other: signed out
    alice.refresh_from_db()
    assert alice.check_password("new pass 9 x") and mailoutbox == []


def test_a_member_changes_their_address_by_a_link(client, alice, mailoutbox):
    client.force_login(alice)
    wrong = client.post(
        "/settings/email", {"change-email": "a@new.example", "change-password": "nope"}
    )
    assert wrong.status_code == 400 and mailoutbox == []
    assert 'Nothing was changed: see what is wrong under <a href="#email">' in (
        wrong.content.decode()
    )
    response = client.post(
        "/settings/email",
        {"change-email": "a@new.example", "change-password": "correct horse 1"},
        follow=True,
    )
    assert "We sent a link to a@new.example" in response.content.decode()
    assert sorted(mail.to[0] for mail in mailoutbox) == ["a@new.example", "alice@example.org"]
    notice = next(mail for mail in mailoutbox if mail.to == ["alice@example.org"])
    assert "a@new.example" in notice.body and "/accounts/confirm/" not in notice.body
    confirm = next(mail for mail in mailoutbox if mail.to == ["a@new.example"])
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"  # not before the link is opened
    link = link_in(confirm)
    client.logout()  # the link works from any browser
    assert "Use a@new.example as the address of the account alice?" in (
        client.get(link).content.decode()
    )
    assert "now uses a@new.example" in client.post(link).content.decode()
    alice.refresh_from_db()
    assert alice.email == "a@new.example"
    client.post("/accounts/password_reset/", {"email": "a@new.example"})
    assert mailoutbox[-1].to == ["a@new.example"] and "/accounts/reset/" in mailoutbox[-1].body


def test_an_address_of_another_account_is_not_taken_nor_revealed(client, alice, bob, mailoutbox):
    client.force_login(bob)
    response = client.post(
        "/settings/email",
        {"change-email": "ALICE@example.org", "change-password": "battery staple 2"},
        follow=True,
    )
    assert "We sent a link to ALICE@example.org" in response.content.decode()
    to_alice = [mail for mail in mailoutbox if mail.to == ["alice@example.org"]]
    assert len(to_alice) == 1 and "/accounts/confirm/" not in to_alice[0].body
    assert "already belongs to your account" in to_alice[0].body
    bob.refresh_from_db()
    assert bob.email == "bob@example.org"


def test_an_unconfirmed_address_is_not_mailed_a_change_notice(client, db, mailoutbox):
    client.post(
        "/accounts/signup/",
        {
            "username": "dan",
            "email": "dan@example.org",
            "password1": "a long pass phrase 7",
            "password2": "a long pass phrase 7",
        },
    )
    assert len(mailoutbox) == 1
    resend = client.post("/settings/email/confirm", follow=True)
    assert "We sent a link to dan@example.org" in resend.content.decode()
    assert len(mailoutbox) == 2
    client.post(
        "/settings/email",
        {"change-email": "dan@else.example", "change-password": "a long pass phrase 7"},
    )
    assert [mail.to for mail in mailoutbox[2:]] == [["dan@else.example"]]
    assert "now uses dan@else.example" in client.post(link_in(mailoutbox[2])).content.decode()
    page = client.get("/settings").content.decode()
    assert "dan@else.example" in page and "not confirmed" not in page
    # an older link, for the address the account no longer has, changes nothing
    stale = client.post(link_in(mailoutbox[1]))
    assert stale.status_code == 400 and "no longer has" in stale.content.decode()


def test_the_settings_page_has_no_dangling_descriptions(client, alice):
    client.force_login(alice)
    response = client.get("/settings")
    assert response.status_code == 200
    page = response.content.decode()
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for value in re.findall(r'aria-describedby="([^"]+)"', page):
        assert set(value.split()) <= set(ids)


def test_wrong_passwords_on_the_settings_page_count_like_wrong_sign_ins(client, alice, settings):
    settings.THROTTLES = {**settings.THROTTLES, "signin-account": (2, 900)}
    client.force_login(alice)
    for _ in range(2):
        assert client.post("/settings/delete", {"delete-password": "guess"}).status_code == 400
    refused = client.post("/settings/delete", {"delete-password": "correct horse 1"})
    assert refused.status_code == 429 and "Too many wrong passwords" in refused.content.decode()
    assert type(alice).objects.filter(pk=alice.pk).exists()
