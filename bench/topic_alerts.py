"""Which papers a topic alert mails: every word of the topic, against any word.

A digest's "For your topics" section lists the new papers that hold every word of a
followed topic (search.selectors.holds_every_word); the keyword engine alone selects any
paper holding one of them. Over the real arXiv listings in ../shared/data (~75k papers),
for the topics named as the field names them (bench/search_quality.py's NAMED_TOPICS), a
paper counts as on the topic when its title or abstract matches the topic's pattern
("mixture[- ]of[- ](\\w+[- ])?experts|\\bmoe\\b"). Printed per topic: how many papers each
rule selects, the share of them on the topic (precision) and the share of the papers on
the topic that it selects (recall).

Acronyms are left out (the table of them is mined from a site's own papers): a paper that
says only "MoE" is missed here, and is matched on a site.

    .venv/bin/python bench/topic_alerts.py [--data DIR]
"""

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import real_data  # bench/real_data.py: the --data DIR option

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def papers(folder):
    with gzip.open(folder / real_data.LISTINGS, "rt") as lines:
        for line in lines:
            record = json.loads(line)
            yield SimpleNamespace(
                title=" ".join(record["title"].split()),
                abstract=" ".join((record.get("summary") or "").split()),
                authors=[{"name": name} for name in record.get("authors") or []],
            )


def any_word(parsed, paper):
    from dailypapers.search.keyword import _stems

    held = set(_stems(f"{paper.title} {paper.abstract}"))
    return any(stem in held for clause in parsed.should for stem in _stems(clause.text))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    real_data.add_option(parser)
    args = parser.parse_args()
    folder = real_data.require(args.data, real_data.LISTINGS)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    os.environ["DAILYPAPERS_DATA_DIR"] = tempfile.mkdtemp(prefix="dp-topic-alerts-")
    import django

    django.setup()
    from search_quality import NAMED_TOPICS

    from dailypapers.search.query import parse
    from dailypapers.search.selectors import holds_every_word

    corpus = list(papers(folder))
    print(f"{len(corpus):,} papers; precision / recall against the topic's pattern\n")
    print(f"{'topic':<32} {'on topic':>8} {'any word: n':>12} {'P':>5} {'R':>5}"
          f" {'every word: n':>14} {'P':>5} {'R':>5}")  # fmt: skip
    figures = {"any": [], "every": []}
    for query, pattern, _ in NAMED_TOPICS:
        judged = re.compile(pattern, re.I)
        on_topic = {i for i, p in enumerate(corpus) if judged.search(f"{p.title} {p.abstract}")}
        parsed = parse(query)
        row = f"{query:<32} {len(on_topic):>8}"
        for rule, holds in (("any", any_word), ("every", holds_every_word)):
            chosen = {i for i, p in enumerate(corpus) if holds(parsed, p)}
            precision = len(chosen & on_topic) / max(1, len(chosen))
            recall = len(chosen & on_topic) / max(1, len(on_topic))
            figures[rule].append((precision, recall))
            width = 12 if rule == "any" else 14
            row += f" {len(chosen):>{width},} {precision:>5.2f} {recall:>5.2f}"
        print(row)
    for rule, pairs in figures.items():
        print(f"\n{rule} word: median precision {statistics.median(p for p, _ in pairs):.2f},"
              f" median recall {statistics.median(r for _, r in pairs):.2f}", end="")  # fmt: skip
    print()


if __name__ == "__main__":
    main()
