"""Upload: drop one or many PDFs and images, pick a profile, and see each file acknowledged at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import panel as pn
import param
from panel.io.state import set_curdoc
from param.parameters import NoNone

from pipeline import Job, JobStatus
from pipeline.core import messages
from pipeline.core.errors import PaperlineError
from pipeline.documents.intake import SUPPORTED_LABEL
from pipeline.server.edge import UPLOAD_CHUNK_BYTES

from .formatting import heading, html_pane
from .safe_html import format_html, render, text
from .state import SessionState

ACCEPTED = [".pdf", ".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", "application/pdf", "image/*"]
MAX_ACKS = 12
# FilePond's preview plugins register themselves when their scripts load, whatever ``previews`` says: hide them,
# so a PDF is never rendered in the browser just to be uploaded (and an encrypted one shows no password prompt).
HIDE_PREVIEWS = """
.filepond--pdf-preview-wrapper, .filepond--pdf-preview, .filepond--image-preview-wrapper,
.filepond--image-preview-overlay { display: none !important; }
"""


#: what a dropped file that is not a job yet is doing
ARRIVED = "received"
INSPECTING = "inspecting"

# Files that start within this many seconds of the previous one's last chunk belong to the same drop.
DROP_GAP_S = 5.0
# Files received at once (FilePond sends two at a time): what one session can hold is this many upload limits.
MAX_FILES_IN_FLIGHT = 4
# The page sends a drop's files one after another and the server sees each arrive on its own: the files received
# until none is half-received and no chunk came for this long are one drop (one batch). FilePond starts a drop's
# next file as soon as one ends, so within a drop the channel is never quiet this long.
DROP_SETTLE_S = 1.0


# A patch of Panel's internals, checked against Panel 1.9.4 (pinned to 1.9.x in pyproject.toml) and fenced by
# tests/unit/test_patches.py: FileDropper._process_event, which every upload and delete event of the page reaches,
# and FileDropper._file_buffer, the chunks received so far of each file in flight, by name. Panel 1.9 has no hook to
# refuse a chunk: max_file_size and max_files are FilePond options the browser keeps (panel/widgets/input.py), and
# the server buffers whatever arrives. We found no upstream issue asking for server-side limits.
class CappedFileDropper(pn.widgets.FileDropper):
    """Panel's FileDropper, with its limits kept by the server too: the browser's ``max_file_size`` and
    ``max_files`` are only advice to a page someone may have changed, while Panel buffers every chunk it is sent.

    A file is refused (its chunks dropped as they come, never buffered) once it claims or sends more than
    ``max_bytes``, or when it would be file number ``max_count + 1`` of one drop or the
    ``MAX_FILES_IN_FLIGHT + 1``-th received at once; ``on_refused(name, reason)`` says so. Each chunk itself is
    capped by the server's websocket message size (``pipeline.server.edge``)."""

    def __init__(self, *, max_bytes: int, max_count: int, on_refused: Callable[[str, str], None], **params: Any):
        super().__init__(**params)
        self._max_bytes, self._max_count, self._on_refused = max_bytes, max_count, on_refused
        self._max_mb = max(1, max_bytes // 2**20)
        self._received: dict[str, int] = {}  # bytes buffered so far, per file in flight
        self._refused: set[str] = set()  # files in flight whose further chunks are dropped
        self._drop_files, self._last_chunk_at = 0, 0.0

    def _process_event(self, event: Any) -> None:
        data = event.data
        name = str(data.get("name", ""))
        if event.event_name != "upload_event":
            self._forget(name)
            super()._process_event(event)
            return
        now = time.monotonic()
        if now - self._last_chunk_at > DROP_GAP_S and not self._file_buffer:
            self._drop_files = 0  # a new drop
        self._last_chunk_at = now
        chunk, chunks, size = int(data.get("chunk", 0)), int(data.get("total_chunks", 0)), len(data.get("data") or b"")
        if chunk == 1:
            self._forget(name)
            self._drop_files += 1
            if self._drop_files > self._max_count:
                self._refuse(name, messages.too_many_files(self._max_count, name))
                return
            if len(self._file_buffer) >= MAX_FILES_IN_FLIGHT:
                self._refuse(name, messages.too_many_at_once(MAX_FILES_IN_FLIGHT, name))
                return
            # FilePond sends chunks of chunk_size: a claim of more chunks than the limit holds is refused at once.
            if (chunks - 1) * self.chunk_size > self._max_bytes:
                self._refuse(name, messages.too_large(name, (chunks - 1) * self.chunk_size, self._max_mb))
                return
        elif name in self._refused or name not in self._file_buffer:
            return  # a file refused earlier, or chunks without a first one: nothing to add them to
        received = self._received.get(name, 0) + size
        if received > self._max_bytes:
            self._refuse(name, messages.too_large(name, received, self._max_mb))
            return
        self._received[name] = received
        super()._process_event(event)
        if chunk >= chunks:
            self._received.pop(name, None)

    def settled(self, now: float) -> bool:
        """Whether the drop being received has ended (``now`` on ``time.monotonic``'s clock): no file is half
        received and no chunk came for ``DROP_SETTLE_S``."""
        return not self._file_buffer and now - self._last_chunk_at >= DROP_SETTLE_S

    def _forget(self, name: str) -> None:
        self._received.pop(name, None)
        self._refused.discard(name)

    def _refuse(self, name: str, reason: str) -> None:
        self._file_buffer.pop(name, None)
        self._received.pop(name, None)
        self._refused.add(name)
        self._on_refused(name, reason)


class UploadPanel(pn.viewable.Viewer):
    """Hands each dropped file to the engine as soon as it has arrived, then lets go of its bytes."""

    state = param.ClassSelector(class_=SessionState, allow_None=NoNone)
    acknowledgements = param.List(default=[], doc="Latest acknowledged jobs, newest first.")
    rejections = param.List(default=[], doc="Requests refused before a job existed, newest first.")
    arriving = param.Dict(default={}, doc="Files received but not yet jobs, by name: 'received' or 'inspecting'.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        settings = self.state.app.settings
        limit = settings.max_upload_mb
        self._dropper = CappedFileDropper(
            max_bytes=settings.max_upload_bytes,
            max_count=settings.max_files_per_upload,
            on_refused=self._on_refused,
            chunk_size=UPLOAD_CHUNK_BYTES,
            multiple=True,
            max_files=settings.max_files_per_upload,
            max_file_size=f"{limit}MB",
            accepted_filetypes=[],
            layout="compact",
            previews=[],
            stylesheets=[HIDE_PREVIEWS],
            sizing_mode="stretch_width",
            label="Documents",
        )
        self._dropper.param.watch(self._on_files, "value")
        self._profile = pn.widgets.Select.from_param(self.state.param.profile, label="Profile")
        reasons = self.state.app.engines()
        self._engine = pn.widgets.Select.from_param(
            self.state.param.engine,
            label="Engine",
            disabled_options=[engine for engine, reason in reasons.items() if reason],
        )
        unavailable = " ".join(f"{engine}: {reason}" for engine, reason in reasons.items() if reason)
        self._engine_note = html_pane(
            format_html('<div class="pl-meta pl-engine-note">{}</div>', unavailable) if unavailable else "",
            sizing_mode="stretch_width",
        )
        self._instruction = pn.widgets.TextAreaInput.from_param(
            self.state.param.instruction,
            label="Instruction",
            placeholder="e.g. List every invoice number and total",
            visible=self.state.needs_instruction,
            height=80,
            sizing_mode="stretch_width",
        )
        self.state.param.watch(lambda e: setattr(self._instruction, "visible", self.state.needs_instruction), "profile")
        self._priority = pn.widgets.IntSlider.from_param(
            self.state.param.priority, name="Priority (higher goes first)", sizing_mode="stretch_width"
        )
        # One pane updated in place: re-rendering the column would re-create the drop area mid-upload.
        self._acks = html_pane("", sizing_mode="stretch_width", css_classes=["pl-acks-pane"])
        self._help = html_pane(
            format_html(
                '<div class="pl-meta">{}, up to {} MB each. Drop several at once (up to {}).</div>',
                SUPPORTED_LABEL,
                limit,
                settings.max_files_per_upload,
            )
        )
        self._drop: dict[str, Any] = {}  # files of the drop being received, submitted together once it has settled
        self._drop_timer: object | None = None
        self.state.param.watch(self._on_update, "update")
        self._remember_choices()

    def _remember_choices(self) -> None:
        """The engine and profile chosen survive a reload: they are kept in the page's address
        (``?engine=...&profile=...``), read back when the page opens. Served pages only."""
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None or pn.state.location is None:
            return
        asked = {name: values[0].decode("utf-8", "replace") for name, values in pn.state.session_args.items() if values}
        usable = {engine for engine, reason in self.state.app.engines().items() if not reason}
        if asked.get("engine") in usable and asked["engine"] in self.state.param.engine.objects:
            self.state.engine = asked["engine"]  # first: it decides which profiles are offered
        if asked.get("profile") in self.state.param.profile.objects:
            self.state.profile = asked["profile"]
        location = pn.state.location
        self.state.param.watch(lambda event: location.update_query(**{event.name: event.new}), ["engine", "profile"])

    def _on_update(self, event: param.parameterized.Event) -> None:
        """Keep each acknowledged file's status current (queued, running, completed) as the feed moves."""
        changed = {job.id: job for job in event.new.jobs}
        if any(job.id in changed for job in self.acknowledgements):
            self.acknowledgements = [changed.get(job.id, job) for job in self.acknowledgements]

    def _on_refused(self, name: str, reason: str) -> None:
        """A file the server stopped receiving (over a limit): say so as for any refusal; nothing was kept."""
        message = messages.upload_refused_mid_transfer(reason)
        if pn.state.notifications is not None:
            pn.state.notifications.error(text(message), duration=8000)
        self.arriving = {other: state for other, state in self.arriving.items() if other != name}
        self.rejections = [message, *self.rejections][:MAX_ACKS]

    def _on_files(self, event: param.parameterized.Event) -> None:
        """Keep each file as it arrives until its drop has settled, then submit the drop's files together (several
        make one batch). Outside a server (tests, a notebook cell) the widget's value is the whole drop and is
        submitted here."""
        files = dict(event.new)
        if not files:
            return
        # Let go of the widget's copy at once: a file arriving meanwhile must not bring these back in the widget's
        # next value (they would be submitted twice).
        for name in files:
            self._dropper.value.pop(name, None)
            self._dropper.mime_type.pop(name, None)
        self._drop.update(files)
        # Shown from the moment it is here (the drop area clears it): no silent wait for the rest of the drop
        self.arriving = {**self.arriving, **dict.fromkeys(files, ARRIVED)}
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            files, self._drop = self._drop, {}
            self._show_submitted(self._submit(files))
        elif self._drop_timer is None:
            self._drop_timer = doc.add_timeout_callback(lambda: self._send_drop(doc), int(DROP_SETTLE_S * 1000))

    def _send_drop(self, doc: Any) -> None:
        """Submit the drop once it has settled, or look again later. On a thread: intake inspects each document in
        a subprocess (up to its timeout), and the server's event loop, which every session shares, must not wait
        for that."""
        self._drop_timer = None
        if not self._dropper.settled(time.monotonic()):
            self._drop_timer = doc.add_timeout_callback(lambda: self._send_drop(doc), int(DROP_SETTLE_S * 500))
            return
        files, self._drop = self._drop, {}
        if not files:
            return
        self.arriving = {**self.arriving, **dict.fromkeys(files, INSPECTING)}

        def show(outcomes: list[tuple[str, Job | PaperlineError]]) -> None:
            with set_curdoc(doc):
                pn.state.execute(lambda: self._show_submitted(outcomes), schedule=True)

        def submit() -> None:  # each file shown as its job is made, not the drop at its end
            self._submit(files, on_each=lambda name, outcome: show([(name, outcome)]))

        threading.Thread(target=submit, name="paperline-upload", daemon=True).start()

    def _submit(
        self, files: dict[str, Any], on_each: Callable[[str, Job | PaperlineError], None] | None = None
    ) -> list[tuple[str, Job | PaperlineError]]:
        """Each file's job, or why the request could not run (engine unavailable, no instruction), each handed to
        ``on_each`` as soon as it is known. Several files dropped at once make one batch."""
        options = dict(
            profile=self.state.profile,
            engine=self.state.engine,
            user=self.state.user,
            instruction=self.state.instruction,
            priority=self.state.priority,
        )
        names = list(files)
        outcomes: list[tuple[str, Job | PaperlineError]] = []

        def made(outcome: Job | PaperlineError) -> None:
            outcomes.append((names[len(outcomes)], outcome))
            if on_each is not None:
                on_each(*outcomes[-1])

        if len(files) > 1:
            sources = [(data.encode("utf-8") if isinstance(data, str) else data, name) for name, data in files.items()]
            try:
                self.state.app.submit_batch(sources, on_job=made, **options)
            except PaperlineError as exc:
                for _name in names[len(outcomes) :]:
                    made(exc)
            return outcomes
        for name, data in files.items():
            raw = data.encode("utf-8") if isinstance(data, str) else data  # text/* arrives decoded
            try:
                made(self.state.app.submit(raw, name, **options))
            except PaperlineError as exc:
                made(exc)
        return outcomes

    def _show_submitted(self, outcomes: list[tuple[str, Job | PaperlineError]]) -> None:
        done = {name for name, _ in outcomes}
        self.arriving = {name: state for name, state in self.arriving.items() if name not in done}
        for name, outcome in outcomes:
            if isinstance(outcome, PaperlineError):
                if pn.state.notifications is not None:
                    pn.state.notifications.error(format_html("{}: {}", name, outcome), duration=8000)
                self.rejections = [f"{name}: {outcome}", *self.rejections][:MAX_ACKS]
                continue
            # The feed may have a newer snapshot: a batch's first jobs can end while its last go through intake.
            outcome = self.state.feed.jobs.get(outcome.id, outcome)
            self.acknowledgements = [outcome, *self.acknowledgements][:MAX_ACKS]
            if outcome.status is JobStatus.FAILED and pn.state.notifications is not None:
                pn.state.notifications.error(format_html("{}: {}", outcome.filename, outcome.error), duration=8000)

    @param.depends("acknowledgements", "rejections", "arriving", watch=True)
    def _show_acknowledgements(self) -> None:
        self._acks.object = render_acknowledgements(
            self.acknowledgements, refused=self.rejections, arriving=self.arriving
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            heading("Upload"),
            self._engine,
            self._engine_note,
            self._profile,
            self._instruction,
            self._priority,
            self._dropper,
            self._help,
            self._acks,
            sizing_mode="stretch_width",
        )


def render_acknowledgements(
    jobs: list[Job], refused: list[str] | tuple[str, ...] = (), arriving: dict[str, str] | None = None
) -> str:
    """The files on their way (received, being inspected), the files refused (with why), then each submitted job
    and its status; empty when there is none of these."""
    return render("acknowledgements.html", jobs=jobs, refused=refused, arriving=arriving or {})
