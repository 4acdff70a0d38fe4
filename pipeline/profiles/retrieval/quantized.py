"""The embedding model's int8 copy: made once with ONNX Runtime's own dynamic quantization, cached on disk.

Quantizing takes a few seconds, so the copy is kept in the models directory (``PAPERLINE_HOME/models`` unless
``PAPERLINE_MODELS_DIR`` says otherwise). Its name carries a hash of what it was made from (the fp32 graph's bytes,
which follow from the checked weights, the quantization settings and ONNX Runtime's version), so a copy made from
other weights or settings is never picked up. A manifest beside it records the SHA-256 of the copy's own bytes,
checked on every load: a truncated or damaged file is made again, never trusted. Both files are written to a
temporary name and renamed into place, under an exclusive lock, so two processes starting together make it once
and neither reads a half-written file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("paperline.retrieval")

# Signed int8 weights, one scale per output channel. Measured on all-MiniLM-L6-v2 (benchmarks/retrieval.py): one
# scale per tensor moves vectors too far (cosine to fp32 down to ~0.92, from a few outlier channels), unsigned
# weights run slower on x86 (u8u8 has no VNNI path); per-channel QInt8 keeps cosine > 0.98 at the same speed.
QUANTIZATION: dict[str, Any] = {"weight_type": "QInt8", "per_channel": True, "reduce_range": False}


def cache_key(graph: bytes, settings: dict[str, Any] = QUANTIZATION) -> str:
    """What a cached copy was made from: the fp32 graph, the quantization settings and ONNX Runtime's version."""
    import onnxruntime

    digest = hashlib.sha256(graph)
    digest.update(json.dumps({**settings, "onnxruntime": onnxruntime.__version__}, sort_keys=True).encode())
    return digest.hexdigest()


def _quantize(graph: bytes, destination: Path, settings: dict[str, Any]) -> None:
    import onnx
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        onnx.load_from_string(graph),
        destination,
        weight_type=QuantType[settings["weight_type"]],
        per_channel=settings["per_channel"],
        reduce_range=settings["reduce_range"],
        # the graph's fused com.microsoft operators have no shape inference here: their outputs are float32
        extra_options={"DefaultTensorType": TensorProto.FLOAT},
    )


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # as a plainly written file would be: other processes (another user's worker) read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_checked(model: Path, manifest: Path, key: str) -> bytes | None:
    """The cached copy's bytes when its manifest names this key and its bytes hash to what the manifest says."""
    try:
        recorded = json.loads(manifest.read_text())
        data = model.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("source") != key:
        return None
    if hashlib.sha256(data).hexdigest() != recorded.get("sha256"):
        log.warning("the cached int8 model %s does not match its manifest: making it again", model)
        return None
    return data


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def int8_model(graph: bytes, directory: Path, name: str, settings: dict[str, Any] = QUANTIZATION) -> bytes:
    """The int8 copy of ``graph`` (an fp32 ONNX model), from ``directory`` when a checked copy is there, else made
    now and stored there; the bytes returned are the very bytes checked, so nothing can change between the check
    and the load."""
    key = cache_key(graph, settings)
    directory.mkdir(parents=True, exist_ok=True)
    model = directory / f"{name}-int8-{key[:16]}.onnx"
    manifest = model.with_suffix(".json")
    data = _read_checked(model, manifest, key)
    if data is not None:
        return data
    with _exclusive(directory / f"{name}-int8.lock"):
        data = _read_checked(model, manifest, key)  # another process may have made it while this one waited
        if data is not None:
            return data
        with tempfile.TemporaryDirectory(dir=directory, prefix=".quantizing-") as scratch:
            made = Path(scratch) / model.name
            _quantize(graph, made, settings)
            data = made.read_bytes()
        _write_atomically(model, data)
        _write_atomically(manifest, json.dumps({"source": key, "sha256": hashlib.sha256(data).hexdigest()}).encode())
        log.info("made the int8 embedding model %s (%d bytes)", model, len(data))
        return data
