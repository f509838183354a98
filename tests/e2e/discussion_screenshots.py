"""Screenshots of a discussion for the README (desktop and phone), on the demo's data.

export DAILYPAPERS_DATA_DIR=/tmp/shots
.venv/bin/dailypapers demo --port 8765 --no-worker --no-scheduler &
.venv/bin/python tests/e2e/discussion_screenshots.py http://127.0.0.1:8765 2512.10949

It writes a small made-up discussion (members mira, kenji, sofia, tomas, lea) on that paper
into the demo's database first, then signs in as lea, so the forms show.
"""

import datetime as dt
import os
import sys

from playwright.sync_api import sync_playwright
from take_screenshots import DESKTOP, OUT, PHONE

PASSWORD = "a fine pass phrase 9"
THREAD = [  # (author, parent index or None, text, upvoters)
    ("mira", None, "The ablation in Table 3 is convincing: dropping the verifier costs "
     "**4.1 points**. Does the gain hold when the budget is $k = 8$ rather than $k = 32$?",
     ["kenji", "sofia", "tomas", "lea"]),
    ("kenji", None, "@mira yes, Figure 5 shows it: the curve is flat above $k \\approx 8$. "
     "Code: https://github.com/example/repo", ["mira", "lea"]),
    ("sofia", 1, "Nice. A comparison with *self-consistency* at equal compute would help.", []),
    ("tomas", None, "Has anyone reproduced the 7B numbers? I get\n\n```\naccuracy 61.2 "
     "(paper: 63.0)\n```", ["lea"]),
]  # fmt: skip


def seed(arxiv_id):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dailypapers.community.models import Comment
    from dailypapers.community.services import comment_post, comment_vote
    from dailypapers.papers.models import Paper

    paper = Paper.objects.get(arxiv_id=arxiv_id)
    joined = timezone.now() - dt.timedelta(days=3)
    members = {}
    for name in ("mira", "kenji", "sofia", "tomas", "lea"):
        members[name], _ = get_user_model().objects.get_or_create(
            username=name, defaults={"email": f"{name}@example.org", "date_joined": joined}
        )
    members["lea"].set_password(PASSWORD)
    members["lea"].save()
    Comment.objects.filter(paper=paper).delete()
    posted = []
    for author, parent, text, voters in THREAD:
        parent = posted[parent] if parent is not None else None
        comment = comment_post(user=members[author], paper=paper, body=text, parent=parent)
        for voter in voters:
            comment_vote(user=members[voter], comment=comment, value=1)
        posted.append(comment)


def main(base, arxiv_id):
    seed(arxiv_id)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for name, viewport in (("discussion", DESKTOP), ("discussion-phone", PHONE)):
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", "lea")
            page.fill("#id_password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            page.goto(f"{base}/papers/{arxiv_id}#comments")
            page.locator(".comment .katex").first.wait_for()
            page.locator("#comments").screenshot(path=OUT / f"{name}.png")
            context.close()
            print(OUT / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
