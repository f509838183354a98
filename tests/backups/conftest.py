"""A whole instance in a temporary data directory, driven through the `dailypapers` CLI."""

import json
import os
import subprocess
import sys

import pytest

from tests.pg_roles import role_owning_a_database

# A small but complete cast: members with API tokens, papers on daily pages, votes,
# comments, a confirmed subscription with follows and a delivered digest.
POPULATE = """
import datetime as dt
from django.contrib.auth import get_user_model
from django.utils import timezone
from dailypapers.accounts.services import token_create
from dailypapers.community.models import Comment
from dailypapers.digests.models import Delivery, Follow, SentPaper, Subscription
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.services import vote_cast

User = get_user_model()
ada = User.objects.create_user("ada", "ada@example.org", "a pass phrase 1")
bob = User.objects.create_user("bob", "bob@example.org", "a pass phrase 2")
papers = []
for n in range(1, 6):
    paper = Paper.objects.create(
        arxiv_id=f"2611.0000{n}", title=f"Paper number {n}", abstract="An abstract. " * 5,
        authors=[{"name": "Ada Lovelace"}], categories=["cs.CL"], primary_category="cs.CL",
        published_at=timezone.now() - dt.timedelta(days=n),
    )
    DailyEntry.objects.create(paper=paper, day=timezone.localdate(), submitted_at=timezone.now(),
                              submitted_by=ada, source="member")
    papers.append(paper)
for paper in papers[:3]:
    vote_cast(user=ada, paper=paper)
vote_cast(user=bob, paper=papers[0])
Comment.objects.create(paper=papers[0], user=bob, body="A fine result.")
token, secret = token_create(user=ada, name="script", scopes=["read", "vote"])
subscription = Subscription.objects.create(email="sub@example.org", status="active",
                                           confirmed_at=timezone.now(), user=bob)
Follow.objects.create(subscription=subscription, kind="topic", value="diffusion models")
delivery = Delivery.objects.create(subscription=subscription, period=str(timezone.localdate()),
                                   status="sent", num_papers=1, sent_at=timezone.now())
SentPaper.objects.create(subscription=subscription, paper=papers[0], delivery=delivery)
print(secret)
"""

# What must survive a backup or a move, as one comparable snapshot.
SNAPSHOT = """
import json
from django.contrib.auth import get_user_model
from dailypapers.accounts.models import ApiToken
from dailypapers.accounts.services import token_authenticate
from dailypapers.community.models import Comment
from dailypapers.digests.models import Delivery, Follow, Subscription
from dailypapers.papers.models import DailyEntry, Paper, Vote

User = get_user_model()
print(json.dumps({
    "users": sorted(User.objects.values_list("username", "email")),
    "passwords": User.objects.get(username="ada").check_password("a pass phrase 1"),
    "papers": sorted(Paper.objects.values_list("arxiv_id", "title", "upvotes")),
    "entries": DailyEntry.objects.count(),
    "votes": sorted(Vote.objects.values_list("user__username", "paper__arxiv_id")),
    "comments": list(Comment.objects.values_list("user__username", "body")),
    "subscriptions": list(Subscription.objects.values_list("email", "status", "user__username")),
    "follows": list(Follow.objects.values_list("kind", "value")),
    "deliveries": list(
        Delivery.objects.values_list("subscription__email", "status", "papers__paper__arxiv_id")
    ),
    "tokens": list(ApiToken.objects.values_list("name", "prefix", "scopes")),
    "token_works": token_authenticate(SECRET) is not None,
}))
"""


class Instance:
    def __init__(self, data_dir, database_url=None):
        self.env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(data_dir)}
        self.env.pop("DATABASE_URL", None)
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        if database_url:
            self.env["DATABASE_URL"] = database_url

    def run(self, *args, check=True, stdin=None):
        done = subprocess.run(
            [sys.executable, "-m", "dailypapers", *args],
            env=self.env, capture_output=True, text=True, timeout=600, input=stdin,
        )  # fmt: skip
        if check:
            assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        return done

    def shell(self, code):
        return self.run("shell", "-c", code).stdout.strip().splitlines()[-1]

    def populate(self):
        self.run("migrate", "-v0")
        return self.shell(POPULATE)

    def snapshot(self, secret):
        return json.loads(self.shell(f"SECRET = {secret!r}\n" + SNAPSHOT))


@pytest.fixture
def instance(tmp_path):
    return Instance(tmp_path / "data")


@pytest.fixture
def scratch_postgres(django_db_blocker):
    """The URL of an empty PostgreSQL database beside the test database, dropped after."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs PostgreSQL: runs when DATABASE_URL points at one (CI's second pass)")
    from django.db import connection

    name = f"{connection.settings_dict['NAME']}_scratch"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield url.rsplit("/", 1)[0] + "/" + name
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_role_postgres(django_db_blocker):
    """An ordinary (non-superuser) role owning a database with the vector extension, as
    docs/operations.md sets up production: (its URL, the same database as the superuser)."""
    import psycopg

    with role_owning_a_database(django_db_blocker, "app") as (_, app_url, superuser_url):
        with psycopg.connect(superuser_url, autocommit=True) as admin:
            admin.execute("CREATE EXTENSION vector")  # the one step that needs a superuser
        yield app_url, superuser_url
