"""Every sentence Paperline writes on a job for a person to read, built by plain functions.

Store backends, the processing steps, recovery and the Python API all word a job's messages, errors, notes and
events through here, so a second backend says exactly what the first does, and wording changes in one place.
Chunks are numbered from 1 for people (their index is 0-based).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.core.lifecycle import Stage


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 page", "3 pages"."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def format_pages(pages: Sequence[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    ordered = sorted(pages)
    if not ordered:
        return ""
    runs: list[str] = []
    start = prev = ordered[0]
    for page in ordered[1:]:
        if page == prev + 1:
            prev = page
        else:
            runs.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = page
    runs.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(runs)


# -- a job's stages -----------------------------------------------------------------------------------------------
QUEUED = "Queued"
PREPARING = "Preparing"
MERGING = "Merging chunk results"
MERGING_AGAIN = "Merging again after a lost worker"
MERGING_RETRIED = "Retrying: merging the chunk results again"
INDEXING_AGAIN = "Embedding and indexing again after a lost worker"
REQUEUED_WHILE_PREPARING = "Requeued: its worker stopped while preparing"
#: what a job's step is called in "The worker stopped while ..." (a step whose worker keeps dying)
STEP_DOING: dict[str, str] = {
    Stage.PREPARING: "preparing this document",
    Stage.SPLITTING: "preparing this document",
    Stage.MERGING: "merging the chunk results",
    Stage.EMBEDDING: "embedding the passages",
    Stage.INDEXING: "indexing the passages",
}


def stage_label(stage: Stage) -> str:
    """A stage's name on the page's stepper: "Preparing", ..., "Done"."""
    return "Done" if stage is Stage.COMPLETED else stage.value.capitalize()


def step_kept_dying(stage: str, times: int) -> str:
    """A job failed because every worker that ran its step (preparing, merging, embedding) died."""
    doing = STEP_DOING.get(stage, stage)
    return (
        f"The worker stopped while {doing} (crash or out of memory), {plural(times, 'time')}; "
        "it was not tried again. Retry the job once the cause is fixed."
    )


CANCELED = "Canceled"


def compressing(done: int, total: int) -> str:
    """A long preparation's progress: a many-page image compressed page by page."""
    return f"Preparing: {done} of {total} pages compressed"


def splitting(pages: int, chunks: int) -> str:
    return f"Splitting {pages} pages into {chunks} chunks"


def extracting(done: int, total: int, running: int = 0, failed: int = 0) -> str:
    """ "Extracting: 3 of 9 chunks done, 2 running, 1 failed"."""
    message = f"Extracting: {done} of {total} chunks done"
    if running:
        message += f", {running} running"
    if failed:
        message += f", {failed} failed"
    return message


def retrying(chunks: Sequence[int]) -> str:
    return f"Retrying {len(chunks)} failed chunks"


#: a canceled job run again from the start (it was canceled before it was split into chunks)
RUN_AGAIN = "Queued again after it was canceled"


def running_again(chunks: Sequence[int]) -> str:
    return f"Running again after it was canceled: {plural(len(chunks), 'chunk')} to do"


def cannot_run_again(job_id: str, why: str) -> str:
    return f"Job {job_id} cannot run again: {why}."


def only_failed_or_canceled_retry(job_id: str, status: str) -> str:
    return f"Job {job_id} is {status}; only a failed or canceled job can be retried."


def retrying_event(chunks: Sequence[int]) -> str:
    return f"Retrying chunks {', '.join(str(index + 1) for index in chunks)}"


def completed(pages: int) -> str:
    return f"Completed: {plural(pages, 'page')} extracted"


def embedding(done: int, total: int) -> str:
    """ "Embedding: 64 of 310 passages"."""
    return f"Embedding: {done} of {plural(total, 'passage')}"


INDEXING = "Indexing: writing the passages and making them searchable"


def indexed(pages: int, passages: int) -> str:
    return f"Completed: {plural(pages, 'page')} extracted, {plural(passages, 'passage')} searchable"


def could_not_index(exc: BaseException) -> str:
    return f"Could not index the passages for search: {exc}"


NOTHING_TO_INDEX = (
    "Nothing to index: no text was read from this document (an image-only PDF needs OCR: install tesseract-ocr, "
    "or use the Claude engine), so search will not find it"
)


def served_from_cache(job_id: str, filename: str) -> str:
    return f"Served from cache: identical to job {job_id} ({filename})"


#: a cache hit on another user's job: that the result came from the cache, never that someone uploaded the file,
#: who, or what they called it (PAPERLINE_SHARE_CACHE=0 keys the cache per user)
SERVED_FROM_CACHE_ANONYMOUS = "Served from the result cache"
#: what a job served from another user's job records as its source (never that job's id)
CACHED_FROM_SHARED = "cache"


def canceled_by(user: str) -> str:
    return f"Canceled by {user}"


def not_queued(error: object) -> str:
    return f"Could not reach the job queue, so the document was not queued: {error}"


def could_not_prepare(error: object) -> str:
    return f"Could not prepare this document: {error}"


def could_not_merge(error: object) -> str:
    return f"Could not merge the chunk results: {error}"


# -- workers ---------------------------------------------------------------------------------------------------
START_A_WORKER = "Start one with 'paperline worker' (or 'make run')"
#: the CLI's warning when it queues work and no worker is alive
NO_WORKER_RUNNING = (
    "No Paperline worker is running, so queued jobs will wait. Start one with 'paperline worker' "
    "(or 'make run', which starts the dashboard and a worker)."
)


def queued_without_worker(queued: int) -> str:
    """The dashboard's warning: jobs are queued and no worker is running."""
    return f"{plural(queued, 'job')} queued and no worker is running. {START_A_WORKER}."


def no_worker_to_finish(waiting: int) -> str:
    """Why waiting on jobs stopped (``Paperline.wait``): no worker has been alive for a while."""
    return (
        f"No Paperline worker is running, so {plural(waiting, 'job')} cannot finish. {START_A_WORKER}, then wait again."
    )


def stalled_queued(waited_s: float) -> str:
    return f"Stalled: queued for {waited_s:.0f} s and no worker is running (start one with 'paperline worker')."


def stalled_over_time(index: int, ran_s: float, limit_s: float) -> str:
    return (
        f"Stalled: chunk {index + 1} has run {ran_s:.0f} s, over its {limit_s:g} s time limit; it will be stopped "
        "and retried."
    )


def stalled_without_worker(quiet_s: float) -> str:
    return f"Stalled: no progress for {quiet_s:.0f} s and no worker is alive; it resumes when a worker starts."


def stalled_with_worker(quiet_s: float) -> str:
    return f"Stalled: no progress for {quiet_s:.0f} s although a worker is alive; its chunk may be stuck."


# -- faults of the services a job needs (pipeline.core.transient) ----------------------------------------------------
def waiting_for(service: str, error: object, waited_s: float, budget_s: float) -> str:
    """A step pauses for a transient fault (``service`` is "object store", "job store" or "job queue")."""
    left = max(0, round(budget_s - waited_s))
    return f"Waiting for the {service}: {error}; retrying (for up to {left} s more)"


def gave_up_waiting(service: str, budget_s: float, error: object) -> str:
    return (
        f"Waited {round(budget_s)} s for the {service}, which still fails ({error}). Retry the job once it is back "
        "(PAPERLINE_TRANSIENT_RETRY_S sets how long workers wait)."
    )


STORE_UNAVAILABLE = "The job store is unreachable at the moment; retrying. Try again in a few seconds."
OBJECT_STORE_UNAVAILABLE = "The file storage is unreachable at the moment; retrying. Try again in a few seconds."
DISK_FULL = "The server's disk is full at the moment. Try again later."


def partial_result(
    failed: int, chunks: int, pages_written: int, pages: int, index: int, first_page: int, last_page: int, error: str
) -> str:
    """Why a job ended failed although some chunks were extracted."""
    return (
        f"{failed} of {chunks} chunks failed; a partial result with {pages_written} of {pages} pages was written. "
        f"First error (chunk {index + 1}, pages {first_page}-{last_page}): {error}"
    )


# -- a chunk's life -------------------------------------------------------------------------------------------------
WORKER_LOST = "worker lost (no heartbeat); requeued"


def chunk_started(index: int, worker: str) -> str:
    return f"Chunk {index + 1} started on {worker}"


def chunk_progress(index: int, pages_done: int) -> str:
    return f"Chunk {index + 1}: {pages_done} pages"


def chunk_retry(index: int, error: str) -> str:
    return f"Chunk {index + 1} will be retried: {error}"


def chunk_ended(index: int, status: str, error: str = "") -> str:
    """ "Chunk 3 done", "Chunk 3 failed: <why>"."""
    return f"Chunk {index + 1} done" if status == "done" else f"Chunk {index + 1} {status}: {error}"


def chunk_recovered(index: int) -> str:
    return f"Chunk {index + 1} requeued after its worker stopped sending heartbeats"


def chunk_handed_back(index: int) -> str:
    return f"Chunk {index + 1} handed back to the queue: its worker is stopping"


def chunk_kept_dying(first_page: int, last_page: int, times: int) -> str:
    """A poison pill: every worker that read these pages died (a crash, or the kernel's out-of-memory killer)."""
    pages = f"page {first_page}" if first_page == last_page else f"pages {first_page}-{last_page}"
    return f"The worker stopped while reading {pages} (crash or out of memory), {plural(times, 'time')}"


def chunk_over_time(index: int, limit_s: float) -> str:
    """A chunk that noticed, at a page boundary, that it ran past its limit."""
    return f"Chunk {index + 1} ran over its {limit_s:g} s time limit"


def chunk_stuck(index: int, limit_s: float) -> str:
    """A chunk taken back by the sweep: still running past its limit and the grace after it."""
    return f"Chunk {index + 1} ran over its {limit_s:g} s time limit (stuck)"


def chunk_taken_back(error: str, retried: bool) -> str:
    return f"{error}; {'retried' if retried else 'failed'}"


def chunk_abandoned(index: int, job_id: str) -> str:
    return f"chunk {index + 1} of job {job_id} was canceled or reassigned"


# -- notes ----------------------------------------------------------------------------------------------------------
def unreadable_glyphs(count: int, pages: Sequence[int]) -> str:
    return (
        f"{plural(count, 'character')} on {'page' if len(pages) == 1 else 'pages'} {format_pages(pages)} could not "
        "be read from the PDF's fonts (they have no text mapping): dropped, or shown as \ufffd where a letter of a "
        "word is missing."
    )


NO_TEXT_IN_IMAGE = "No text found: OCR read no text in this image."
NO_TEXT_IN_DOCUMENT = "No text found: the document has no text layer and OCR read no text in it."


def no_text_on(pages: Sequence[int]) -> str:
    return f"No text found on pages {format_pages(pages)} (no text layer, and OCR read nothing)."


def read_by_ocr(pages: Sequence[int]) -> str:
    return f"Text on pages {format_pages(pages)} was read by OCR."


def no_structure_on(pages: Sequence[int]) -> str:
    return (
        f"The layout of pages {format_pages(pages)} could not be read (a scan, or a page drawn as one image): "
        "their text is given as paragraphs, without headings or tables."
    )


def read_by_better_ocr(pages: Sequence[int], floor: float) -> str:
    return (
        f"Pages {format_pages(pages)} were read by RapidOCR (PP-OCRv6): Tesseract was unsure of them (mean word "
        f"confidence below {floor:g}), as on handwriting or a hard scan."
    )


def ocr_unsure(pages: Sequence[int], floor: float, *, installed: bool) -> str:
    how = (
        "PAPERLINE_BETTER_OCR=auto reads such pages again with RapidOCR"
        if installed
        else "installing the 'ocr' extra (pip install 'paperline[ocr]') reads such pages again with RapidOCR"
    )
    return (
        f"Tesseract was unsure of pages {format_pages(pages)} (mean word confidence below {floor:g}): check their "
        f"text; {how}."
    )


def read_under_text_layer(pages: Sequence[int]) -> str:
    return (
        f"Pages {format_pages(pages)} are images with more text than their small text layer (a stamp or a note "
        "over a scan): their image was read by OCR instead of the text layer."
    )


def read_from_scans(pages: Sequence[int]) -> str:
    return (
        f"Pages {format_pages(pages)} are scans: their headings, paragraphs and tables are read from OCR (tables by "
        "the rules found on the image, or by how their words align)."
    )


def files_purged(reason: str) -> str:
    return f"Files purged to stay within {reason} (least recently used); submit it again to redo it."


def too_large(name: str, size: int, limit_mb: int) -> str:
    shown = f"{size / 2**20:.1f} MB"
    if float(shown.split()[0]) <= limit_mb:
        shown = f"{size:,} bytes"  # just over the limit: "1.0 MB, over the 1 MB limit" would puzzle
    return f"{name} is {shown}, over the {limit_mb} MB upload limit."


# -- budgets for every document ---------------------------------------------------------------------------------
PDF_ADVICE = "Open it in a PDF viewer and save or print it to a new PDF, then upload that."
IMAGE_ADVICE = "Open it in an image editor and save it again, then upload that."


def page_span(first: int, last: int) -> str:
    """ "page 4", "pages 4-9"."""
    return f"page {first}" if first == last else f"pages {first}-{last}"


def too_many_pages(limit: int, pages: int | None = None) -> str:
    """A document over ``PAPERLINE_MAX_PAGES`` (``pages`` None: counting stopped past the limit)."""
    counted = f"{pages:,} pages" if pages is not None else f"more than {limit:,} pages"
    return (
        f"This document has {counted}, over the limit of {limit:,} pages per document (PAPERLINE_MAX_PAGES). "
        "Split it into smaller files and upload those."
    )


def pages_missing(claimed: int, page: int) -> str:
    """A PDF whose page count promises pages that do not open (a page tree that lies, or is damaged)."""
    says = f"{claimed:,} page{'s' if claimed != 1 else ''}"
    return (
        f"This PDF says it has {says}, but page {page:,} cannot be opened: its list of pages is damaged or crafted. "
        f"{PDF_ADVICE}"
    )


def page_cannot_open(page: int) -> str:
    return f"Page {page} of this PDF cannot be opened; the file may be damaged. {PDF_ADVICE}"


def reader_failed(pdf: bool, why: str) -> str:
    """The intake subprocess that opened an upload crashed or hit its limits (``why``: "it crashed", ...)."""
    reader, advice = ("PDF reader", PDF_ADVICE) if pdf else ("image reader", IMAGE_ADVICE)
    return f"This file made the {reader} fail ({why}); it may be damaged or crafted. {advice}"


def page_not_drawn(number: int, why: str) -> str:
    """The subprocess that draws a page for the page view crashed or hit its limits (``why``, as above)."""
    return f"Page {number} could not be drawn ({why}); its extracted text is unaffected."


def no_such_page(number: int, pages: int) -> str:
    return f"The document has {pages} page{'s' if pages != 1 else ''}: there is no page {number}."


def reader_took_too_long(limit_s: float) -> str:
    return f"it took longer than {limit_s:g} s"


def reader_out_of_memory(limit_mb: int) -> str:
    return f"it needed more than {limit_mb} MB of memory"


def reader_crashed(signal_name: str) -> str:
    return f"it crashed with {signal_name}"


def rendered_lower(pages: Sequence[int], lowest_dpi: float, dpi: int, max_pixels: int) -> str:
    """Pages rendered for OCR below ``PAPERLINE_OCR_DPI`` to stay within the pixel budget."""
    which = f"{'Page' if len(pages) == 1 else 'Pages'} {format_pages(pages)}"
    return (
        f"{which} {'was' if len(pages) == 1 else 'were'} rendered for OCR at a lower resolution ({lowest_dpi:.0f} "
        f"dpi instead of {dpi} dpi) to stay within the {max_pixels / 1e6:g}-megapixel image budget "
        "(PAPERLINE_MAX_IMAGE_PIXELS): the page is very large, and small text may be missed."
    )


def preview_lowered(pages: int, side: int, max_side: int, max_pixels: int) -> str:
    """A multi-page image whose compressed preview was made smaller than ``PAPERLINE_IMAGE_MAX_SIDE``."""
    return (
        f"The compressed preview shows each of the {pages:,} pages at most {side} px across (instead of "
        f"{max_side} px) to stay within the {max_pixels / 1e6:g}-megapixel image budget (PAPERLINE_MAX_IMAGE_PIXELS)."
    )


def out_of_memory(first: int, last: int, limit_mb: int) -> str:
    """A chunk that raised MemoryError: the worker process lives on, the chunk fails."""
    ceiling = f" (each worker process may use {limit_mb} MB: PAPERLINE_WORKER_MEMORY_MB)" if limit_mb else ""
    return f"ran out of memory while reading {page_span(first, last)}{ceiling}"


def out_of_memory_preparing(limit_mb: int) -> str:
    ceiling = f" (each worker process may use {limit_mb} MB: PAPERLINE_WORKER_MEMORY_MB)" if limit_mb else ""
    return could_not_prepare(f"it ran out of memory{ceiling}")


# -- the server's edges: names it answers to, sign-in on the network, limits on every way in ------------------------
def misdirected(host: str) -> str:
    return (
        f"This server does not answer to the name {host!r}. Open it at the address its operator gives "
        "(set in PAPERLINE_PUBLIC_URL)."
    )


def host_refused_log(host: str, names: Sequence[str]) -> str:
    return (
        f"Refused requests for Host {host!r}: this server answers to {', '.join(names) or 'loopback names'} and "
        "loopback names. If analysts open it at that name, add it to PAPERLINE_PUBLIC_URL."
    )


def anonymous_network(address: str) -> str:
    return (
        f"Refusing to serve on {address} without sign-in: everyone who can reach it would be the one local user, "
        "who sees every job and spends the Anthropic credit. Ask users to sign in (after --: "
        "--basic-auth users.json --cookie-secret SECRET, or --oauth-provider NAME with its key and secret), serve "
        "on 127.0.0.1 behind a reverse proxy that signs users in, or pass --allow-anonymous if everyone on this "
        "network may do anything."
    )


def anonymous_network_warning(address: str) -> str:
    return (
        f"Warning: serving on {address} without sign-in (--allow-anonymous): everyone who can reach it sees and "
        "acts on every job as the local user."
    )


def too_many_files(limit: int, name: str = "") -> str:
    rule = f"at most {limit} files in one upload; send the others in another."
    return f"{name}: {rule}" if name else rule.capitalize()


def too_many_at_once(limit: int, name: str) -> str:
    return f"{name}: at most {limit} files are received at once; drop it again when the others have arrived."


def field_too_large(name: str, limit_kb: int) -> str:
    return f"The field {name!r} is over {limit_kb} KB."


def too_many_fields(limit: int) -> str:
    return f"At most {limit} fields besides the files in one upload."


def too_many_requests(wait_s: float) -> str:
    return f"Too many requests; try again in {max(1, round(wait_s))} s."


def upload_refused_mid_transfer(reason: str) -> str:
    return f"{reason} Nothing of it was kept."


def operator_sign_in(what: str) -> str:
    return (
        f"{what} is for this server's admins: send an admin's API token (Authorization: Bearer ...) "
        "or sign in as an admin."
    )


def files_deleted(user: str) -> str:
    return f"Files deleted by {user}; the history is kept. Submit the document again to redo it."


def deleted_files_of(filename: str, job_id: str = "") -> str:
    """What the page and the CLI say once a job's files are deleted (the CLI names the job too)."""
    return f"Deleted the files of {filename}{f' ({job_id})' if job_id else ''}; its history is kept."


def files_gone(job_id: str, why: str) -> str:
    """Why a job has no result to give any more (``why``: the note written when its files went)."""
    return f"The files of job {job_id} are no longer kept. {why}".strip()


def delete_unfinished(job_id: str, status: str) -> str:
    return f"Job {job_id} has not ended ({status}); cancel it first, then delete it."


# -- users -------------------------------------------------------------------------------------------------------
def user_name_reserved(name: str) -> str:
    shown = repr(name) if name.strip() else "an empty name"
    return (
        f"This user name is reserved: no one can sign in or use an API token as {shown}. "
        "Sign in with your own name (no control characters, no surrounding spaces)."
    )


def user_not_allowed(name: str) -> str:
    return f"{name!r} is not a user of this server (PAPERLINE_USERS); ask its operator to add you."


# -- API tokens ----------------------------------------------------------------------------------------------------
TOKEN_UNKNOWN = "This API token is unknown or was revoked."
TOKEN_DIES_WITH_USER = "Its API tokens no longer work."
TOKEN_NEEDS_USER = (
    "A token acts for a signed-in user: name them, e.g. 'paperline token create --user NAME' "
    "(without sign-in, programs need no token)."
)


def token_expired(token_id: str, when: str) -> str:
    return f"This API token ({token_id}) expired on {when}; create a new one."


def bad_token_expiry(text: str) -> str:
    return f"Token expiry {text!r} is not a duration such as 30d, 12h, 2w or 1y (at most 5 years), or 'never'."


# -- users' limits --------------------------------------------------------------------------------------------------
def too_many_active(user: str, active: int, limit: int) -> str:
    return (
        f"Limit reached: {user} already has {active} jobs queued or running (at most {limit} per user). "
        "Upload again when one has finished, or cancel one."
    )


def too_many_uploads(user: str, uploads: int, limit: int, wait_s: float) -> str:
    return (
        f"Limit reached: {user} uploaded {uploads} files in the last hour (at most {limit} per user). "
        f"The next upload is possible in {max(1, round(wait_s / 60))} min."
    )


# -- webhooks ---------------------------------------------------------------------------------------------------
def webhook_gave_up(attempts: int, hours: float, error: str) -> str:
    return f"Gave up after {plural(attempts, 'attempt')} over {hours:.1f} h; the last: {error}"


def webhook_http_error(code: int) -> str:
    return f"The receiver answered HTTP {code}"


def webhook_redirect_refused(code: int, location: str) -> str:
    return f"The receiver answered HTTP {code}, a redirect to {location or '(nowhere)'}: redirects are not followed"


#: every network failure of an attempt alike (refused, reset, timed out, TLS): which one is for the operator's log,
#: since telling them apart would make deliveries a port scanner
WEBHOOK_UNREACHABLE = "Could not reach the receiver (no connection, or no whole answer in time)"
WEBHOOK_NO_SECRET = "Its subscription was removed: nothing signs it any more"
WEBHOOK_FAILED = "The delivery could not be sent (the operator's log says why)"


def webhook_encoded_answer(encoding: str) -> str:
    return (
        f"The receiver answered in an encoding ({encoding[:40]}) that was not asked for: "
        "deliveries ask for a plain answer (Accept-Encoding: identity)"
    )


def webhook_answer_too_long(limit: int) -> str:
    return f"The receiver's answer was longer than {limit // 1024} KB; a receiver answers a delivery briefly"


def webhook_address_refused(host: str, why: str) -> str:
    return (
        f"Refused: {host} is a {why} address; webhooks go only to public addresses unless the "
        "operator sets PAPERLINE_WEBHOOK_ALLOW_PRIVATE=1"
    )


def webhook_name_refused(host: str) -> str:
    return (
        f"Refused: {host} does not resolve to public addresses only; webhooks go only to public addresses unless "
        "the operator sets PAPERLINE_WEBHOOK_ALLOW_PRIVATE=1"
    )


def webhook_url_character(character: str) -> str:
    return f"it holds {character}, a control, invisible or space character; encode it (e.g. %20)"


def webhook_port_refused(url: str, port: int) -> str:
    return (
        f"Not a webhook URL: {url!r} (port {port}: webhooks use 80, 443 or 1024-65535 unless the operator allows "
        "others with PAPERLINE_WEBHOOK_ALLOW_PORTS)"
    )


def webhook_too_many(user: str, limit: int) -> str:
    return (
        f"Limit reached: {user} has {limit} webhooks, the most one user may have (PAPERLINE_WEBHOOK_MAX_PER_USER); "
        "remove one first."
    )


def webhook_duplicate(existing: str) -> str:
    return f"You already have this webhook ({existing}): the same URL for the same events."


def webhook_not_sent(limit: int) -> str:
    return (
        f"Not sent: {limit} deliveries of yours were already waiting (PAPERLINE_WEBHOOK_MAX_PENDING_PER_USER); "
        "check your receivers"
    )


def webhook_bad_url(url: str, why: str) -> str:
    return f"Not a webhook URL: {url!r} ({why})"


def webhook_unknown_events(unknown: Sequence[str], known: Sequence[str]) -> str:
    return f"Unknown webhook events: {', '.join(unknown)}; choose from {', '.join(known)}"


def no_webhook(subscription_id: str) -> str:
    return f"No webhook {subscription_id!r}"


def batch_rollup(total: int, ready: int, failed: int = 0, canceled: int = 0) -> str:
    """A batch in one line: "3 of 10 ready, 1 failed"."""
    parts = [f"{ready} of {total} ready"]
    if failed:
        parts.append(f"{failed} failed")
    if canceled:
        parts.append(f"{canceled} canceled")
    return ", ".join(parts)


def batch_name(documents: int) -> str:
    return plural(documents, "document")


def nothing_to_retry_in(batch_id: str) -> str:
    return f"Batch {batch_id} has no failed job whose chunks can run again."


#: a document of a drop whose batch was canceled ("cancel all") before it became a job
CANCELED_WITH_BATCH = "Not started: its batch was canceled before this document was queued"


def nothing_to_cancel_in(batch_id: str) -> str:
    return f"Every job of batch {batch_id} has already ended; there is nothing to cancel."


def no_result_because(status: str, error: str) -> str:
    return f"no result ({status}{': ' + error if error else ''})"


def queue_line(count: int, what: str, detail: str = "", *, many: str | None = None) -> str:
    """A line of the queue's health: "3 jobs (12 chunks waiting)"."""
    return plural(count, what, many) + (f" ({detail})" if detail else "")


def serve_worker(processes: int) -> str:
    return f"the worker ({plural(processes, 'process', 'processes')}; a running chunk is handed back to the queue)"


def serve_dashboard(port: int) -> str:
    return f"the dashboard on port {port}"


def stopping(waiting: Sequence[str], limit_s: float) -> str:
    return f"Stopping Paperline: waiting for {' and '.join(waiting)}, at most {limit_s:.0f} s"


def ended_after(what: str, limit_s: float) -> str:
    return f"Ended {what}: it had not stopped after {limit_s:.0f} s"


def binary_result_on_terminal(name: str) -> str:
    return f"This result is a binary file, not for a terminal: save it with -o {name} (or -O), or redirect the output."


# -- asking the documents ---------------------------------------------------------------------------------------
ASK_EXTRACTIVE_LABEL = (
    "Extractive answer (no model): the sentences of your documents that best match the question, quoted as they are."
)
ASK_NO_PASSAGES = (
    "None of your indexed documents has a passage about this question, so there is nothing to answer from. "
    "Documents are searchable once extracted with the retrieval profile."
)
ASK_NO_KEY = "No ANTHROPIC_API_KEY is set, so this answer is extractive."
ASK_CITATION_NOT_SENT = "A citation to a passage that was not among this question's passages was dropped."
ASK_CITATION_KIND = "A citation of a kind Paperline did not ask for ({kind}) was dropped."


def usd(amount: float) -> str:
    """ "$0.52"; a small amount keeps its first digits ("$0.0031") rather than reading as nothing."""
    return f"${amount:.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.2g}"


def ask_budget_reached(user: str, spent: float, budget: float, under_way: float = 0.0) -> str:
    held = f" (and answers under way may cost up to {usd(under_way)})" if under_way > 0 else ""
    return (
        f"{user} has spent about {usd(spent)}{held} of the {usd(budget)} daily budget for answers "
        "(PAPERLINE_ASK_BUDGET_USD); it renews at midnight UTC. An extractive answer, without the model, is still "
        "available."
    )


def ask_busy(user: str, under_way: int) -> str:
    return (
        f"{user} already has {plural(under_way, 'answer')} under way (PAPERLINE_ASK_CONCURRENCY_PER_USER); "
        "ask again when one has ended."
    )


_NOT_TEXT = "must be text: it holds a lone UTF-16 surrogate, which no character encoding carries."
ASK_QUESTION_NOT_TEXT = f"A question {_NOT_TEXT}"
QUERY_NOT_TEXT = f"A query {_NOT_TEXT}"


def ask_citation_gone(filename: str, passage: int) -> str:
    return f"A citation to passage {passage} of {filename} was dropped: that passage is no longer there to show."


def ask_citation_out_of_range(filename: str, passage: int) -> str:
    return f"A citation to a part of passage {passage} of {filename} that the passage does not have was dropped."


def ask_question_size(limit: int) -> str:
    return f"A question is 1 to {limit:,} characters."


def ask_failed(error: str) -> str:
    return f"Claude could not answer: {error}"
