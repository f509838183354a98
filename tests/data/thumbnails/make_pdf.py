"""Makes paper.pdf, the fixture the thumbnail tests render: a real PDF (Chromium's printer,
US Letter, one page) laid out like a paper's first page, with the real arXiv metadata of
2512.16776 (title, authors, abstract; arXiv metadata is CC0). It is not arXiv's PDF of
that paper (whose licence we did not check), only its look: a title, a byline, an abstract.

    .venv/bin/python tests/data/thumbnails/make_pdf.py
"""

import html
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
TITLE = "Kling-Omni Technical Report"
AUTHORS = "Kling Team, Jialu Chen, Yuanzheng Ci, Xiangyu Du, Zipeng Feng, Kun Gai, Sainan Guo"
ABSTRACT = (
    "We present Kling-Omni, a generalist generative framework designed to synthesize "
    "high-fidelity videos directly from multimodal visual language inputs. Adopting an "
    "end-to-end perspective, Kling-Omni bridges the functional separation among diverse video "
    "generation, editing, and intelligent reasoning tasks, integrating them into a holistic "
    "system. Unlike disjointed pipeline approaches, Kling-Omni supports a diverse range of "
    "user inputs, including text instructions, reference images, and video contexts, "
    "processing them into a unified multimodal representation to deliver cinematic-quality "
    "and highly-intelligent video content creation."
)


def page_html(title, authors, abstract, note):
    """A paper's first page, roughly: title, byline, abstract, a band where a figure goes."""
    title, authors, abstract, note = map(html.escape, (title, authors, abstract, note))
    return f"""<!doctype html><meta charset="utf-8"><style>
body {{ font-family: "DejaVu Serif", serif; margin: 0 .6in; color: #000; }}
h1 {{ text-align: center; font-size: 22pt; margin: .4in 0 .15in; }}
.by {{ text-align: center; font-size: 11pt; }}
h2 {{ text-align: center; font-size: 12pt; margin-top: .3in; }}
p {{ font-size: 10pt; text-align: justify; line-height: 1.35; }}
.figure {{ height: 2.2in; margin-top: .25in;
           background: linear-gradient(90deg, #3b6fd4, #d4563b); }}
</style>
<h1>{title}</h1><p class="by">{authors}</p>
<h2>Abstract</h2><p>{abstract}</p><div class="figure"></div><p>{note}</p>"""


def main():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        note = "arXiv:2512.16776 · test fixture for dailypapers' thumbnails"
        page.set_content(page_html(TITLE, AUTHORS, ABSTRACT, note))
        page.pdf(path=HERE / "paper.pdf", format="Letter", print_background=True)
        browser.close()
    print(HERE / "paper.pdf", (HERE / "paper.pdf").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
