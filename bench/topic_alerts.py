"""Which papers a topic alert mails: every word of the topic in one sentence, against every
word anywhere and any word.

A digest's "For your topics" section lists the new papers whose title, or one sentence of
whose abstract, holds every word of a followed topic (search.selectors.holds_every_word);
the keyword engine alone selects any paper holding one of them. Over the real arXiv
listings in ../shared/data (~75k papers), for the topics named as the field names them
(bench/search_quality.py's NAMED_TOPICS), a paper counts as on the topic when its title or
abstract matches the topic's pattern ("mixture[- ]of[- ](\\w+[- ])?experts|\\bmoe\\b").
Printed per topic: how many papers each rule selects, the share of them on the topic
(precision) and the share of the papers on the topic that it selects (recall).

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


def every_word_anywhere(parsed, paper):
    from dailypapers.search.selectors import _holds_words

    return _holds_words(parsed, f"{paper.title} {paper.abstract}")


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
    rules = {"any word": any_word, "every word anywhere": every_word_anywhere,
             "every word in a sentence (ours)": holds_every_word}  # fmt: skip
    print(f"{'topic':<32} {'on topic':>8}" + "".join(f" | {r}: n, P, R" for r in rules))
    figures = {rule: [] for rule in rules}
    for query, pattern, _ in NAMED_TOPICS:
        judged = re.compile(pattern, re.I)
        on_topic = {i for i, p in enumerate(corpus) if judged.search(f"{p.title} {p.abstract}")}
        parsed = parse(query)
        row = f"{query:<32} {len(on_topic):>8}"
        for rule, holds in rules.items():
            chosen = {i for i, p in enumerate(corpus) if holds(parsed, p)}
            precision = len(chosen & on_topic) / max(1, len(chosen))
            recall = len(chosen & on_topic) / max(1, len(on_topic))
            figures[rule].append((precision, recall))
            row += f" | {len(chosen):>6,} {precision:.2f} {recall:.2f}"
        print(row)
    print()
    for rule, pairs in figures.items():
        precision, recall = [sorted(column) for column in zip(*pairs, strict=True)]
        print(f"{rule}: precision median {statistics.median(precision):.2f} (lowest "
              f"{precision[0]:.2f}), recall median {statistics.median(recall):.2f} (lowest "
              f"{recall[0]:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
