"""Intake's look inside an upload, in a short-lived subprocess: PDFium and Pillow never run in the server.

A crafted or damaged file can crash a native reader, exhaust memory or spin; in the dashboard or API process that
would take every session down. ``inspect_document`` runs ``python -m pipeline.documents.inspection`` per upload,
with an address-space and CPU-time limit it sets on itself before importing any reader, and a wall-clock timeout;
the child prints one JSON line: the page count (and a PDF's metadata), or the refusal's error code and message, which
the parent raises again as the same ``DocumentRejected`` subclass with the same words. A crash, a timeout or
memory exhaustion refuses that upload with ``ReaderFailed`` and the server carries on.

This module imports only the standard library and Paperline's messages and errors at the top, so a child starts
in about the time Python and the one reader it needs take to load.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core import messages
from pipeline.core.errors import DocumentRejected, ReaderFailed, UnreadableDocument, error_of_code

# The directory holding the ``pipeline`` package this process runs, for the child's import path: the same code,
# whatever the server's working directory.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
# The child's budget for an unexpected traceback on stderr, kept for the server's log.
STDERR_TAIL = 2000


@dataclass(frozen=True)
class Inspection:
    """What the inspector learnt: pages, and what the file says of itself (a PDF's title, author, producer)."""

    pages: int
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """What one inspection may use: its wall-clock time, its address space, and the document's budgets."""

    timeout_s: float
    memory_mb: int
    max_pixels: int
    max_pages: int


def inspect_document(pdf: bool, path: Path, limits: Limits) -> Inspection:
    """Count a stored upload's pages in a subprocess, or raise the ``DocumentRejected`` error that says why not."""
    import subprocess  # the parent's alone: the child never pays for it

    argv = [
        sys.executable,
        "-m",
        "pipeline.documents.inspection",
        "pdf" if pdf else "image",
        str(path),
        str(limits.max_pixels),
        str(limits.max_pages),
        str(limits.memory_mb),
        str(limits.timeout_s),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=limits.timeout_s, env=env, stdin=subprocess.DEVNULL, check=False
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        raise ReaderFailed(messages.reader_failed(pdf, messages.reader_took_too_long(limits.timeout_s))) from exc
    answer = child_answer(done.stdout)
    if done.returncode != 0 or answer is None:
        raise ReaderFailed(messages.reader_failed(pdf, why_it_ended(done.returncode, limits)))
    if "refused" in answer:
        kind = error_of_code(str(answer["refused"]))
        refused = kind if kind is not None and issubclass(kind, DocumentRejected) else UnreadableDocument
        raise refused(str(answer["message"]))
    if "failed" in answer:
        why = str(answer["failed"])
        if why == "memory":
            why = messages.reader_out_of_memory(limits.memory_mb)
        raise ReaderFailed(messages.reader_failed(pdf, why))
    return Inspection(pages=int(answer["pages"]), meta={str(k): str(v) for k, v in answer.get("meta", {}).items()})


def child_answer(stdout: bytes) -> dict | None:
    """The child's JSON line (its last line: a library may print before it), or None."""
    lines = stdout.decode("utf-8", "replace").strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def why_it_ended(returncode: int, limits: Limits) -> str:
    """The plain reason a child ended without an answer: its CPU limit (SIGXCPU), a crash (another signal), or an
    exit with no answer (a native abort can end that way too)."""
    if returncode < 0:
        number = -returncode
        if number == signal.SIGXCPU:
            return messages.reader_took_too_long(limits.timeout_s)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return messages.reader_crashed(name)
    return messages.reader_crashed(f"exit status {returncode}")


# -- the child ------------------------------------------------------------------------------------------------------
def limit_self(memory_mb: int, cpu_s: float) -> None:
    """Limits of this (child) process, set before any reader is imported: address space, CPU seconds, no core
    file. Where ``resource`` is missing (not POSIX) the timeout alone guards."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    wanted = [(resource.RLIMIT_CORE, 0)]
    if memory_mb > 0:
        wanted.append((resource.RLIMIT_AS, memory_mb * 2**20))
    if cpu_s > 0:
        wanted.append((resource.RLIMIT_CPU, int(cpu_s) + 1))
    for which, value in wanted:
        _soft, hard = resource.getrlimit(which)
        resource.setrlimit(which, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


def inspect_here(pdf: bool, path: Path, max_pixels: int, max_pages: int) -> dict:
    """The answer for one file, in this process: what the parent reads back (see ``inspect_document``)."""
    try:
        if pdf:
            from pipeline.documents.pdf import inspect_pdf

            info = inspect_pdf(path, max_pages)
            meta = {"title": info.title, "author": info.author, "producer": info.producer}
            return {"pages": info.pages, "meta": {k: v for k, v in meta.items() if v}}
        from pipeline.documents.images import apply_pixel_budget, inspect_image

        apply_pixel_budget(max_pixels)
        image = inspect_image(path, max_pixels, max_pages)
        return {"pages": image.pages, "meta": {"format": image.format}}
    except DocumentRejected as exc:
        return {"refused": exc.code, "message": str(exc)}
    except MemoryError:
        return {"failed": "memory"}


def reply(answer: dict) -> int:
    """The child's answer to its parent: one JSON line on stdout (``child_answer`` reads it); the exit status 0."""
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


def main(argv: list[str]) -> int:
    kind, path, max_pixels, max_pages, memory_mb, timeout_s = argv
    limit_self(int(memory_mb), float(timeout_s))
    try:
        answer = inspect_here(kind == "pdf", Path(path), int(max_pixels), int(max_pages))
    except Exception as exc:  # a reader's own bug on this file: the upload is refused, the parent says why
        print(f"{type(exc).__name__}: {exc}"[:STDERR_TAIL], file=sys.stderr)
        answer = {"failed": messages.reader_crashed(type(exc).__name__)}
    return reply(answer)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
