"""Benchmark the retrieval profile: how well search finds answers, and what embedding and search cost.

In one run, in a throwaway PAPERLINE_HOME, with the real model (all-MiniLM-L6-v2 on ONNX Runtime):

* ``quality``: a labelled set of generated documents (tests/retrieval_docs.py: each fact sentence has a question
  written from it) extracted by a real worker (2 processes) with the retrieval profile; recall@5 and MRR of
  ``Paperline.search`` for every question (a hit counts when its passage holds the answering sentence);
* ``quality_by_mode``: recall@5 and MRR of semantic, keyword and hybrid search side by side, on those generated
  questions and on questions that name an exact identifier, number or name (registers of contracts, clauses, parts,
  invoices and people: tests/retrieval_docs.py ``make_identifier_documents``), in the same corpus;
* ``embedding``: passages per second embedding this set's passages in one process (2 threads, batches of 32),
  and in the worker (a 60-page document's passages over the time it spent embedding, on both worker processes);
* ``search``: 50,000 passages in the store (the labelled ones plus filler jobs with random unit vectors), the time
  to load them for search once, then the latency of whole ``Paperline.search`` calls (embed the query, score every
  passage, read the hits) over 100 questions;
* ``embedding_precision``: the fp32 model and its int8 copy in one process on the same passages (2 threads each,
  timed in turns of 64 passages, with the machine's load average beside them): passages per second, the speed-up,
  the cosine between their vectors, and recall@5/MRR of the generated questions searched over the labelled
  passages with each (the change in recall is what decides ``PAPERLINE_EMBEDDING_PRECISION``'s default);
* ``index``: bytes per 1,000 passages (vectors alone, and the database file's growth), and the worker processes'
  peak memory (VmHWM) with the model loaded.

Run: .venv/bin/python benchmarks/retrieval.py  (prints one JSON object to stdout, logs to stderr)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.docgen import make_text_pdf  # noqa: E402
from tests.helpers import start_worker_process, stop_process  # noqa: E402
from tests.retrieval_docs import make_documents, make_identifier_documents, write_pdf  # noqa: E402

DOCUMENTS = 30
REGISTERS = 20
MODES = ("semantic", "keyword", "hybrid")
TOTAL_PASSAGES = 50_000
FILLER_JOB_PASSAGES = 1_000
QUERIES = 100
LONG_PAGES = 60
ROUNDS = 2  # of the fp32/int8 rate comparison


@dataclass(frozen=True)
class Labelled:
    """A labelled passage with the file it came from (what a hit is judged by)."""

    job_filename: str
    text: str
    headings: tuple[str, ...]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def normalized(text: str) -> str:
    return " ".join(text.split())


def group_peak_rss_mb(pgid: int) -> list[float]:
    """VmHWM (peak resident memory) of every process in a process group, in MB."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            pid = int(status.parent.name)
            if os.getpgid(pid) != pgid:
                continue
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except (OSError, ValueError, ProcessLookupError):
            continue
        if "VmHWM" in fields:
            peaks.append(round(int(fields["VmHWM"].split()[0]) / 1024, 1))
    return sorted(peaks)


def quality(app: Any, documents: list[Any]) -> dict[str, Any]:
    ranks = []
    for doc in documents:
        for question in doc.questions:
            hits = app.search(question.question, top_k=5)
            answer = normalized(question.answer)
            rank = next(
                (n for n, h in enumerate(hits, 1) if h.filename == question.filename and answer in normalized(h.text)),
                None,
            )
            ranks.append(rank)
    found = [r for r in ranks if r is not None]
    return {
        "documents": len(documents),
        "questions": len(ranks),
        "recall_at_5": round(len(found) / len(ranks), 3),
        "mrr": round(sum(1 / r for r in found) / len(ranks), 3),
    }


def mode_quality(app: Any, questions: list[Any], mode: str) -> dict[str, float]:
    """recall@5 and MRR of ``Paperline.search`` in ``mode`` over ``questions``."""
    ranks = []
    for question in questions:
        hits = app.search(question.question, top_k=5, mode=mode)
        answer = normalized(question.answer)
        ranks.append(
            next(
                (n for n, h in enumerate(hits, 1) if h.filename == question.filename and answer in normalized(h.text)),
                None,
            )
        )
    found = [r for r in ranks if r is not None]
    return {"recall_at_5": round(len(found) / len(ranks), 3), "mrr": round(sum(1 / r for r in found) / len(ranks), 3)}


def quality_by_mode(app: Any, documents: list[Any], registers: list[Any]) -> dict[str, Any]:
    """Each mode's quality on the generated questions and on the questions naming an identifier."""
    sets = {
        "generated": [q for doc in documents for q in doc.questions],
        "identifiers": [q for doc in registers for q in doc.questions],
    }
    out: dict[str, Any] = {name: {"questions": len(questions)} for name, questions in sets.items()}
    for name, questions in sets.items():
        for mode in MODES:
            out[name][mode] = mode_quality(app, questions, mode)
    return out


def worker_embedding_rate(app: Any, job_ids: list[str]) -> float | None:
    """Passages embedded per second of embedding stage, over the jobs (from their stage events)."""
    passages, seconds = 0, 0.0
    for job_id in job_ids:
        stages = {e.message.split(":")[0]: e.at for e in app.events(job_id) if e.kind == "stage"}
        if "Embedding" in stages and "Indexing" in stages:
            passages += len(app.store.list_passages(job_id))
            seconds += stages["Indexing"] - stages["Embedding"]
    return round(passages / seconds, 1) if seconds else None


def in_process_rate(texts: list[str]) -> float:
    from pipeline.profiles.retrieval.embedding import get_embedder

    embedder = get_embedder()
    embedder.embed(texts[:32])  # warm
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        embedder.embed(texts)
        rates.append(len(texts) / (time.perf_counter() - t0))
    return round(statistics.median(rates), 1)


def embedding_precision(documents: list[Any], passages: list[Any], texts: list[str]) -> dict[str, Any]:
    """fp32 against int8: rate on ``texts`` (timed in turns, so both see the same machine), and recall@5/MRR of
    every generated question over ``passages`` (searched exactly, as the index does) with each model."""
    import numpy as np

    from pipeline.core.settings import Settings
    from pipeline.profiles.retrieval.embedding import Embedder
    from pipeline.profiles.retrieval.passages import embedding_input

    settings = Settings.from_env()
    models = {precision: Embedder(threads=2, precision=precision, settings=settings) for precision in ("fp32", "int8")}
    for model in models.values():
        model.embed(texts[:32])  # warm
    # In turns of 64 passages (one worker task), so a neighbour's load on this shared machine falls on both alike.
    seconds = dict.fromkeys(models, 0.0)
    for _ in range(ROUNDS):
        for first in range(0, len(texts), 64):
            for precision, model in models.items():
                t0 = time.perf_counter()
                model.embed(texts[first : first + 64])
                seconds[precision] += time.perf_counter() - t0
    questions = [q for doc in documents for q in doc.questions]
    inputs = [embedding_input(p.text, p.headings) for p in passages]
    out: dict[str, Any] = {"passages_timed": len(texts) * ROUNDS, "threads": 2, "load_average_1m": os.getloadavg()[0]}
    vectors = {}
    for precision, model in models.items():
        matrix = model.embed(inputs)
        vectors[precision] = matrix
        scores = model.embed([q.question for q in questions]) @ matrix.T
        ranks = []
        for question, row in zip(questions, scores, strict=True):
            best = np.argsort(-row, kind="stable")[:5]
            answer = normalized(question.answer)
            ranks.append(
                next(
                    (
                        n
                        for n, i in enumerate(best, 1)
                        if passages[i].job_filename == question.filename and answer in normalized(passages[i].text)
                    ),
                    None,
                )
            )
        found = [r for r in ranks if r is not None]
        out[precision] = {
            "passages_per_s": round(len(texts) * ROUNDS / seconds[precision], 1),
            "recall_at_5": round(len(found) / len(ranks), 3),
            "mrr": round(sum(1 / r for r in found) / len(ranks), 3),
        }
    cosines = (vectors["fp32"] * vectors["int8"]).sum(axis=1)
    out["int8_speedup"] = round(out["int8"]["passages_per_s"] / out["fp32"]["passages_per_s"], 2)
    out["recall_at_5_change_points"] = round(100 * (out["int8"]["recall_at_5"] - out["fp32"]["recall_at_5"]), 1)
    out["cosine_int8_to_fp32_min"] = round(float(cosines.min()), 4)
    out["cosine_int8_to_fp32_mean"] = round(float(cosines.mean()), 4)
    return out


def add_filler_jobs(app: Any, count: int) -> None:
    """Completed retrieval jobs of random unit vectors, through the store's own steps (as a worker writes them)."""
    import numpy as np

    from pipeline.core.models import ChunkStatus, JobStatus, PassageRecord
    from pipeline.jobs.chunking import plan_chunks
    from pipeline.store import NewJob

    rng = np.random.default_rng(11)
    made = 0
    while made < count:
        n = min(FILLER_JOB_PASSAGES, count - made)
        job_id = f"filler-{made:06d}"
        new = NewJob(job_id, f"{job_id}.pdf", "pdf", "retrieval", "local", job_id, size_bytes=1, user="local", pages=1)
        app.store.create(new)
        app.store.start(job_id)
        app.store.plan_chunks(job_id, plan_chunks(1, 1, 0))
        app.store.claim_chunk(job_id, 0, "bench")
        app.store.finish_chunk(job_id, 0, ChunkStatus.DONE)
        text = "Filler paragraph about nothing in particular, kept to size the index. " * 6
        records = [PassageRecord(job_id, i, text, 0, len(text), (1,), (), 96) for i in range(n)]
        app.store.start_embedding(job_id, records)
        vectors = rng.standard_normal((n, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        app.store.save_vectors(job_id, [(i, vectors[i].tobytes()) for i in range(n)])
        app.store.finish(job_id, JobStatus.COMPLETED, "filler")
        made += n


def run(home: Path) -> dict[str, Any]:
    os.environ["PAPERLINE_HOME"] = str(home)
    from pipeline import Paperline

    app = Paperline()
    inputs = home / "inputs"
    inputs.mkdir()
    documents = make_documents(DOCUMENTS)
    worker, worker_log = start_worker_process(dict(os.environ), home / "worker.log", workers=2)
    try:
        t0 = time.monotonic()
        jobs = [app.submit(write_pdf(doc, inputs), profile="retrieval") for doc in documents]
        done = app.wait([job.id for job in jobs], timeout_s=900)
        log(f"{len(done)} documents extracted and indexed in {time.monotonic() - t0:.1f} s")
        assert {job.status.value for job in done} == {"completed"}, [job.error for job in done]
        # one long document: its embedding stage, spread over both worker processes, gives the worker's rate
        long_doc = app.submit(make_text_pdf(inputs / "long.pdf", LONG_PAGES), profile="retrieval")
        [long_doc] = app.wait([long_doc.id], timeout_s=900)
        worker_rate = worker_embedding_rate(app, [long_doc.id])
        peaks = group_peak_rss_mb(worker.pid)
        registers = make_identifier_documents(REGISTERS)
        register_jobs = [app.submit(write_pdf(doc, inputs), profile="retrieval") for doc in registers]
        indexed = app.wait([job.id for job in register_jobs], timeout_s=900)
        assert {job.status.value for job in indexed} == {"completed"}, [job.error for job in indexed]
    finally:
        stop_process(worker)
        worker_log.close()
    labelled = [p for job in done for p in app.store.list_passages(job.id)]
    out: dict[str, Any] = {"quality": quality(app, documents)}
    log(json.dumps(out["quality"]))
    out["quality_by_mode"] = quality_by_mode(app, documents, registers)
    log(json.dumps(out["quality_by_mode"]))
    from pipeline.profiles.retrieval.passages import embedding_input

    texts = [embedding_input(p.text, p.headings) for p in labelled]
    texts = (texts * (512 // len(texts) + 1))[:512]
    out["embedding"] = {
        "passages_per_s_in_process": in_process_rate(texts),
        "passages_per_s_in_worker": worker_rate,
        "worker_document_passages": len(app.store.list_passages(long_doc.id)),
        "mean_tokens_per_passage": round(statistics.mean(p.tokens for p in labelled), 1),
        "threads": 2,
        "precision": app.settings.embedding_precision,
    }
    log(json.dumps(out["embedding"]))
    filenames = {job.id: job.filename for job in done}
    named = [Labelled(filenames[p.job_id], p.text, p.headings) for p in labelled]
    out["embedding_precision"] = embedding_precision(documents, named, texts)
    log(json.dumps(out["embedding_precision"]))
    db = app.settings.store_path
    app.store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size_before = db.stat().st_size
    add_filler_jobs(app, TOTAL_PASSAGES - len(labelled))
    app.store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size_after = db.stat().st_size
    total = len(labelled) + (TOTAL_PASSAGES - len(labelled))
    t0 = time.perf_counter()
    app.search("warm up the index", top_k=5)
    load_s = time.perf_counter() - t0
    questions = [q.question for doc in documents for q in doc.questions][:QUERIES]
    latencies = []
    for question in questions:
        t0 = time.perf_counter()
        app.search(question, top_k=5)
        latencies.append((time.perf_counter() - t0) * 1000)
    quality_at_scale = quality(app, documents)
    out["search"] = {
        "passages": total,
        "first_search_loads_index_s": round(load_s, 2),
        "query_ms_p50": round(percentile(latencies, 0.5), 1),
        "query_ms_p95": round(percentile(latencies, 0.95), 1),
        "query_ms_worst": round(max(latencies), 1),
        "recall_at_5_among_50k": quality_at_scale["recall_at_5"],
    }
    log(json.dumps(out["search"]))
    out["index"] = {
        "vector_bytes_per_1000_passages": 1000 * 384 * 4,
        "database_bytes_per_1000_passages": round((size_after - size_before) / ((total - len(labelled)) / 1000)),
        "worker_peak_rss_mb": peaks,
    }
    app.close()
    return out


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="paperline-retrieval-") as home:
        print(json.dumps(run(Path(home)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
