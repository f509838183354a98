"""Screenshots for the README: the daily page (with thumbnails), a paper page, /stats, in
the light and the dark theme, desktop and phone width; and any further pages given as
NAME=PATH (light, desktop width).

export DAILYPAPERS_DATA_DIR=/tmp/shots
.venv/bin/dailypapers demo --port 8765 --no-worker --no-scheduler &
.venv/bin/python tests/e2e/discussion_screenshots.py http://127.0.0.1:8765 2512.10949  # first:
#   its discussion is the one paper-discussion-dark shows
# thumbnails without the network, for every featured paper (the default 60 are the newest
# days' and miss December 19)
.venv/bin/python tests/e2e/stand_in_thumbnails.py --limit 250
.venv/bin/python tests/e2e/take_screenshots.py http://127.0.0.1:8765 2025-12-19 2512.10949 \
    author-page=/authors/209 organisation-page=/orgs/nvidia

(209 is Dahua Lin in a fresh demo: `/authors/209` redirects to his page's slug.)
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
VISIBLE_IMAGES_LOADED = """() => [...document.images]
    .filter((img) => img.getBoundingClientRect().top < innerHeight).every((img) => img.complete)"""
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


def main(base, day, arxiv_id, *pages):
    OUT.mkdir(parents=True, exist_ok=True)
    shots = [
        (f"/papers/date/{day}", "daily-page", DESKTOP, "light"),
        (f"/papers/date/{day}", "daily-page-phone", PHONE, "light"),
        (f"/papers/date/{day}", "daily-page-dark", DESKTOP, "dark"),
        (f"/papers/date/{day}", "daily-page-phone-dark", PHONE, "dark"),
        (f"/papers/{arxiv_id}", "paper-page", DESKTOP, "light"),
        (f"/papers/{arxiv_id}", "paper-page-phone", PHONE, "light"),
        (f"/papers/{arxiv_id}#comments", "paper-discussion-dark", DESKTOP, "dark"),
        ("/stats", "stats", DESKTOP, "light"),
        ("/stats", "stats-dark", DESKTOP, "dark"),
        *[(page.split("=", 1)[1], page.split("=", 1)[0], DESKTOP, "light") for page in pages],
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for path, name, viewport, scheme in shots:
            page = browser.new_page(viewport=viewport, device_scale_factor=1, color_scheme=scheme)
            page.goto(base + path)
            page.wait_for_function(VISIBLE_IMAGES_LOADED)  # the lazy thumbnails in view
            page.screenshot(path=OUT / f"{name}.png")
            page.close()
            print(OUT / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
