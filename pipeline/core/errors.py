"""Errors with messages meant for the analyst: they are shown in the UI and CLI and recorded on the job.

Each error class names a stable ``code`` (``class TooManyPages(DocumentRejected, code="too_many_pages")``): the code,
never the class name, is what is stored on a job and what the HTTP API maps to a status, so renaming or moving a
class changes nothing a client or an old job sees. ``ERRORS`` is the registry of codes; a code is never reused.
"""

from __future__ import annotations

from typing import ClassVar

#: code -> error class, filled as each class is defined (here and in the modules that define their own)
ERRORS: dict[str, type[PaperlineError]] = {}


class PaperlineError(Exception):
    """Base of Paperline's own errors. A subclass must name its code: ``class X(PaperlineError, code="x")``."""

    code: ClassVar[str] = "error"

    def __init_subclass__(cls, *, code: str, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not code or code != code.lower() or not code.replace("_", "").isalnum():
            raise TypeError(f"{cls.__name__}: an error code is lower-case letters, digits and '_', not {code!r}")
        if code in ERRORS:
            raise TypeError(f"{cls.__name__}: error code {code!r} is already {ERRORS[code].__name__}'s")
        cls.code = code
        ERRORS[code] = cls


ERRORS[PaperlineError.code] = PaperlineError


class DocumentRejected(PaperlineError, code="document_rejected"):
    """The document itself is the problem (wrong type, empty, too large, encrypted, corrupt): never retried."""


class UnsupportedType(DocumentRejected, code="unsupported_type"):
    pass


class EmptyDocument(DocumentRejected, code="empty_document"):
    pass


class DocumentTooLarge(DocumentRejected, code="document_too_large"):
    pass


class PasswordProtected(DocumentRejected, code="password_protected"):
    pass


class UnreadableDocument(DocumentRejected, code="unreadable_document"):
    pass


class ImageTooLarge(DocumentRejected, code="image_too_large"):
    """More pixels than the configured limit: refused before decoding, as a decompression-bomb guard."""


class TooManyPages(DocumentRejected, code="too_many_pages"):
    """More pages (PDF pages, TIFF frames) than ``PAPERLINE_MAX_PAGES``: refused at intake."""


class ReaderFailed(UnreadableDocument, code="reader_failed"):
    """The PDF or image reader crashed, ran out of its memory or time on this file (in the intake subprocess)."""


class LimitReached(DocumentRejected, code="limit_reached"):
    """The user is over a per-user limit (jobs at once, uploads per hour); the file is not kept."""


class UserRefused(PaperlineError, code="user_refused"):
    """A sign-in or token names a user who may not act: a reserved name (``local``, ``None``, control
    characters...) or one no longer in ``PAPERLINE_USERS``."""


class TokenRefused(PaperlineError, code="token_refused"):
    """An API token that does not work (unknown, revoked, expired, or its user may no longer act): a 401."""


class OcrUnavailable(PaperlineError, code="ocr_unavailable"):
    """Tesseract is not installed; pages needing OCR are left empty with a note saying how to install it."""


class JobNotFound(PaperlineError, code="job_not_found"):
    pass


class BatchNotFound(JobNotFound, code="batch_not_found"):
    pass


class PageNotFound(JobNotFound, code="page_not_found"):
    """A page number the job's document does not have."""


class InvalidRequest(PaperlineError, code="invalid_request"):
    """A request that is wrong whatever the state of what it names (an unknown profile or engine, a priority out
    of range, a question too long): HTTP's 400."""


class WrongState(InvalidRequest, code="wrong_state"):
    """A well-formed request that does not fit what it names as it is now (cancel an ended job, retry one that did
    not fail, a result before the job completed): HTTP's 409. Sending it again later may succeed."""


class FilesGone(InvalidRequest, code="files_gone"):
    """The job's files were deleted (by its user or by retention) while its history stays: its result or source
    existed and is no longer kept (HTTP's 410 Gone, not a request to try again later)."""


class WebhookRefused(InvalidRequest, code="webhook_refused"):
    """A webhook subscription or callback URL that cannot be accepted (not http(s), unknown events, no public
    address)."""


class WebhookLimitReached(WebhookRefused, code="webhook_limit_reached"):
    """The user has as many webhook subscriptions as one may have (``PAPERLINE_WEBHOOK_MAX_PER_USER``)."""


class WebhookDuplicate(WebhookRefused, code="webhook_duplicate"):
    """The user already has a subscription to that URL for those events."""


class WebhookNotFound(PaperlineError, code="webhook_not_found"):
    """No such webhook subscription (or not the caller's)."""


class BatchCanceled(WrongState, code="batch_canceled"):
    """A job was to join a batch that was canceled meanwhile ("cancel all" during a drop): it is not made."""


class AskBudgetReached(PaperlineError, code="ask_budget_reached"):
    """The user spent their daily budget for answers (``PAPERLINE_ASK_BUDGET_USD``): refused before the model."""


class AskBusy(PaperlineError, code="ask_busy"):
    """The user already has ``PAPERLINE_ASK_CONCURRENCY_PER_USER`` answers under way: ask again when one ends."""

    #: seconds a client is asked to wait (``Retry-After``)
    retry_after_s = 5


class AskFailed(PaperlineError, code="ask_failed"):
    """The Messages API refused or kept failing a question (after the SDK's own retries)."""


class ExtractionFailed(PaperlineError, code="extraction_failed"):
    """A chunk failed for good (the API refused it, or kept failing after the SDK's own retries): not retried.

    Carries the tokens the failed attempts used and the last raw answer, so neither is lost.
    """

    def __init__(self, message: str, *, input_tokens: int = 0, output_tokens: int = 0, raw_answer: str = ""):
        super().__init__(message)
        self.input_tokens, self.output_tokens, self.raw_answer = input_tokens, output_tokens, raw_answer


class NoWorkerRunning(PaperlineError, code="no_worker_running"):
    """Jobs wait for a worker and none is running: waiting longer would never end."""


class EngineUnavailable(InvalidRequest, code="engine_unavailable"):
    """The chosen engine cannot run here (e.g. Claude without an API key)."""


#: What jobs refused at intake recorded before codes existed: their error's class name. Read path only, so a
#: database written by an older Paperline still answers with the same HTTP status; never add a name here.
CODES_OF_STORED_CLASS_NAMES: dict[str, str] = {
    "DocumentRejected": "document_rejected",
    "UnsupportedType": "unsupported_type",
    "EmptyDocument": "empty_document",
    "DocumentTooLarge": "document_too_large",
    "PasswordProtected": "password_protected",
    "UnreadableDocument": "unreadable_document",
    "ImageTooLarge": "image_too_large",
    "TooManyPages": "too_many_pages",
    "ReaderFailed": "reader_failed",
    "LimitReached": "limit_reached",
}


def error_of_code(stored: str) -> type[PaperlineError] | None:
    """The error class a stored code stands for (or the class name an older Paperline stored); None if unknown."""
    return ERRORS.get(CODES_OF_STORED_CLASS_NAMES.get(stored, stored))
