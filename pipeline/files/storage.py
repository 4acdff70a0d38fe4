"""Where job files live: a directory on this host (the default), or an S3-compatible bucket every host shares.

Keys are ``<job_id>/<name>`` (``source.pdf``, ``chunks/00003.json``, ``result.md``, ...). The local backend keeps
them under ``PAPERLINE_HOME/jobs``; the S3 backend under ``s3://bucket/prefix/``, reached the way AWS tools are
configured (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, and ``AWS_ENDPOINT_URL`` for an
S3-compatible server such as SeaweedFS or MinIO). boto3 is the client: it streams uploads in parts and reads those
variables itself. Its own retries (standard mode, a few attempts within seconds) cover a dropped request; an object
store that is down or throttling for longer is waited out by ``pipeline.core.transient`` for
``PAPERLINE_TRANSIENT_RETRY_S`` before an operation fails, while a missing object or refused credentials fail at once.
"""

from __future__ import annotations

import abc
import os
import shutil
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from pipeline.core import transient
from pipeline.core.errors import PaperlineError
from pipeline.core.settings import Settings

COPY_BLOCK = 1024 * 1024
# boto3's client: a few quick attempts of its own (standard mode: connection errors, 5xx, throttling), and timeouts
# so a server that stopped answering is an error within seconds rather than a hang.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
CLIENT_ATTEMPTS = 3


# S3 error codes that mean "slow down" or "the server had a problem": the request itself was fine.
TRANSIENT_S3_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequests",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalError",
        "InternalServerError",
        "503",
        "500",
        "502",
        "504",
    }
)


def _s3_trouble(exc: BaseException) -> bool:
    """botocore's connection errors and time-outs, and the answers that say "slow down" or "server trouble"
    (botocore is imported only once one of its errors is seen: it is an extra)."""
    if not type(exc).__module__.startswith(("botocore", "boto3", "s3transfer")):
        return False
    import botocore.exceptions as boto

    if isinstance(exc, (boto.ConnectionError, boto.HTTPClientError)):
        return True  # EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError
    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return str(error.get("Code", "")) in TRANSIENT_S3_CODES or status >= 500 or status == 429
    return False


transient.register(transient.OBJECT_STORE, _s3_trouble)


class StorageUnavailable(PaperlineError, code="storage_unavailable"):
    """The configured file storage cannot be used (unreachable, no such bucket, refused credentials)."""


class _Hashing:
    """A file-like reader that hashes and counts what passes through it (for streamed uploads)."""

    def __init__(self, source: IO[bytes]) -> None:
        import hashlib  # (imported by what writes files, not by every command that opens a storage)

        self.source, self.digest, self.size = source, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        block = self.source.read(size)
        self.digest.update(block)
        self.size += len(block)
        return block


class FileStorage(abc.ABC):
    """Job files by key; every write replaces the whole object at once (a reader never sees half a file)."""

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None: ...

    @abc.abstractmethod
    def put_stream(self, key: str, stream: IO[bytes]) -> tuple[int, str]:
        """Store a stream without holding it in memory; returns its size and sha256."""

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""

    @abc.abstractmethod
    def sizes(self, prefix: str) -> dict[str, int]:
        """Every key under ``prefix`` and its size in bytes."""

    @abc.abstractmethod
    def delete_prefix(self, prefix: str) -> None: ...

    @abc.abstractmethod
    def download(self, key: str, dest: Path) -> bool:
        """Copy an object to a local file; False when there is none."""

    def local_path(self, key: str) -> Path | None:
        """The object as a file on this host, where the storage is a directory (None for remote storage)."""
        return None

    def check(self) -> None:  # noqa: B027  (nothing to check for most storage)
        """Raise ``StorageUnavailable`` with a plain reason when the storage cannot be used."""


class LocalStorage(FileStorage):
    """Keys as files under one directory (``PAPERLINE_HOME/jobs``), written to a temporary name and renamed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)  # mkstemp makes files private; job files are shared like any other
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_stream(self, key: str, stream: IO[bytes]) -> tuple[int, str]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        reader = _Hashing(stream)
        with path.open("wb") as out:
            while block := reader.read(COPY_BLOCK):
                out.write(block)
        return reader.size, reader.digest.hexdigest()

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def sizes(self, prefix: str) -> dict[str, int]:
        base = self._path(prefix)
        if not base.exists():
            return {}
        return {
            str(path.relative_to(self.root)): path.stat().st_size
            for path in base.rglob("*")
            if path.is_file() and not path.name.endswith(".tmp")
        }

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix), ignore_errors=True)

    def download(self, key: str, dest: Path) -> bool:
        path = self._path(key)
        if not path.is_file():
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        return True

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


class S3Storage(FileStorage):
    """Keys as objects under ``s3://bucket/prefix/``, shared by every host."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None, *, retry_s: float = 120.0) -> None:
        """``retry_s``: how long a transient fault (unreachable, timeout, 5xx, throttling) is retried."""
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._client = client
        self.retry_s = retry_s

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": CLIENT_ATTEMPTS},
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=READ_TIMEOUT_S,
            )
            self._client = boto3.client("s3", config=config)
        return self._client

    def _retrying(self, operation: Any, what: str) -> Any:
        return transient.retrying(operation, budget_s=self.retry_s, service=transient.OBJECT_STORE, what=what)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_bytes(self, key: str, data: bytes) -> None:
        self._retrying(lambda: self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data), key)

    def put_stream(self, key: str, stream: IO[bytes]) -> tuple[int, str]:
        start = stream.tell() if stream.seekable() else None

        def upload() -> tuple[int, str]:
            if start is not None:
                stream.seek(start)  # a retry sends the whole stream again
            reader = _Hashing(stream)
            self.client.upload_fileobj(reader, self.bucket, self._key(key))  # multipart, a part in memory at a time
            return reader.size, reader.digest.hexdigest()

        if start is None:  # a stream read once cannot be sent again
            return upload()
        return self._retrying(upload, key)

    def get_bytes(self, key: str) -> bytes | None:
        def get() -> bytes | None:
            try:
                return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
            except self.client.exceptions.NoSuchKey:
                return None

        return self._retrying(get, key)

    def _objects(self, prefix: str) -> list[dict[str, Any]]:
        def listing() -> list[dict[str, Any]]:
            paginator = self.client.get_paginator("list_objects_v2")
            pages = paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix))
            return [item for page in pages for item in page.get("Contents", [])]

        return self._retrying(listing, prefix)

    def sizes(self, prefix: str) -> dict[str, int]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        return {item["Key"][strip:]: int(item["Size"]) for item in self._objects(prefix)}

    def delete_prefix(self, prefix: str) -> None:
        keys = [{"Key": item["Key"]} for item in self._objects(prefix)]
        for start in range(0, len(keys), 1000):
            batch = {"Objects": keys[start : start + 1000]}
            self._retrying(lambda batch=batch: self.client.delete_objects(Bucket=self.bucket, Delete=batch), prefix)

    def download(self, key: str, dest: Path) -> bool:
        tmp = dest.with_name(f".{dest.name}.part")

        def fetch() -> bool:
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)  # a full disk is waited out like the network
                self.client.download_file(self.bucket, self._key(key), str(tmp))
            except Exception as exc:  # botocore's ClientError for 404
                tmp.unlink(missing_ok=True)
                if not transient.is_transient(exc) and ("404" in str(exc) or "Not Found" in str(exc)):
                    return False
                raise
            return True

        if not self._retrying(fetch, key):
            return False
        os.replace(tmp, dest)
        return True

    def check(self) -> None:
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "AWS")
        try:
            self.client.head_bucket(Bucket=self.bucket)  # one try (and boto3's own few): a health check must be quick
        except Exception as exc:
            raise StorageUnavailable(
                f"The file storage s3://{self.bucket}/{self.prefix} at {endpoint} cannot be used: {exc}. Check "
                "PAPERLINE_STORAGE_URL, AWS_ENDPOINT_URL and the AWS credentials, and that the bucket exists."
            ) from exc


def open_storage(settings: Settings) -> FileStorage:
    """The file storage for these settings: ``PAPERLINE_STORAGE_URL=s3://bucket/prefix``, else the data directory."""
    if not settings.storage_url:
        return LocalStorage(settings.jobs_dir)
    parts = urlsplit(settings.storage_url)
    if parts.scheme != "s3" or not parts.netloc:
        shown = settings.storage_url
        raise StorageUnavailable(f"PAPERLINE_STORAGE_URL must look like s3://bucket/prefix, not {shown!r}")
    return S3Storage(parts.netloc, parts.path, retry_s=settings.transient_retry_s)
