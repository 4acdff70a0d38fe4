"""Fences around Paperline's patches of other libraries' internals: each test fails the day a name a patch relies on
disappears, changes its signature or stops being on the path the patch assumes, instead of the upload limit, the
Host check, the cookie flags or the page's script policy silently ceasing to apply.

The patches (each names the versions it was checked against, which pyproject.toml pins):
* dashboard/upload.py, ``CappedFileDropper``: Panel's ``FileDropper._process_event`` and ``_file_buffer``;
* dashboard/assets/filepond_fix.js: ``FilePond.create`` and the arguments of Panel's FilePond ``process`` handler;
* dashboard/server.py: Tornado's ``RequestHandler.set_cookie``, ``Application.find_handler`` (on Bokeh's
  application) and ``get_handler_delegate``, and Panel's ``DocHandler`` in Bokeh's ``per_app_patterns``.

dashboard.server is not imported here (importing it installs the patches and starts loading the embedding model);
its patched functions keep the originals as ``__wrapped__``, so the originals are checked either way.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path
from typing import Any

import bokeh
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.server.tornado import BokehTornado
from packaging.requirements import Requirement
from packaging.version import Version
from panel.models.file_dropper import DeleteEvent, UploadEvent
from tornado.web import Application, RequestHandler

from dashboard.upload import CappedFileDropper

ROOT = Path(__file__).resolve().parents[2]
PANEL_DIST = Path(pn.__file__).parent / "dist"
# The minor versions the patches were checked against: the pins in pyproject.toml and the comments at each patch
# name them too. A new minor release is checked by running this file on it, then all three are moved together.
CHECKED = {"panel": "1.9", "bokeh": "3.9"}


def original(owner: type, name: str) -> Any:
    """``owner.name`` as its library defines it, whether or not dashboard.server has patched it yet."""
    return inspect.unwrap(inspect.getattr_static(owner, name))


def parameters(function: Any) -> list[tuple[str, Any]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


P = inspect.Parameter


@pytest.mark.parametrize("library", sorted(CHECKED))
def test_panel_and_bokeh_are_pinned_to_the_minor_versions_the_patches_were_checked_against(library: str) -> None:
    checked = Version(CHECKED[library])
    installed = Version({"panel": pn.__version__, "bokeh": bokeh.__version__}[library])
    assert installed.release[:2] == checked.release, f"{library} {installed}: check the patches against it first"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (pin,) = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == library]
    next_minor = f"{checked.major}.{checked.minor + 1}"
    assert pin.specifier == Requirement(f"{library}>={checked},<{next_minor}").specifier, pin


def upload_event(model: Any, name: str, chunk: int, total: int, data: bytes) -> UploadEvent:
    return UploadEvent(model, data={"name": name, "chunk": chunk, "total_chunks": total, "type": "", "data": data})


def test_file_droppers_events_reach_process_event_which_buffers_chunks_by_name_in_file_buffer() -> None:
    """What CappedFileDropper overrides and reads: every event the page sends reaches ``_process_event(event)``,
    and ``_file_buffer`` holds each file in flight by name from its first chunk until its last."""
    process_event = parameters(pn.widgets.FileDropper._process_event)
    assert process_event == [("self", P.POSITIONAL_OR_KEYWORD), ("event", P.POSITIONAL_OR_KEYWORD)]
    document = Document()
    dropper = pn.widgets.FileDropper(chunk_size=4)
    assert dropper._file_buffer == {}
    model = dropper.get_root(document)
    document.add_root(model)  # as a session does: the model's event callbacks subscribe to the document
    # Delivered the way the page's events are (a "bokeh_event" message): through the document to the model's
    # callbacks, which Panel registered.
    document.callbacks.trigger_event(upload_event(model, "a.pdf", 1, 2, b"abcd"))
    assert list(dropper._file_buffer) == ["a.pdf"] and dropper.value == {}
    document.callbacks.trigger_event(upload_event(model, "a.pdf", 2, 2, b"ef"))
    assert dropper._file_buffer == {} and dropper.value == {"a.pdf": b"abcdef"}
    document.callbacks.trigger_event(DeleteEvent(model, data={"name": "a.pdf"}))
    assert dropper.value == {}


def test_capped_file_droppers_override_is_on_the_events_path() -> None:
    """Panel dispatches to the subclass's ``_process_event``: an oversized file is refused, not buffered."""
    refused: list[str] = []
    document = Document()
    dropper = CappedFileDropper(max_bytes=4, max_count=5, on_refused=lambda name, _: refused.append(name), chunk_size=4)
    model = dropper.get_root(document)
    document.add_root(model)  # as a session does: the model's event callbacks subscribe to the document
    document.callbacks.trigger_event(upload_event(model, "big.pdf", 1, 3, b"abcd"))
    assert refused == ["big.pdf"] and dropper._file_buffer == {} and dropper.value == {}


def test_filepond_create_and_panels_process_handler_are_what_the_js_fix_wraps() -> None:
    """filepond_fix.js wraps ``FilePond.create`` and the ``server.process`` option Panel passes it, relying on
    FilePond 4's argument order (field, file, metadata, load, error, progress, ...); the bundle is what Panel
    serves."""
    bundle = (PANEL_DIST / "panel.min.js").read_text(encoding="utf-8")
    created = bundle.index("FilePond.create(this.input_el,{")
    handler = re.compile(
        r"server:\{process:\((\w+),(\w+),(\w+),(\w+),(\w+),(\w+)\)=>\{this\._process_upload\((\w+),(\w+),(\w+),(\w+)\)"
    )
    found = handler.search(bundle, created, created + 2000)
    assert found, "Panel's FilePond process handler changed shape: check dashboard/assets/filepond_fix.js against it"
    _field, file, _metadata, load, error, progress, *passed = found.groups()
    assert passed == [file, load, error, progress], "Panel passes (file, load, error, progress) on"
    (filepond,) = (PANEL_DIST / "bundled" / "filedropper").glob("filepond@*/dist/filepond.min.js")
    version = re.search(r"FilePond (\d+)\.(\d+)\.(\d+)", filepond.read_text(encoding="utf-8")[:200])
    assert version and version.group(1) == "4", "filepond_fix.js was checked against FilePond 4.32"
    fix = (ROOT / "dashboard" / "assets" / "filepond_fix.js").read_text(encoding="utf-8")
    assert "window.FilePond.create = function (element, options)" in fix


def test_tornados_set_cookie_takes_what_the_cookie_guard_passes() -> None:
    """The guard forwards ``name, value, *args`` and sets the keywords ``secure`` and ``samesite``; Panel's signed
    cookies reach it through ``set_signed_cookie``."""
    assert parameters(original(RequestHandler, "set_cookie")) == [
        ("self", P.POSITIONAL_OR_KEYWORD),
        ("name", P.POSITIONAL_OR_KEYWORD),
        ("value", P.POSITIONAL_OR_KEYWORD),
        ("domain", P.POSITIONAL_OR_KEYWORD),
        ("expires", P.POSITIONAL_OR_KEYWORD),
        ("path", P.POSITIONAL_OR_KEYWORD),
        ("expires_days", P.POSITIONAL_OR_KEYWORD),
        ("max_age", P.KEYWORD_ONLY),
        ("httponly", P.KEYWORD_ONLY),
        ("secure", P.KEYWORD_ONLY),
        ("samesite", P.KEYWORD_ONLY),
        ("kwargs", P.VAR_KEYWORD),
    ]
    assert "self.set_cookie(" in inspect.getsource(RequestHandler.set_signed_cookie)


def test_tornados_routing_is_what_the_host_check_wraps_on_bokehs_application() -> None:
    """The Host check replaces ``find_handler`` on BokehTornado and answers with ``get_handler_delegate``: Bokeh must
    not define a ``find_handler`` of its own (the patch would hide it), and Tornado's must keep its signature."""
    own = [cls for cls in BokehTornado.__mro__ if "find_handler" in vars(cls)]
    if BokehTornado in own:  # patched already by dashboard.server in this process
        assert hasattr(vars(BokehTornado)["find_handler"], "__wrapped__"), "a find_handler of Bokeh's own"
        own.remove(BokehTornado)
    assert own[0] is Application, f"find_handler now comes from {own[0]}"
    assert parameters(original(Application, "find_handler")) == [
        ("self", P.POSITIONAL_OR_KEYWORD),
        ("request", P.POSITIONAL_OR_KEYWORD),
        ("kwargs", P.VAR_KEYWORD),
    ]
    assert [name for name, _ in parameters(Application.get_handler_delegate)][:3] == ["self", "request", "target_class"]


def test_panels_page_handler_is_in_bokehs_routes_and_writes_the_page() -> None:
    """GuardedDocHandler takes the place of Panel's DocHandler in Bokeh's per-app routes and adds its policy in
    ``write``: Panel must still put its DocHandler there and send the page with ``self.write``."""
    from bokeh.server.urls import per_app_patterns
    from panel.io.server import DocHandler

    pages = [handler for pattern, handler, *_ in per_app_patterns if pattern == r"/?"]
    assert len(pages) == 1 and issubclass(pages[0], DocHandler), per_app_patterns
    assert "self.write(page)" in inspect.getsource(DocHandler.get)
