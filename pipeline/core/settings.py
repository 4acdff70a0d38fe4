"""Settings read from the environment, so the worker, the dashboard, the CLI and notebooks agree.

Every knob is declared once, as a field of ``Settings``: its name, type, default and meaning (``setting(...)``).
Its environment variable is ``PAPERLINE_`` + the upper-cased name unless the field names another, and
``Settings.from_env()`` is the single place that reads them. ``SETTINGS`` lists them for ``scripts/settings_doc.py``,
which writes docs/operators/configuration.md from it (``tests/unit/test_settings.py`` fails while that page is stale).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

T = TypeVar("T")


def setting(
    default: T,
    help: str,
    *,
    variable: str = "",
    parse: Callable[[str], T] | None = None,
    minimum: int | None = None,
) -> T:
    """A field of ``Settings``: ``variable`` when the environment name is not ``PAPERLINE_<NAME>``, ``parse`` when
    the type's own reading does not fit, ``minimum`` to raise smaller values to it (a count that must be >= 1)."""
    metadata = {"help": help, "variable": variable, "parse": parse, "minimum": minimum}
    return field(default=default, metadata=metadata)


def _names(raw: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def _flag(raw: str) -> bool:
    """A yes/no variable: 1, true, yes, on (any case) mean yes; 0, false, no, off mean no."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _precision(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("int8", "fp32"):
        raise ValueError(raw)
    return value


def _ports(raw: str) -> tuple[int, ...]:
    ports = tuple(int(name) for name in _names(raw))
    if any(not 0 < port < 65536 for port in ports):
        raise ValueError(raw)
    return ports


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


# How a value of each type is read, and what a value that does not read is told it must be.
_READERS: dict[object, tuple[Callable[[str], Any], str]] = {
    int: (int, "a whole number"),
    float: (float, "a number"),
    str: (str, "text"),
    Path: (_path, "a path"),
    tuple[str, ...]: (_names, "comma-separated names"),
}


@dataclass(frozen=True)
class Settings:
    """Where Paperline keeps its data and how it splits and extracts documents."""

    # (noqa: a Path is immutable, so one default shared by every instance is safe; the linter cannot tell.)
    home: Path = setting(Path("var"), "data directory: SQLite job store and queue, job files, caches")  # noqa: RUF009
    database_url: str = setting(
        "", "PostgreSQL for the job store (and, without a queue URL, the queue): postgresql://user:pass@host:port/db"
    )
    storage_url: str = setting("", "job files in an S3-compatible bucket (s3://bucket/prefix), not PAPERLINE_HOME/jobs")
    cache_mb: int = setting(1024, "this host's copies of remote files (uploads the readers need on disk), in MB")
    # Faults: a transient error of the job store, the object store or the queue (connection refused, timeout, 5xx,
    # throttling) is retried with backoff for ``transient_retry_s`` before a step gives up; the server's own calls
    # to the store give up after ``store_timeout_s`` (connect and wait for a connection) and answer 503.
    transient_retry_s: float = setting(120.0, "how long a transient fault of a service is waited out")
    store_timeout_s: float = setting(5.0, "PostgreSQL connect and pool wait of the server before it answers 503")
    statement_timeout_s: float = setting(30.0, "PostgreSQL statement_timeout (0: none)")
    queue_url: str = setting("", "redis://host:port/db to share the queue between machines")
    public_url: str = setting(
        "", "comma-separated URLs analysts open the dashboard at: only pages from these may open its websocket"
    )
    # Limits on every way in (0: no limit; loopback addresses and the local user are not counted by the rate).
    max_files_per_upload: int = setting(50, "files in one upload (page or API)", minimum=1)
    api_rate_per_minute: int = setting(600, "API requests a minute per user and per client address (0: no limit)")
    max_upload_mb: int = setting(200, "largest accepted file, in MB")
    api_heartbeat_s: float = setting(15.0, "a comment line this often keeps proxies from closing a quiet event stream")
    # Chunk plan: one chunk up to ``single_chunk_max_pages``, ``medium_chunk_pages``-page chunks up to
    # ``medium_max_pages``, ``large_chunk_pages``-page chunks beyond.
    single_chunk_max_pages: int = setting(30, "documents up to this many pages are one chunk")
    medium_max_pages: int = setting(100, "documents up to this many pages get medium chunks")
    medium_chunk_pages: int = setting(20, "pages in a medium chunk")
    large_chunk_pages: int = setting(15, "pages in a chunk of a larger document")
    overlap_pages: int = setting(1, "context pages either side of a chunk (for engines that read context)")
    image_max_side: int = setting(2048, "longest side of a compressed page preview, in pixels")
    webp_quality: int = setting(85, "WebP quality of compressed previews")
    # The pixel budget of every image Paperline holds: uploads with a larger frame are refused; page renders (OCR)
    # and previews are made at a lower resolution to fit, with a note. Pillow's own bomb limit is set from it too.
    max_image_pixels: int = setting(50_000_000, "pixel budget of every image decoded or rendered")
    # Budgets for every document: the intake inspector subprocess's wall-clock limit and address space.
    max_pages: int = setting(5000, "pages per document (PDF pages, TIFF frames); more are refused at intake")
    worker_memory_mb: int = setting(4096, "address-space ceiling of each worker process, in MB (0: none)")
    intake_timeout_s: float = setting(30.0, "wall-clock limit of the subprocess that opens each upload at intake")
    intake_memory_mb: int = setting(1024, "address space of the subprocess that opens each upload, in MB")
    ocr_language: str = setting("eng", "Tesseract language", variable="PAPERLINE_OCR_LANG")
    ocr_dpi: int = setting(300, "resolution pages are rendered at for OCR")
    ocr_timeout_s: float = setting(120.0, "longest Tesseract may take over one page")
    tesseract: str = setting("tesseract", "the Tesseract program (a name on PATH or a path)")
    better_ocr: str = setting(
        "auto",
        "RapidOCR (the 'ocr' extra) reads a scanned page again: 'auto' where Tesseract is unsure, 'always', 'off'",
    )
    ocr_confidence: float = setting(88.0, "Tesseract's mean word confidence (0-100) below which it is unsure")
    plugins: tuple[str, ...] = setting((), "comma-separated Python modules imported at start that register profiles")
    chunk_retries: int = setting(2, "automatic retries of a chunk that raised an error or ran over its time limit")
    retry_backoff_s: float = setting(1.0, "first wait before such a retry (doubling)")
    progress_interval_s: float = setting(0.5, "a running chunk writes its progress at most this often")
    heartbeat_interval_s: float = setting(2.0, "a worker process tells the store it is alive this often")
    worker_poll_max_delay_s: float = setting(
        0.1, "longest idle poll of the queue (keeps pick-up fast)", variable="PAPERLINE_WORKER_MAX_DELAY_S"
    )
    # Recovery: a running chunk whose heartbeat is older than ``stale_after_s`` was lost with its worker and is
    # requeued; a poison pill (a page that crashes or exhausts the worker) ends after ``chunk_attempts``.
    stale_after_s: float = setting(15.0, "a running chunk with no heartbeat for this long is requeued")
    sweep_interval_s: float = setting(5.0, "each worker looks for lost work this often")
    stall_after_s: float = setting(30.0, "a running job with no sign of life for this long is shown as stalled")
    chunk_time_limit_s: float = setting(900.0, "a chunk running longer is stopped and retried (0: no limit)")
    chunk_attempts: int = setting(
        3, "a chunk (or prepare, merge, embedding step) whose worker dies this many times fails", minimum=1
    )
    # On SIGINT/SIGTERM a worker hands its running chunk back at the next page; a page still running after
    # ``shutdown_grace_s`` is interrupted (its chunk handed back too), so a stop takes this plus at most one page.
    shutdown_grace_s: float = setting(2.0, "longest a stopping worker waits for its running page")
    metrics_port: int = setting(0, "port of this host's Prometheus /metrics for `paperline worker` (0: none)")
    # The result cache answers a document extracted before (same bytes, profile and engine) from that result: across
    # users by default (the new job copies it and names no one); per user when off, so a fast answer tells nothing.
    share_cache: bool = setting(
        True, "answer an upload from another user's identical earlier job (0: only from the user's own)", parse=_flag
    )
    # Retention: over a limit, the files of the least recently used finished jobs are purged.
    max_jobs: int = setting(0, "finished jobs whose files are kept (0: no limit)")
    max_storage_mb: int = setting(0, "MB of job files kept (0: no limit)")
    # Users (with `panel serve --basic-auth` or OAuth): admins see every job.
    admins: tuple[str, ...] = setting((), "comma-separated users who see every job")
    user_max_active_jobs: int = setting(0, "jobs queued or running at once per user (0: no limit)")
    user_uploads_per_hour: int = setting(0, "uploads per user and hour (0: no limit)")
    # Per-user retention: a user's own least recently used finished jobs are purged first.
    user_max_jobs: int = setting(0, "finished jobs kept per user (0: no limit)")
    user_max_storage_mb: int = setting(0, "MB of job files kept per user (0: no limit)")
    users: tuple[str, ...] = setting(
        (), "comma-separated users who may sign in and hold API tokens (empty: anyone the sign-in lets in)"
    )
    user: str = setting("", "the user the command line acts as without --user (empty: the local user)")
    # Claude engine: available when an API key is set; the SDK reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL.
    anthropic_api_key_set: bool = setting(
        False, "whether the claude engine has an API key", variable="ANTHROPIC_API_KEY", parse=bool
    )
    model: str = setting("claude-sonnet-4-6", "Claude model")
    llm_concurrency: int = setting(5, "Claude requests in flight across every worker", minimum=1)
    llm_max_retries: int = setting(4, "the SDK's retries of a failed request")
    llm_stream_retries: int = setting(2, "restarts of a request whose stream broke")
    llm_timeout_s: float = setting(600.0, "longest a Claude request may take")
    llm_max_tokens: int = setting(16000, "output tokens per Claude request")
    llm_image_max_side: int = setting(1568, "longest side of a page image sent to Claude, in pixels")
    prices_json: str = setting("", "JSON price table for cost estimates (empty: built in)", variable="PAPERLINE_PRICES")
    # Asking the documents: Claude answers from the ``ask_passages`` passages search finds, within a daily budget.
    ask_passages: int = setting(8, "passages retrieved for each question and sent to Claude", minimum=1)
    ask_max_tokens: int = setting(2048, "output tokens of one answer")
    ask_budget_usd: float = setting(0.0, "estimated USD each user may spend on answers per day (0: no limit)")
    ask_concurrency_per_user: int = setting(2, "answers one user may have under way at once", minimum=1)
    # Retrieval profile: passages of at most ``passage_tokens`` model tokens, repeating ``passage_overlap_tokens``
    # when a section is cut by size; each embedding task takes ``embed_batch_passages`` (spread like chunks).
    passage_tokens: int = setting(128, "model tokens per passage at most")
    passage_overlap_tokens: int = setting(16, "tokens repeated when a section is cut by size")
    embed_batch_passages: int = setting(64, "passages per embedding task", minimum=1)
    embed_threads: int = setting(2, "threads of one process's embedding model", minimum=1)
    # int8: the model's weights quantized by ONNX Runtime (made once, cached in ``models_dir``); fp32: as published.
    embedding_precision: str = setting("int8", "embedding model precision: int8 (faster) or fp32", parse=_precision)
    models_dir: str = setting("", "where models made from the installed ones are cached (empty: PAPERLINE_HOME/models)")
    # Webhooks: every worker process sends due deliveries, ``webhook_concurrency`` at a time, each POST bounded by
    # ``webhook_timeout_s``; a failed one is retried after ``webhook_retry_first_s`` (doubling up to
    # ``webhook_retry_max_s``, with jitter) until ``webhook_retry_for_s`` after the event, then it has failed.
    webhook_allow_private: bool = setting(
        False,
        "allow webhooks to loopback, link-local and private addresses (1: yes; for tests and closed networks)",
        parse=_flag,
    )
    webhook_allow_ports: tuple[int, ...] = setting(
        (), "comma-separated ports webhooks may use besides 80, 443 and 1024-65535", parse=_ports
    )
    webhook_timeout_s: float = setting(10.0, "longest one webhook delivery may take, all of it (connect to last byte)")
    webhook_concurrency: int = setting(4, "webhook deliveries each worker process sends at once", minimum=1)
    webhook_user_concurrency: int = setting(
        2, "webhook deliveries of one user in flight at once, across every worker", minimum=1
    )
    webhook_max_per_user: int = setting(25, "webhook subscriptions one user may have", minimum=1)
    webhook_max_pending_per_user: int = setting(
        10_000, "webhook deliveries of one user waiting to be sent; an event past it is recorded as not sent", minimum=1
    )
    webhook_poll_s: float = setting(0.2, "each worker process looks for due webhook deliveries this often")
    webhook_retry_first_s: float = setting(5.0, "wait before a failed webhook delivery's first retry (doubling)")
    webhook_retry_max_s: float = setting(3 * 3600.0, "longest wait between two tries of a webhook delivery")
    webhook_retry_for_s: float = setting(86400.0, "how long after its event a webhook delivery is retried")

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).absolute())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Every setting from its variable in ``env`` (the process environment by default); an unset or blank
        variable leaves the default."""
        env = os.environ if env is None else env
        return cls(**{knob.name: knob.read(env) for knob in SETTINGS})

    def with_home(self, home: Path | str) -> Settings:
        return replace(self, home=Path(home).absolute())

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def public_urls(self) -> tuple[str, ...]:
        return _names(self.public_url)

    @property
    def store_path(self) -> Path:
        return self.home / "jobs.db"

    @property
    def queue_path(self) -> Path:
        return self.home / "queue.db"

    @property
    def llm_slots_dir(self) -> Path:
        return self.home / "llm-slots"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def models_path(self) -> Path:
        return Path(self.models_dir).expanduser().absolute() if self.models_dir else self.home / "models"


@dataclass(frozen=True)
class Setting:
    """One field of ``Settings`` as the environment sees it."""

    name: str
    variable: str
    type: object
    default: Any
    help: str
    parse: Callable[[str], Any]
    expected: str
    minimum: int | None

    def read(self, env: Mapping[str, str]) -> Any:
        raw = env.get(self.variable, "").strip()
        if not raw:
            return self.default
        try:
            value = self.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{self.variable} must be {self.expected}, got {raw!r}") from exc
        return value if self.minimum is None else max(self.minimum, value)


def _table() -> tuple[Setting, ...]:
    types = get_type_hints(Settings)
    table = []
    for spec in fields(Settings):
        kind = types[spec.name]
        if kind not in _READERS and spec.metadata["parse"] is None:
            raise TypeError(f"Settings.{spec.name}: no reader for {kind}; give setting(..., parse=...)")
        reader, expected = _READERS.get(kind, (spec.metadata["parse"], "a value"))
        table.append(
            Setting(
                name=spec.name,
                variable=spec.metadata["variable"] or f"PAPERLINE_{spec.name.upper()}",
                type=kind,
                default=spec.default,
                help=spec.metadata["help"],
                parse=spec.metadata["parse"] or reader,
                expected=expected,
                minimum=spec.metadata["minimum"],
            )
        )
    return tuple(table)


SETTINGS = _table()
