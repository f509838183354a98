import datetime as dt
import re

import time_machine
from django.contrib.auth import get_user_model


def signup(client, **fields):
    data = {
        "username": "carol",
        "email": "carol@example.org",
        "password1": "a long pass phrase 7",
        "password2": "a long pass phrase 7",
        **fields,
    }
    return client.post("/accounts/signup/", data)


def confirmation_link(message):
    return re.search(r"https?://[^/]+(/accounts/confirm/\S+/)", message.body)[1]


def test_it_signs_up_and_signs_in_the_new_member(client, db, mailoutbox):
    response = signup(client)
    assert response.status_code == 302 and response["Location"] == "/u/carol"
    page = client.get("/u/carol").content.decode()
    assert "Sign out" in page and 'href="/settings/tokens"' in page
    assert 'href="/subscribe"' in page and 'href="/settings"' in page
    assert "We sent a link to carol@example.org" in page
    assert get_user_model().objects.get(username="carol").email == "carol@example.org"
    assert [mail.to for mail in mailoutbox] == [["carol@example.org"]]


def test_a_new_address_is_confirmed_by_the_link_mailed_at_sign_up(client, db, mailoutbox):
    signup(client)
    mail = mailoutbox[0]
    assert mail.subject == "Confirm your email address on dailypapers"
    link = confirmation_link(mail)
    assert "not confirmed" in client.get("/settings").content.decode()
    # Until then, no password reset goes there (only the confirmation itself).
    client.logout()
    response = client.post("/accounts/password_reset/", {"email": "carol@example.org"})
    assert response.status_code == 302 and len(mailoutbox) == 1
    done = client.get(response["Location"]).content.decode()
    assert "confirm it first" in done
    # The link asks before it confirms (mail scanners open links).
    page = client.get(link).content.decode()
    assert "Confirm carol@example.org as the address of the account carol?" in page
    assert get_user_model().objects.get(username="carol").unconfirmed_email
    confirmed = client.post(link).content.decode()
    assert "Address confirmed" in confirmed
    assert not hasattr(get_user_model().objects.get(username="carol"), "unconfirmed_email")
    assert "Address confirmed" in client.post(link).content.decode()  # twice: no harm
    client.post("/accounts/password_reset/", {"email": "carol@example.org"})
    assert len(mailoutbox) == 2 and "/accounts/reset/" in mailoutbox[1].body


def test_a_broken_or_old_confirmation_link_says_so(client, db, mailoutbox):
    signup(client)
    link = confirmation_link(mailoutbox[0])
    broken = client.get(link[:-6] + "xxxxx/")
    assert broken.status_code == 400 and "This link does not work" in broken.content.decode()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=4)):
        old = client.post(link)
    assert old.status_code == 400 and "older than 3 days" in old.content.decode()
    assert get_user_model().objects.get(username="carol").unconfirmed_email


def test_sign_up_does_not_tell_whether_an_address_has_an_account(client, alice, mailoutbox):
    response = signup(client, email="ALICE@example.org")
    assert response.status_code == 302 and response["Location"] == "/u/carol"
    page = client.get("/u/carol").content.decode()
    assert "We sent a link to ALICE@example.org" in page
    # alice is told, with a way back into her account; the new account gets no link
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["alice@example.org"]
    assert "already belongs to your account" in mailoutbox[0].body
    assert "/accounts/password_reset/" in mailoutbox[0].body
    assert "/accounts/confirm/" not in mailoutbox[0].body
    # the address stays alice's: reset links go to her account only
    client.logout()
    client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    assert len(mailoutbox) == 2 and "Hello alice" in mailoutbox[1].body


def test_a_confirmed_address_wins_over_an_unconfirmed_claim(client, db, mailoutbox):
    """Someone signs up with an address that is not theirs: its owner can still sign up
    with it, confirm it, and get password resets."""
    signup(client, username="squatter")
    client.logout()
    signup(client, username="owner")
    link = confirmation_link(mailoutbox[1])
    assert "Address confirmed" in client.post(link).content.decode()
    client.logout()
    client.post("/accounts/password_reset/", {"email": "carol@example.org"})
    assert len(mailoutbox) == 3 and "Hello owner" in mailoutbox[2].body
    stale = client.post(confirmation_link(mailoutbox[0]))  # the squatter's link, too late
    assert stale.status_code == 400 and "belongs to another account" in stale.content.decode()


def test_it_explains_what_is_wrong_with_a_sign_up(client, alice):
    cases = [
        ({"username": "alice"}, "already exists"),
        ({"email": "not-an-email"}, "valid email"),
        ({"password2": "something else 9"}, "didn’t match"),
        ({"password1": "123", "password2": "123"}, "too short"),
        ({"username": "bad name!"}, "Enter a valid username"),
        ({"username": "x" * 200}, "at most 150 characters"),
    ]
    for fields, message in cases:
        response = signup(client, **fields)
        assert response.status_code == 400, fields
        assert message in response.content.decode(), fields
    assert get_user_model().objects.count() == 1


def test_a_fields_error_is_the_description_its_input_names(client, alice):
    """Django points a field with an error at "<id>_error" (aria-describedby); the error is
    there, so a screen reader on the field reads it."""
    page = signup(client, email="not-an-email").content.decode()
    field = re.search(r'<input type="email"[^>]*>', page)[0]
    assert 'aria-invalid="true"' in field
    assert "id_email_error" in re.search(r'aria-describedby="([^"]*)"', field)[1].split()
    assert re.search(r'<div class="error" role="alert" id="id_email_error"><p>Enter a valid', page)


def test_it_signs_in_and_out(client, alice):
    page = client.get("/accounts/login/?next=/about").content.decode()
    assert 'name="next" value="/about"' in page
    wrong = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200 and "correct username and password" in wrong.content.decode()
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "correct horse 1", "next": "/about"}
    )
    assert response["Location"] == "/about"
    assert client.post("/accounts/logout/").status_code == 302
    assert "Sign in" in client.get("/about").content.decode()


def test_it_resets_a_password_by_email(client, alice, mailoutbox, settings):
    settings.SITE_NAME = "Lab papers"
    response = client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["alice@example.org"]
    assert mailoutbox[0].subject == "Reset your password on Lab papers"
    assert "your Lab papers account" in mailoutbox[0].body
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mailoutbox[0].body)[1]
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another pass phrase 8", "new_password2": "another pass phrase 8"},
    )
    assert done["Location"] == "/accounts/reset/done/"
    assert client.login(username="alice", password="another pass phrase 8")
    # the link works once
    assert "does not work" in client.get(link, follow=True).content.decode()


def test_it_sends_no_mail_to_unknown_addresses(client, db, mailoutbox):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and mailoutbox == []


def test_it_shows_a_members_upvotes_and_submissions(client, alice, bob, make_paper, feature):
    from dailypapers.papers.services import vote_cast

    liked, submitted = make_paper(title="Liked one"), make_paper(title="Submitted one")
    vote_cast(user=alice, paper=liked)
    feature(submitted, user=alice)
    client.force_login(bob)
    page = client.get("/u/alice").content.decode()
    assert "Liked one" in page and "Submitted one" in page
    assert "/settings/tokens" not in page  # only on your own profile


def test_every_described_by_points_at_an_element(client, db):
    for url in ("/accounts/signup/", "/accounts/login/", "/accounts/password_reset/"):
        page = client.get(url).content.decode()
        ids = set(re.findall(r'\bid="([^"]+)"', page))
        described = re.findall(r'aria-describedby="([^"]+)"', page)
        for value in described:
            assert set(value.split()) <= ids, (url, value)
    signup_page = client.get("/accounts/signup/").content.decode()
    assert 'aria-describedby="id_password1_helptext"' in signup_page
