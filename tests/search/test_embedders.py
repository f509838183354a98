"""The ONNX embedder (DAILYPAPERS_EMBEDDER=onnx:FOLDER) on a tiny model written here: a
token-embedding table as the "transformer", so the expected vectors are known exactly."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the dev extra installs onnx to write the model")
pytest.importorskip("onnxruntime", reason="the onnx extra installs onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402

from dailypapers.search.embedders import OnnxEmbedder, make_embedder  # noqa: E402

WORDS = ["[PAD]", "[UNK]", "diffusion", "language", "model", "models", "protein"]


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(len(WORDS), 8)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"]),
            # attention_mask is an input of every exported BERT; this graph ignores it
            helper.make_node("Identity", ["attention_mask"], ["mask_out"]),
        ],
        "tiny",
        [
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
            for name in ("input_ids", "attention_mask")
        ],
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", 8]
            ),
            helper.make_tensor_value_info("mask_out", TensorProto.INT64, ["batch", "sequence"]),
        ],
        [numpy_helper.from_array(table, "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, tmp_path / "model.onnx")
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    return tmp_path, table


def test_it_mean_pools_the_real_tokens_and_ignores_padding(folder):
    path, table = folder
    embedder = make_embedder(f"onnx:{path}")
    assert isinstance(embedder, OnnxEmbedder) and embedder.dims == 8
    texts = ["diffusion model", "protein", "language models language", "diffusion model"]
    vectors = embedder.encode(texts)
    ids = {w: i for i, w in enumerate(WORDS)}
    for text, vector in zip(texts, vectors, strict=True):
        expected = table[[ids[w] for w in text.split()]].mean(axis=0)
        expected /= np.linalg.norm(expected)
        np.testing.assert_allclose(vector, expected, rtol=1e-5, atol=1e-6)
    # the same text in a batch with longer ones (padded) gets the same vector
    np.testing.assert_allclose(vectors[0], vectors[3], atol=1e-6)


def test_it_names_its_vectors_by_the_model_file(folder):
    path, _ = folder
    first = OnnxEmbedder(path)
    assert first.contract == OnnxEmbedder(path).contract
    assert first.contract.startswith("onnx-")
