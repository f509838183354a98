from dailypapers.digests.models import Follow
from dailypapers.digests.selectors import follows_for_user
from dailypapers.papers.models import Author, Organization
from dailypapers.people.services import authors_merge
from dailypapers.search import recommend_for


def follow(client, kind, value, action="follow"):
    return client.post("/follow", {"kind": kind, "value": value, "action": action})


def test_members_follow_authors_and_organisations_from_their_pages(client, alice, linked_paper):
    org = Organization.objects.create(name="inclusionAI", fullname="inclusion AI")
    linked_paper(authors=[{"name": "Ada Lovelace"}], organization=org)
    ada = Author.objects.get(name="Ada Lovelace")
    author_url = f"/authors/{ada.pk}-ada-lovelace"
    assert "Sign in to follow" in client.get(author_url).content.decode()

    client.force_login(alice)
    assert 'value="follow">Follow</button>' in client.get(author_url).content.decode()
    follow(client, "author", "Ada Lovelace")
    follow(client, "org", "inclusion AI")  # a full name finds the handle
    follow(client, "org", "Nobody Labs")  # unknown: refused with a message
    assert [(f.kind, f.value) for f in follows_for_user(alice)] == [
        ("author", "Ada Lovelace"),
        ("org", "inclusionAI"),
    ]
    assert "Following ✓" in client.get(author_url).content.decode()
    assert "Following ✓" in client.get("/orgs/inclusionAI").content.decode()
    response = follow(client, "org", "Nobody Labs")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "We know no organisation called" in page

    follow(client, "org", "inclusionAI", action="unfollow")
    assert [f.kind for f in follows_for_user(alice)] == ["author"]


def test_followed_organisations_feed_for_you(alice, linked_paper):
    org = Organization.objects.create(name="inclusionAI")
    ours = linked_paper(title="Ling 2.0", organization=org)
    linked_paper(title="Somebody else's")
    assert recommend_for(alice) == []
    from dailypapers.digests.services import follow_add

    follow_add(user=alice, kind="org", value="inclusionAI")
    picks = recommend_for(alice)
    assert [(p.paper.pk, p.reason) for p in picks] == [
        (ours.pk, "From inclusionAI, which you follow")
    ]


def test_the_digest_settings_keep_followed_organisations(client, alice, db):
    Organization.objects.create(name="inclusionAI")
    from dailypapers.digests.services import follow_add

    follow_add(user=alice, kind="org", value="inclusionAI")
    follow_add(user=alice, kind="topic", value="sparse attention")
    client.force_login(alice)
    html = client.get("/subscribe").content.decode()
    assert "inclusionAI</textarea>" in html
    assert Follow.objects.filter(kind="org").count() == 1


def test_following_an_author_follows_the_spellings_merged_with_it(linked_paper, moderator):
    from dailypapers.digests.content import PeriodContent, daily_period

    full = linked_paper(title="Full name", authors=[{"name": "Ada Lovelace"}])
    short = linked_paper(title="Initials", authors=[{"name": "A. Lovelace"}])
    linked_paper(title="Someone else", authors=[{"name": "Alan Turing"}])
    today = daily_period(full.published_at.date())
    assert PeriodContent(today).matches("author", "Ada Lovelace") == [full]
    authors_merge(
        moderator=moderator,
        canonical=Author.objects.get(name="Ada Lovelace"),
        variants=[Author.objects.get(name="A. Lovelace")],
    )
    for name in ["Ada Lovelace", "A. Lovelace"]:
        found = PeriodContent(today).matches("author", name)
        assert {paper.pk for paper in found} == {full.pk, short.pk}, name
