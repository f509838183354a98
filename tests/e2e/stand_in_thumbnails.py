"""Thumbnails for the screenshots, made without the network: each featured paper's first
page is a stand-in printed by Chromium from the paper's own metadata (title, authors,
abstract; the layout of tests/data/thumbnails/make_pdf.py), then rendered by the real
thumbnail code. The README says so under the screenshots.

export DAILYPAPERS_DATA_DIR=/tmp/shots
.venv/bin/python tests/e2e/stand_in_thumbnails.py [--limit 60]
"""

import argparse
import importlib.util
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
MAKE_PDF = HERE.parent / "data" / "thumbnails" / "make_pdf.py"


class StandInPdfs:
    """Answers ArxivHttp.get(url) for arXiv PDF URLs with a printed stand-in page."""

    def __init__(self, page, page_html):
        self.page, self.page_html = page, page_html

    def get(self, url):
        from dailypapers.papers.models import Paper

        arxiv_id = url.split("/pdf/", 1)[1].rsplit("v", 1)[0]
        paper = Paper.objects.get(arxiv_id=arxiv_id)
        names = ", ".join(paper.author_names[:8])
        note = f"arXiv:{arxiv_id} · a stand-in page printed from the metadata"
        self.page.set_content(self.page_html(paper.title, names, paper.abstract[:1100], note))
        return self.page.pdf(format="Letter", print_background=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=60)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright runs a loop
    import django

    django.setup()
    from dailypapers.thumbnails.services import thumbnails_make

    spec = importlib.util.spec_from_file_location("make_pdf", MAKE_PDF)
    make_pdf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_pdf)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        stand_in = StandInPdfs(browser.new_page(), make_pdf.page_html)
        print(thumbnails_make(limit=options.limit, http=stand_in).line())
        browser.close()


if __name__ == "__main__":
    main()
