"""Regenerate the real-data slices in tests/data from the full sets in ../shared/data.

    python tests/data/make_slices.py [--source DIR]

Every file written here is a verbatim copy of a source file, or (for the two derived
files) a selection of whole records from it, so the slices stay exactly as published.
"""

import argparse
import gzip
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent.parent / "shared" / "data"

# Hugging Face daily days: the oldest schema (2024), the middle one (mid 2025) and the
# newest (December 2025, with organisations and AI fields); the ones the tests name.
HF_DAYS = [
    "2024-05-27",
    "2025-05-02",
    "2025-06-02",
    "2025-06-10",
    "2025-12-05",
    "2025-12-22",
    "2025-12-24",
    "2025-12-29",
    "2025-12-30",
    "2025-12-31",
]
COPIED = [
    *(f"hf-daily-papers/{day}.json" for day in HF_DAYS),
    "kaggle-snapshot/arxiv-metadata-oai-snapshot-sample.json",
    "arxiv-api/2016/search_query=au_del_maestro.xml",
    "arxiv-api/2016/id_list=1111.2011v2.xml",
    "oai-pmh/arXiv/arxiv-single.xml",
    "oai-pmh/arXivRaw/ListRecordsResponse.xml",
    "oai-pmh/arXivRaw/ListRecords-387.xml",
    "oai-pmh/arXivRaw/ErrorResponseBadArgument.xml",
    "oai-pmh/arXivRaw/ErrorResponseBadResumptionToken.xml",
    "oai-pmh/arXivRaw/ErrorResponseBadVerb.xml",
    "oai-pmh/arXivRaw/ErrorResponseIdDoesNotExist.xml",
    "oai-pmh/arXivRaw/ErrorResponseNoRecordsMatch.xml",
]
COPIED_FOLDERS = ["arxiv-api/2026"]  # the recorded query API answers, all of them

LISTINGS = "arxiv-listings-2025-03_2026-07.jsonl.gz"
LISTINGS_SLICE = "arxiv-listings-sample.jsonl.gz"
LISTINGS_STEP = 250  # every 250th record: ~300 records spread over all the months

SEARCH_SLICE = "hf-search-papers.json.gz"

# Real records at the extremes of arXiv's metadata, for tests/web/test_odd_records.py.
ODD_SLICE = "odd-listings.jsonl.gz"
ODD_IDS = {
    "2507.06261",  # Gemini 2.5: 3,303 authors
    "2505.07675",  # TeX in the title: $\mathbf{\texttt{D}}$ual-$\mathbf{\texttt{H}}$ead ...
    "2604.03991",  # \frac, \mathbb, \langle in the title
    "2605.09043",  # HTML tags in the abstract: <i>resolution</i>
    "2511.21761",  # a 269-character word in the abstract
    "2504.07758",  # a 63-character word in the title: "PIDSR:ComplementaryPolarized..."
}


def copy_files(source):
    for name in COPIED:
        target = HERE / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)
    for folder in COPIED_FOLDERS:
        shutil.rmtree(HERE / folder, ignore_errors=True)
        shutil.copytree(source / folder, HERE / folder)


def write_gzip(path, text):
    # mtime=0: the same input gives the same bytes, so a rerun leaves git clean.
    path.write_bytes(gzip.compress(text.encode(), mtime=0))


def slice_listings(source):
    with gzip.open(source / LISTINGS, "rt") as lines:
        kept = [line for number, line in enumerate(lines) if number % LISTINGS_STEP == 0]
    write_gzip(HERE / LISTINGS_SLICE, "".join(kept))
    return len(kept)


def slice_odd_records(source):
    with gzip.open(source / LISTINGS, "rt") as lines:
        kept = [line for line in lines if json.loads(line)["id"] in ODD_IDS]
    write_gzip(HERE / ODD_SLICE, "".join(kept))
    return len(kept)


def slice_search_papers(source):
    """The papers the search tests index: every Hugging Face paper of May 2025, plus every
    paper of 2025 whose title mentions pruning (the `paper` objects, first appearance)."""
    papers = {}
    for path in sorted((source / "hf-daily-papers").glob("2025-*.json")):
        for entry in json.loads(path.read_text()):
            paper = entry["paper"]
            if path.name.startswith("2025-05") or "prun" in paper["title"].lower():
                papers.setdefault(paper["id"], paper)
    write_gzip(HERE / SEARCH_SLICE, json.dumps(list(papers.values()), ensure_ascii=False))
    return len(papers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="../shared/data")
    args = parser.parse_args()
    if not (args.source / LISTINGS).is_file():
        sys.exit(f"make_slices: {args.source} does not hold the real data set ({LISTINGS})")
    copy_files(args.source)
    listings = slice_listings(args.source)
    papers = slice_search_papers(args.source)
    odd = slice_odd_records(args.source)
    print(
        f"copied {len(COPIED)} files and {len(COPIED_FOLDERS)} folder; "
        f"{listings} listing records; {papers} search papers; {odd} odd records"
    )


if __name__ == "__main__":
    main()
