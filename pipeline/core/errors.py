"""Errors with messages meant for the analyst: they are shown in the UI and CLI and recorded on the job."""


class PaperlineError(Exception):
    """Base of Paperline's own errors."""


class DocumentRejected(PaperlineError):
    """The document itself is the problem (wrong type, empty, too large, encrypted, corrupt): never retried."""


class UnsupportedType(DocumentRejected):
    pass


class EmptyDocument(DocumentRejected):
    pass


class DocumentTooLarge(DocumentRejected):
    pass


class PasswordProtected(DocumentRejected):
    pass


class UnreadableDocument(DocumentRejected):
    pass


class ImageTooLarge(DocumentRejected):
    """More pixels than the configured limit: refused before decoding, as a decompression-bomb guard."""


class TooManyPages(DocumentRejected):
    """More pages (PDF pages, TIFF frames) than ``PAPERLINE_MAX_PAGES``: refused at intake."""


class ReaderFailed(UnreadableDocument):
    """The PDF or image reader crashed, ran out of its memory or time on this file (in the intake subprocess)."""


class LimitReached(DocumentRejected):
    """The user is over a per-user limit (jobs at once, uploads per hour); the file is not kept."""


class UserRefused(PaperlineError):
    """A sign-in or token names a user who may not act: a reserved name (``local``, ``None``, control
    characters...) or one no longer in ``PAPERLINE_USERS``."""


class TokenRefused(PaperlineError):
    """An API token that does not work (unknown, revoked, expired, or its user may no longer act): a 401."""


class OcrUnavailable(PaperlineError):
    """Tesseract is not installed; pages needing OCR are left empty with a note saying how to install it."""


class JobNotFound(PaperlineError):
    pass


class InvalidRequest(PaperlineError):
    """A request that does not fit (unknown profile, result format not written for this job, ...)."""


class ExtractionFailed(PaperlineError):
    """A chunk failed for good (the API refused it, or kept failing after the SDK's own retries): not retried.

    Carries the tokens the failed attempts used and the last raw answer, so neither is lost.
    """

    def __init__(self, message: str, *, input_tokens: int = 0, output_tokens: int = 0, raw_answer: str = ""):
        super().__init__(message)
        self.input_tokens, self.output_tokens, self.raw_answer = input_tokens, output_tokens, raw_answer


class NoWorkerRunning(PaperlineError):
    """Jobs wait for a worker and none is running: waiting longer would never end."""


class EngineUnavailable(InvalidRequest):
    """The chosen engine cannot run here (e.g. Claude without an API key)."""
