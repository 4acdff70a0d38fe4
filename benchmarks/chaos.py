"""Benchmark Paperline under infrastructure faults: a row per fault injected mid-batch on PostgreSQL + SeaweedFS with
two worker processes and a real ``paperline serve`` (the rig of ``tests/chaos``, ``tests/chaos/rig.py``).

Each row: the fault, jobs in the batch, how many completed, failed or were still not ended after the bounded wait
(stuck), seconds from the end of the fault until a chunk was done again (recovery_s) and until the batch ended,
what a client polling ``GET /api/v1/jobs`` and ``/api/v1/health`` meanwhile got (answers by status, the slowest,
and how many were not 2xx or a 503 with Retry-After), jobs whose text differs from a fault-free run, chunks finished
twice, and the waiting / recovered / retried events the jobs recorded.

Run as root (the full-disk fault mounts a tmpfs): .venv/bin/python benchmarks/chaos.py [fault ...]
(prints one JSON object to stdout, logs to stderr)
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so that tests.* imports

from tests.chaos.rig import CLIENT_BOUND_S, DOCUMENTS, FAULT_SECONDS, PAGES, STORE_TIMEOUT_S, Rig  # noqa: E402


def main(faults: list[str]) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="paperline-chaos-"))
    rig = Rig(root)
    rows = []
    started = time.monotonic()
    try:
        rig.start()
        print(f"rig up after {time.monotonic() - started:.0f} s", file=sys.stderr)
        for fault in faults:
            outcome = rig.run(fault)
            rows.append(outcome.row())
            print(f"{fault}: {json.dumps(outcome.row())}", file=sys.stderr)
            for bad in [*outcome.bad_answers[:5], *outcome.wrong_text[:5]]:
                print(f"  {bad}", file=sys.stderr)
    finally:
        rig.stop()
        shutil.rmtree(root, ignore_errors=True)
    return {
        "benchmark": "chaos",
        "machine": platform.platform(),
        "documents_per_batch": DOCUMENTS,
        "pages_per_document": PAGES,
        "fault_seconds": {fault: FAULT_SECONDS[fault] for fault in faults},
        "store_timeout_s": STORE_TIMEOUT_S,
        "client_bound_s": CLIENT_BOUND_S,
        "total_s": round(time.monotonic() - started, 1),
        "rows": rows,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:] or list(FAULT_SECONDS)), indent=2))
