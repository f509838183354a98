import datetime as dt

from django.contrib.admin.sites import site
from django.test import RequestFactory

from dailypapers.community.models import Comment
from dailypapers.papers.models import Organization

from .conftest import DAY


def test_it_shows_everything_about_a_paper(client, make_paper, feature):
    paper = make_paper(
        title="Attention with $\\sqrt{d}$ scaling",
        abstract="First paragraph with $x^2$.\n\nSecond paragraph.",
        authors=[{"name": f"Author {i}"} for i in range(30)],
        categories=["cs.CL", "cs.LG"],
        versions=[
            {"version": 1, "created": "2026-11-20T10:00:00Z"},
            {"version": 2, "created": "2026-11-24T10:00:00Z"},
        ],
        version=2,
        organization=Organization.objects.create(name="acme", fullname="Acme Labs"),
        github_repo="https://github.com/acme/attn",
        project_page="https://acme.example/attn",
        imported_upvotes=11,
    )
    feature(paper)
    feature(paper, day=DAY + dt.timedelta(days=1))
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert "Attention with $\\sqrt{d}$ scaling" in html and "$x^2$" in html
    assert "Author 0" in html and "Author 29" in html
    assert "cs.CL, cs.LG" in html and "acme/attn" in html and "Project page" in html
    assert "Nov 20, 2026" in html and "Nov 24, 2026" in html and f"{paper.arxiv_id}v2" in html
    assert f'href="/papers/date/{DAY}"' in html and "Nov 26, 2026" in html
    assert "Acme Labs" in html and '<span class="count">11</span>' in html


def test_it_redirects_versions_and_prefixes_to_the_base_id(client, make_paper):
    make_paper(arxiv_id="2611.01234")
    for raw in ["2611.01234v3", "arXiv:2611.01234"]:
        response = client.get(f"/papers/{raw}")
        assert response.status_code == 301 and response["Location"] == "/papers/2611.01234"


def test_it_serves_old_style_ids(client, make_paper):
    make_paper(arxiv_id="hep-th/9901001", title="Old style")
    assert "Old style" in client.get("/papers/hep-th/9901001").content.decode()
    assert client.get("/papers/hep-th/9901001v2")["Location"] == "/papers/hep-th/9901001"


def test_it_hides_hidden_papers(client, make_paper):
    paper = make_paper(hidden=True)
    assert client.get(f"/papers/{paper.arxiv_id}").status_code == 404


def test_it_renders_the_paper_page_in_a_few_queries(
    client, make_paper, feature, django_assert_max_num_queries
):
    paper = make_paper()
    feature(paper)
    # the site's generation (page cache), paper, featured days, comments, related papers
    # (its vector, the neighbours, and twice a look for vectors newer than the view's), the
    # authors' links and the verified authors' claims
    with django_assert_max_num_queries(10):
        assert client.get(f"/papers/{paper.arxiv_id}").status_code == 200


def post_comment(client, paper, body):
    return client.post(f"/papers/{paper.arxiv_id}/comments", {"body": body})


def test_it_lets_members_discuss_a_paper_safely(client, alice, make_paper):
    paper = make_paper()
    response = post_comment(client, paper, "hello")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(alice)
    response = post_comment(client, paper, "<script>alert(1)</script>\nline two ünïcode")
    comment = Comment.objects.get()
    assert response["Location"] == f"/papers/{paper.arxiv_id}#comment-{comment.pk}"
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>\nline two ünïcode" in html
    assert "<script>alert" not in html
    paper.refresh_from_db()
    assert paper.num_comments == 1


def test_it_explains_bad_comments(client, alice, make_paper, settings):
    paper = make_paper()
    client.force_login(alice)
    for body, message in [("   ", "required"), ("x" * 5001, "at most 5000 characters")]:
        response = post_comment(client, paper, body)
        assert response.status_code == 400 and message in response.content.decode()
    settings.COMMENTS_PER_HOUR = 1
    post_comment(client, paper, "one")
    response = post_comment(client, paper, "two")
    assert response.status_code == 400 and "Too many comments" in response.content.decode()
    assert Comment.objects.count() == 1


def test_it_lets_moderators_hide_comments(client, alice, admin_user, make_paper):
    paper = make_paper()
    client.force_login(alice)
    post_comment(client, paper, "spam spam spam")
    model_admin = site._registry[Comment]
    request = RequestFactory().post("/")
    request.user = admin_user
    model_admin.message_user = lambda *args, **kwargs: None
    model_admin.hide(request, Comment.objects.all())
    model_admin.hide(request, Comment.objects.all())  # twice: counted once
    paper.refresh_from_db()
    assert paper.num_comments == 0
    assert "spam spam spam" not in client.get(f"/papers/{paper.arxiv_id}").content.decode()
    model_admin.unhide(request, Comment.objects.all())
    paper.refresh_from_db()
    assert paper.num_comments == 1


def test_it_loads_katex_only_for_papers_with_math(client, make_paper):
    with_math = make_paper(title="Bounds on $\\ell_1$ recovery")
    plain = make_paper(title="No math here")
    assert "katex.min.js" in client.get(f"/papers/{with_math.arxiv_id}").content.decode()
    assert "katex.min.js" not in client.get(f"/papers/{plain.arxiv_id}").content.decode()


def test_it_says_which_related_papers_are_missing(client, make_paper):
    paper = make_paper(title="A paper alone on its site")

    recent = client.get(f"/papers/{paper.arxiv_id}?related=recent").content.decode()
    anytime = client.get(f"/papers/{paper.arxiv_id}").content.decode()

    assert "No related papers from the last 90 days." in recent
    assert "No related papers yet." not in recent
    assert "No related papers yet." in anytime
