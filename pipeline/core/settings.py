"""Settings read from the environment, so the worker, the dashboard, the CLI and notebooks agree.

Every knob is a ``PAPERLINE_*`` variable; ``Settings.from_env()`` is the single place that reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Where Paperline keeps its data and how it splits and extracts documents."""

    home: Path = Path("var")
    # PostgreSQL for the job store (and, without a queue URL, the queue): postgresql://user:pass@host:port/db
    database_url: str = ""
    # Job files in an S3-compatible bucket (s3://bucket/prefix) instead of PAPERLINE_HOME/jobs
    storage_url: str = ""
    # This host's copies of remote files (uploads the readers need on disk): at most this many megabytes
    cache_mb: int = 1024
    # Faults: a transient error of the job store, the object store or the queue (connection refused, timeout, 5xx,
    # throttling) is retried with backoff for this many seconds before a step gives up; the server's own calls to
    # the store give up after ``store_timeout_s`` (connect and wait for a connection) and answer 503.
    transient_retry_s: float = 120.0
    store_timeout_s: float = 5.0
    statement_timeout_s: float = 30.0
    queue_url: str = ""
    # Where analysts open the dashboard (comma-separated URLs): only pages from these may open its websocket.
    public_url: str = ""
    # Limits on every way in: files in one upload (page or API), and API requests a minute per user and per client
    # address (0: no limit; loopback addresses and the local user are not counted).
    max_files_per_upload: int = 50
    api_rate_per_minute: int = 600
    max_upload_mb: int = 200
    # Chunk plan: one chunk up to ``single_chunk_max_pages``, ``medium_chunk_pages``-page chunks up to
    # ``medium_max_pages``, ``large_chunk_pages``-page chunks beyond.
    single_chunk_max_pages: int = 30
    medium_max_pages: int = 100
    medium_chunk_pages: int = 20
    large_chunk_pages: int = 15
    overlap_pages: int = 1
    image_max_side: int = 2048
    webp_quality: int = 85
    # The pixel budget of every image Paperline holds: uploads with a larger frame are refused; page renders (OCR)
    # and previews are made at a lower resolution to fit, with a note. Pillow's own bomb limit is set from it too.
    max_image_pixels: int = 50_000_000
    # Budgets for every document: pages at most (refused at intake above it); each worker process's address space
    # in MB (0: no ceiling); the intake inspector subprocess's wall-clock limit and address space.
    max_pages: int = 5000
    worker_memory_mb: int = 4096
    intake_timeout_s: float = 30.0
    intake_memory_mb: int = 1024
    ocr_language: str = "eng"
    ocr_dpi: int = 300
    ocr_timeout_s: float = 120.0
    chunk_retries: int = 2
    retry_backoff_s: float = 1.0
    progress_interval_s: float = 0.5
    heartbeat_interval_s: float = 2.0
    worker_poll_max_delay_s: float = 0.1
    # Recovery: a running chunk whose heartbeat is older than this was lost with its worker and is requeued.
    stale_after_s: float = 15.0
    sweep_interval_s: float = 5.0
    stall_after_s: float = 30.0
    # A chunk running longer than this is stopped and retried like a transient error (0: no limit).
    chunk_time_limit_s: float = 900.0
    # A chunk (or a job's prepare, merge or embedding step) whose worker dies this many times is failed, not
    # requeued again: a poison pill (a page that crashes or exhausts the worker) ends instead of killing workers.
    chunk_attempts: int = 3
    # On SIGINT/SIGTERM a worker hands its running chunk back at the next page; a page still running after this
    # many seconds is interrupted (its chunk handed back too), so a stop takes this plus at most one page.
    shutdown_grace_s: float = 2.0
    # Retention: 0 means no limit. Over a limit, the files of the least recently used finished jobs are purged.
    max_jobs: int = 0
    max_storage_mb: int = 0
    # Users (with `panel serve --basic-auth` or OAuth): admins see every job; 0 means no per-user limit.
    admins: tuple[str, ...] = ()
    user_max_active_jobs: int = 0
    user_uploads_per_hour: int = 0
    # Per-user retention (0: none): a user's own least recently used finished jobs are purged first.
    user_max_jobs: int = 0
    user_max_storage_mb: int = 0
    # Who may sign in and hold API tokens (empty: anyone the sign-in lets in); admins are always allowed.
    users: tuple[str, ...] = ()
    # Claude engine: available when an API key is set; the SDK reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL.
    anthropic_api_key_set: bool = False
    model: str = "claude-sonnet-4-6"
    llm_concurrency: int = 5
    llm_max_retries: int = 4
    llm_stream_retries: int = 2
    llm_timeout_s: float = 600.0
    llm_max_tokens: int = 16000
    llm_image_max_side: int = 1568
    prices_json: str = ""
    # Retrieval profile: passages of at most this many model tokens, repeating this many when a section is cut by
    # size; each embedding task takes this many passages (tasks spread over workers like chunks).
    passage_tokens: int = 128
    passage_overlap_tokens: int = 16
    embed_batch_passages: int = 64

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).absolute())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("PAPERLINE_HOME") or "var").expanduser()
        return cls(
            home=home.absolute(),
            database_url=env.get("PAPERLINE_DATABASE_URL", "").strip(),
            storage_url=env.get("PAPERLINE_STORAGE_URL", "").strip(),
            cache_mb=_int(env, "PAPERLINE_CACHE_MB", cls.cache_mb),
            transient_retry_s=_float(env, "PAPERLINE_TRANSIENT_RETRY_S", cls.transient_retry_s),
            store_timeout_s=_float(env, "PAPERLINE_STORE_TIMEOUT_S", cls.store_timeout_s),
            statement_timeout_s=_float(env, "PAPERLINE_STATEMENT_TIMEOUT_S", cls.statement_timeout_s),
            queue_url=env.get("PAPERLINE_QUEUE_URL", "").strip(),
            public_url=env.get("PAPERLINE_PUBLIC_URL", "").strip(),
            max_files_per_upload=max(1, _int(env, "PAPERLINE_MAX_FILES_PER_UPLOAD", cls.max_files_per_upload)),
            api_rate_per_minute=_int(env, "PAPERLINE_API_RATE_PER_MINUTE", cls.api_rate_per_minute),
            max_upload_mb=_int(env, "PAPERLINE_MAX_UPLOAD_MB", cls.max_upload_mb),
            single_chunk_max_pages=_int(env, "PAPERLINE_SINGLE_CHUNK_MAX_PAGES", cls.single_chunk_max_pages),
            medium_max_pages=_int(env, "PAPERLINE_MEDIUM_MAX_PAGES", cls.medium_max_pages),
            medium_chunk_pages=_int(env, "PAPERLINE_MEDIUM_CHUNK_PAGES", cls.medium_chunk_pages),
            large_chunk_pages=_int(env, "PAPERLINE_LARGE_CHUNK_PAGES", cls.large_chunk_pages),
            overlap_pages=_int(env, "PAPERLINE_OVERLAP_PAGES", cls.overlap_pages),
            image_max_side=_int(env, "PAPERLINE_IMAGE_MAX_SIDE", cls.image_max_side),
            webp_quality=_int(env, "PAPERLINE_WEBP_QUALITY", cls.webp_quality),
            max_image_pixels=_int(env, "PAPERLINE_MAX_IMAGE_PIXELS", cls.max_image_pixels),
            max_pages=_int(env, "PAPERLINE_MAX_PAGES", cls.max_pages),
            worker_memory_mb=_int(env, "PAPERLINE_WORKER_MEMORY_MB", cls.worker_memory_mb),
            intake_timeout_s=_float(env, "PAPERLINE_INTAKE_TIMEOUT_S", cls.intake_timeout_s),
            intake_memory_mb=_int(env, "PAPERLINE_INTAKE_MEMORY_MB", cls.intake_memory_mb),
            ocr_language=env.get("PAPERLINE_OCR_LANG", "").strip() or cls.ocr_language,
            ocr_dpi=_int(env, "PAPERLINE_OCR_DPI", cls.ocr_dpi),
            ocr_timeout_s=_float(env, "PAPERLINE_OCR_TIMEOUT_S", cls.ocr_timeout_s),
            chunk_retries=_int(env, "PAPERLINE_CHUNK_RETRIES", cls.chunk_retries),
            retry_backoff_s=_float(env, "PAPERLINE_RETRY_BACKOFF_S", cls.retry_backoff_s),
            progress_interval_s=_float(env, "PAPERLINE_PROGRESS_INTERVAL_S", cls.progress_interval_s),
            heartbeat_interval_s=_float(env, "PAPERLINE_HEARTBEAT_INTERVAL_S", cls.heartbeat_interval_s),
            worker_poll_max_delay_s=_float(env, "PAPERLINE_WORKER_MAX_DELAY_S", cls.worker_poll_max_delay_s),
            stale_after_s=_float(env, "PAPERLINE_STALE_AFTER_S", cls.stale_after_s),
            sweep_interval_s=_float(env, "PAPERLINE_SWEEP_INTERVAL_S", cls.sweep_interval_s),
            stall_after_s=_float(env, "PAPERLINE_STALL_AFTER_S", cls.stall_after_s),
            chunk_time_limit_s=_float(env, "PAPERLINE_CHUNK_TIME_LIMIT_S", cls.chunk_time_limit_s),
            chunk_attempts=max(1, _int(env, "PAPERLINE_CHUNK_ATTEMPTS", cls.chunk_attempts)),
            shutdown_grace_s=_float(env, "PAPERLINE_SHUTDOWN_GRACE_S", cls.shutdown_grace_s),
            max_jobs=_int(env, "PAPERLINE_MAX_JOBS", cls.max_jobs),
            max_storage_mb=_int(env, "PAPERLINE_MAX_STORAGE_MB", cls.max_storage_mb),
            admins=tuple(name.strip() for name in env.get("PAPERLINE_ADMINS", "").split(",") if name.strip()),
            user_max_active_jobs=_int(env, "PAPERLINE_USER_MAX_ACTIVE_JOBS", cls.user_max_active_jobs),
            user_uploads_per_hour=_int(env, "PAPERLINE_USER_UPLOADS_PER_HOUR", cls.user_uploads_per_hour),
            user_max_jobs=_int(env, "PAPERLINE_USER_MAX_JOBS", cls.user_max_jobs),
            user_max_storage_mb=_int(env, "PAPERLINE_USER_MAX_STORAGE_MB", cls.user_max_storage_mb),
            users=tuple(name.strip() for name in env.get("PAPERLINE_USERS", "").split(",") if name.strip()),
            anthropic_api_key_set=bool(env.get("ANTHROPIC_API_KEY", "").strip()),
            model=env.get("PAPERLINE_MODEL", "").strip() or cls.model,
            llm_concurrency=max(1, _int(env, "PAPERLINE_LLM_CONCURRENCY", cls.llm_concurrency)),
            llm_max_retries=_int(env, "PAPERLINE_LLM_MAX_RETRIES", cls.llm_max_retries),
            llm_stream_retries=_int(env, "PAPERLINE_LLM_STREAM_RETRIES", cls.llm_stream_retries),
            llm_timeout_s=_float(env, "PAPERLINE_LLM_TIMEOUT_S", cls.llm_timeout_s),
            llm_max_tokens=_int(env, "PAPERLINE_LLM_MAX_TOKENS", cls.llm_max_tokens),
            llm_image_max_side=_int(env, "PAPERLINE_LLM_IMAGE_MAX_SIDE", cls.llm_image_max_side),
            prices_json=env.get("PAPERLINE_PRICES", "").strip(),
            passage_tokens=_int(env, "PAPERLINE_PASSAGE_TOKENS", cls.passage_tokens),
            passage_overlap_tokens=_int(env, "PAPERLINE_PASSAGE_OVERLAP_TOKENS", cls.passage_overlap_tokens),
            embed_batch_passages=max(1, _int(env, "PAPERLINE_EMBED_BATCH_PASSAGES", cls.embed_batch_passages)),
        )

    def with_home(self, home: Path | str) -> Settings:
        return replace(self, home=Path(home).absolute())

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

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
