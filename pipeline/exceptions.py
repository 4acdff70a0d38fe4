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


class OcrUnavailable(PaperlineError):
    """Tesseract is not installed; pages needing OCR are left empty with a note saying how to install it."""


class JobNotFound(PaperlineError):
    pass


class InvalidRequest(PaperlineError):
    """A request that does not fit (unknown profile, result format not written for this job, ...)."""
