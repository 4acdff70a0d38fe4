"""The embedding model's int8 copy and its cache, and batching by length: the cached copy is used only when its
name and manifest say it was made from this graph with these settings and its bytes still hash to the manifest's;
two callers make it once; int8 vectors stay close to fp32's; batching never changes which vector is whose."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from pipeline.core.settings import Settings
from pipeline.profiles.retrieval import quantized
from pipeline.profiles.retrieval.embedding import Embedder, batches_by_length
from pipeline.profiles.retrieval.passages import embedding_input
from tests.retrieval_docs import make_documents


def tiny_graph(seed: int = 0) -> bytes:
    """A one-MatMul float model, big enough for the quantizer to act on and quick to quantize."""
    weights = np.random.default_rng(seed).standard_normal((64, 64)).astype(np.float32)
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 64])],
        [numpy_helper.from_array(weights, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every quantization run, by its output path (the real quantizer still runs)."""
    made: list[Path] = []
    real = quantized._quantize

    def counting(graph: bytes, destination: Path, settings: dict) -> None:
        made.append(destination)
        real(graph, destination, settings)

    monkeypatch.setattr(quantized, "_quantize", counting)
    return made


def cached_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.suffix in (".onnx", ".json"))


def test_the_int8_copy_is_made_once_then_read_from_the_cache(tmp_path: Path, builds: list[Path]) -> None:
    first = quantized.int8_model(tiny_graph(), tmp_path, "tiny")
    again = quantized.int8_model(tiny_graph(), tmp_path, "tiny")
    assert first == again and len(builds) == 1
    [manifest] = tmp_path.glob("tiny-int8-*.json")
    key = quantized.cache_key(tiny_graph())
    assert manifest.name == f"tiny-int8-{key[:16]}.json" and json.loads(manifest.read_text())["source"] == key
    # the copy really is quantized: integer weights and the ops that use them
    assert b"MatMulInteger" in first or b"DynamicQuantize" in first


@pytest.mark.parametrize("damage", ["truncated", "flipped", "manifest lost", "manifest of another source"])
def test_a_damaged_cached_copy_is_made_again_never_used(tmp_path: Path, builds: list[Path], damage: str) -> None:
    good = quantized.int8_model(tiny_graph(), tmp_path, "tiny")
    [model] = tmp_path.glob("tiny-int8-*.onnx")
    manifest = model.with_suffix(".json")
    if damage == "truncated":
        model.write_bytes(good[: len(good) // 2])
    elif damage == "flipped":
        model.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])
    elif damage == "manifest lost":
        manifest.unlink()
    else:
        manifest.write_text(json.dumps({"source": "0" * 64, "sha256": json.loads(manifest.read_text())["sha256"]}))
    assert quantized.int8_model(tiny_graph(), tmp_path, "tiny") == good
    assert len(builds) == 2
    assert model.read_bytes() == good and quantized._read_checked(model, manifest, quantized.cache_key(tiny_graph()))


def test_other_weights_or_settings_never_reuse_a_copy(tmp_path: Path, builds: list[Path]) -> None:
    quantized.int8_model(tiny_graph(0), tmp_path, "tiny")
    quantized.int8_model(tiny_graph(1), tmp_path, "tiny")
    quantized.int8_model(tiny_graph(0), tmp_path, "tiny", {**quantized.QUANTIZATION, "per_channel": False})
    assert len(builds) == 3 and len(cached_files(tmp_path)) == 6


def test_two_callers_at_once_make_it_once_and_neither_sees_a_half_written_file(
    tmp_path: Path, builds: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    inside, release = threading.Event(), threading.Event()
    counting = quantized._quantize
    seen_while_making: list[list[str]] = []

    def slow(graph: bytes, destination: Path, settings: dict) -> None:
        inside.set()
        assert release.wait(60)
        seen_while_making.append(cached_files(tmp_path))
        counting(graph, destination, settings)

    monkeypatch.setattr(quantized, "_quantize", slow)
    results: list[bytes] = []
    callers = [
        threading.Thread(target=lambda: results.append(quantized.int8_model(tiny_graph(), tmp_path, "tiny")))
        for _ in range(2)
    ]
    callers[0].start()
    assert inside.wait(60)
    callers[1].start()  # waits on the lock while the first makes the copy
    release.set()
    for caller in callers:
        caller.join(60)
    assert len(results) == 2 and results[0] == results[1] and len(builds) == 1
    assert seen_while_making == [[]]  # nothing under the final names until it was complete
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".quantizing-")]


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")

    def broken_replace(src: str, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        quantized._write_atomically(target, b"new")
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_batches_by_length_hold_every_index_once_shortest_first() -> None:
    lengths = [5, 1, 9, 3, 3, 7, 2]
    batches = batches_by_length(lengths, 3)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert [len(b) for b in batches] == [3, 3, 1]
    flat = [lengths[i] for batch in batches for i in batch]
    assert flat == sorted(lengths)
    assert batches_by_length([], 3) == []


@pytest.fixture(scope="module")
def models() -> dict[str, Embedder]:
    settings = Settings.from_env()  # the session's shared models directory (tests/conftest.py)
    return {p: Embedder(threads=2, precision=p, settings=settings) for p in ("fp32", "int8")}


def generated_texts(count: int = 30, seed: int = 0) -> list[str]:
    """Distinct texts of 1-120 words: the short end is where quantisation moves a vector most."""
    rng = np.random.default_rng(seed)
    words = ("pump valve report revenue table figure quarterly income sample water pressure station contract "
             "invoice river grain harvest engine voltage survey tariff clinic dosage").split()  # fmt: skip
    texts: list[str] = []
    while len(texts) < count:
        text = " ".join(rng.choice(words, size=int(rng.integers(1, 121))))
        if text not in texts:
            texts.append(text)
    return texts


def sample_passages() -> list[str]:
    texts = []
    for doc in make_documents(3):
        for page in doc.pages:
            texts.append(embedding_input(" ".join(page), (doc.title,)))
    return texts


#: The floor for an int8 vector's cosine to its fp32 vector (or to itself embedded in another batch). Dynamic int8
#: quantisation rounds the weights and each batch's activations to 255 steps, and processors differ in their int8
#: kernels (with VNNI or without), so the cosine is not one number: on 40 texts here it spread over 0.978-0.999
#: (about 12 degrees at worst), short texts lowest. A vector moved out of its own place would be well below, so the
#: floor is set by the angle (about 18 degrees) rather than fitted to one machine; what retrieval rests on is checked
#: exactly: each text's vector stays its own nearest, in fp32's space and in its own.
INT8_COSINE_FLOOR = 0.95


def assert_each_vector_is_its_own_nearest(vectors: np.ndarray, reference: np.ndarray) -> None:
    """Each row of ``vectors`` is nearer its own row of ``reference`` than any other text's: no text takes another's
    place in a ranking."""
    similarities = vectors @ reference.T
    assert list(similarities.argmax(axis=1)) == list(range(len(vectors)))


def test_int8_vectors_agree_with_fp32_on_sample_passages(models: dict[str, Embedder]) -> None:
    texts = sample_passages() + generated_texts()
    fp32, int8 = models["fp32"].embed(texts), models["int8"].embed(texts)
    cosines = (fp32 * int8).sum(axis=1)
    assert len(texts) >= 30 and cosines.min() > INT8_COSINE_FLOOR, cosines.min()
    assert_each_vector_is_its_own_nearest(int8, fp32)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_batching_by_length_gives_each_text_its_own_vector_in_order(
    models: dict[str, Embedder], precision: str
) -> None:
    model = models[precision]
    texts = ["Short.", *sample_passages()[:5], "A middling sentence about a pump.", "x " * 400, "Two words"]
    together = model.embed(texts, batch_size=3)
    alone = np.stack([model.embed([text])[0] for text in texts])
    if precision == "fp32":
        assert np.allclose(together, alone, atol=1e-5)
    else:  # int8 activations are scaled per batch (dynamic quantization): batch mates move a vector by about as much
        # as the quantisation itself does, never out of its place
        assert (together * alone).sum(axis=1).min() > INT8_COSINE_FLOOR
        assert_each_vector_is_its_own_nearest(together, models["fp32"].embed(texts))
    assert_each_vector_is_its_own_nearest(together, alone)
