"""The server's edges without a server: the names it answers to, the anonymous-network check, the request
buckets, and the page's upload dropper keeping its limits whatever the browser sends."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from bokeh.document import Document
from panel.models.file_dropper import DeleteEvent, UploadEvent

from dashboard.feed import JobFeed
from dashboard.state import SessionState
from dashboard.upload import CappedFileDropper, UploadPanel
from pipeline import Paperline, Settings
from pipeline.api.ratelimit import RateLimiter
from pipeline.core import messages
from pipeline.server.edge import (
    HostPolicy,
    is_loopback,
    panel_command,
    panel_environment,
    served_address,
    signs_in,
    websocket_origins,
)
from tests.docgen import make_text_pdf


def test_the_policy_answers_to_named_hosts_and_loopback_only() -> None:
    policy = HostPolicy.from_origins(websocket_origins("https://paperline.example.org", "0.0.0.0", 5006))
    for host in ("paperline.example.org", "paperline.example.org:443", "Paperline.Example.Org.", "localhost:5006"):
        assert policy.allows_host(host), host
    for host in ("127.0.0.1", "127.0.0.2:80", "[::1]:5006", "::1"):
        assert policy.allows_host(host), host
    for host in ("evil.example:5006", "paperline.example.org.evil.example", "10.0.0.5", "", "[::2]:5006"):
        assert not policy.allows_host(host), host
    assert policy.allows_host("10.0.0.5:5006", local_address="10.0.0.5"), "its own address (a health check)"
    own = "https://paperline.example.org"
    assert policy.allows_origin(own, "paperline.example.org") and policy.allows_origin(own + ":443", "x")
    assert not policy.allows_origin("https://evil.example", "evil.example"), "a rebound page's Host is its own"
    assert not policy.allows_origin("http://paperline.example.org:8080", "paperline.example.org")
    assert not policy.allows_origin("null", "paperline.example.org")
    loopback = HostPolicy.from_origins(websocket_origins("", "127.0.0.1", 5006))
    assert loopback.allows_origin("http://localhost:5006", "localhost:5006")
    assert not loopback.allows_origin("http://localhost:8888", "localhost:5006"), "another local server's page"
    assert HostPolicy.from_origins(["*.example.org:80"]).allows_host("a.example.org"), "Bokeh's patterns hold"


def test_on_a_wildcard_address_the_machines_interface_addresses_are_its_names() -> None:
    from pipeline.server.edge import _interface_addresses

    found = _interface_addresses()
    assert "127.0.0.1" in found, "each interface's address is read (lo has 127.0.0.1)"
    served = websocket_origins("", "0.0.0.0", 5006)
    assert {f"{address}:5006" for address in found} <= set(served)


def test_only_loopback_serves_without_sign_in_by_default() -> None:
    assert all(is_loopback(a) for a in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.9"))
    assert not any(is_loopback(a) for a in ("0.0.0.0", "::", "", "10.0.0.5", "paperline.example.org"))
    assert served_address("127.0.0.1", ["--address", "0.0.0.0"]) == "0.0.0.0", "Panel's option wins"
    assert served_address("127.0.0.1", ["--address=10.0.0.5", "--port", "1"]) == "10.0.0.5"
    assert signs_in(["--basic-auth", "users.json"], {}) and signs_in(["--oauth-provider=github"], {})
    assert signs_in([], {"PANEL_OAUTH_PROVIDER": "github"}) and not signs_in([], {"PANEL_BASIC_AUTH": " "})


def test_sign_in_by_panels_variables_signs_sessions_too() -> None:
    """Sign-in named in Panel's environment (PANEL_BASIC_AUTH) gets signed sessions and a key, as its options do."""
    env = {"PANEL_BASIC_AUTH": "users.json"}
    command = panel_command("app.py", address="127.0.0.1", port=1, public_url="", panel_args=[], env=env)
    assert command[command.index("--session-ids") + 1] == "signed"
    assert panel_environment(env, [])["BOKEH_SECRET_KEY"]
    assert "--session-ids" not in panel_command(
        "app.py", address="127.0.0.1", port=1, public_url="", panel_args=[], env={}
    )
    command = panel_command("app.py", address="127.0.0.1", port=5006, public_url="", panel_args=[])
    assert int(command[command.index("--websocket-max-message-size") + 1]) < 20 * 2**20, "below Bokeh's default"


def test_a_bucket_allows_a_burst_then_the_rate_and_says_when() -> None:
    now = [1000.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("user:ana") == 0 for _ in range(60)), "a minute's worth at once"
    wait = limiter.take("user:ana")
    assert 0.9 < wait <= 1.0, "one more in a second (60 a minute)"
    assert limiter.take("user:bob") == 0, "another user has their own bucket"
    now[0] += 5
    assert [limiter.take("user:ana") for _ in range(6)][:5] == [0] * 5 and limiter.take("user:ana") > 0
    assert limiter.take("user:ana", cost=100) > 0, "a cost over the bucket waits for a full bucket"
    assert RateLimiter(0).take("anyone", 10**6) == 0, "0: no limit"


def upload(dropper: CappedFileDropper, name: str, data: bytes, *, chunk: int, claim: int | None = None) -> None:
    """Send ``data`` to the widget as FileDropper's page does: chunk by chunk, one event each."""
    model = dropper.get_root(Document())
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]
    total = claim or len(pieces)
    for number, piece in enumerate(pieces, 1):
        event = UploadEvent(
            model, data={"name": name, "chunk": number, "total_chunks": total, "type": "", "data": piece}
        )
        dropper._process_event(event)


def test_the_dropper_refuses_oversized_and_surplus_files_without_buffering_them() -> None:
    refused: list[tuple[str, str]] = []
    received: list[dict[str, bytes]] = []
    dropper = CappedFileDropper(
        max_bytes=1000, max_count=3, on_refused=lambda *r: refused.append(r), chunk_size=100, multiple=True
    )
    dropper.param.watch(lambda e: received.append(dict(e.new)), "value")

    upload(dropper, "ok.pdf", b"a" * 1000, chunk=100)
    assert received[-1] == {"ok.pdf": b"a" * 1000} and not refused

    # A file that says it is over the limit (more chunks of the agreed size than fit) is refused at its first
    # chunk, and none of its later chunks is kept.
    model = dropper.get_root(Document())
    for number in range(1, 13):
        piece = {"name": "big.pdf", "chunk": number, "total_chunks": 12, "type": "", "data": b"b" * 100}
        dropper._process_event(UploadEvent(model, data=piece))
        assert [name for name, _ in refused] == ["big.pdf"] and "big.pdf" not in dropper._file_buffer
    assert "big.pdf" not in dropper.value and "over the 1 MB upload limit" in refused[0][1]

    # One that claims few chunks but sends big ones is stopped as the bytes pass the limit.
    upload(dropper, "liar.pdf", b"c" * 1500, chunk=500, claim=3)
    assert refused[-1] == ("liar.pdf", "liar.pdf is 1,500 bytes, over the 1 MB upload limit.")
    assert "liar.pdf" not in dropper._file_buffer
    assert "liar.pdf" not in dropper.value

    # The same drop: ok.pdf was its first file, big.pdf and liar.pdf count too, so a fourth is refused.
    upload(dropper, "fourth.pdf", b"d" * 10, chunk=100)
    assert refused[-1][0] == "fourth.pdf" and "at most 3 files in one upload" in refused[-1][1]
    assert "fourth.pdf" not in dropper.value
    # Chunks of a file never started, or deleting one, change nothing.
    dropper._process_event(
        UploadEvent(model, data={"name": "x", "chunk": 2, "total_chunks": 3, "type": "", "data": b"x"})
    )
    dropper._process_event(DeleteEvent(model, data={"name": "ok.pdf"}))
    assert dropper._file_buffer == {} and "ok.pdf" not in dropper.value


def test_the_dropper_receives_only_a_few_files_at_once() -> None:
    from dashboard.upload import MAX_FILES_IN_FLIGHT

    refused: list[tuple[str, str]] = []
    dropper = CappedFileDropper(max_bytes=1000, max_count=20, on_refused=lambda *r: refused.append(r), chunk_size=10)
    model = dropper.get_root(Document())
    for n in range(MAX_FILES_IN_FLIGHT + 1):  # first chunks of files sent side by side, none finished
        piece = {"name": f"{n}.pdf", "chunk": 1, "total_chunks": 3, "type": "", "data": b"x" * 10}
        dropper._process_event(UploadEvent(model, data=piece))
    assert len(dropper._file_buffer) == MAX_FILES_IN_FLIGHT
    assert refused == [
        (f"{MAX_FILES_IN_FLIGHT}.pdf", messages.too_many_at_once(MAX_FILES_IN_FLIGHT, f"{MAX_FILES_IN_FLIGHT}.pdf"))
    ]


def test_a_drop_settles_once_no_file_is_half_received_and_the_channel_is_quiet() -> None:
    from dashboard.upload import DROP_SETTLE_S

    dropper = CappedFileDropper(max_bytes=1000, max_count=20, on_refused=lambda *r: None, chunk_size=10)
    model = dropper.get_root(Document())
    dropper._process_event(
        UploadEvent(model, data={"name": "a", "chunk": 1, "total_chunks": 2, "type": "", "data": b"x"})
    )
    sent = time.monotonic()
    assert not dropper.settled(sent + 10 * DROP_SETTLE_S), "a file is half received"
    dropper._process_event(
        UploadEvent(model, data={"name": "a", "chunk": 2, "total_chunks": 2, "type": "", "data": b"y"})
    )
    sent = time.monotonic()
    assert not dropper.settled(sent + DROP_SETTLE_S / 2) and dropper.settled(sent + DROP_SETTLE_S)


def test_the_upload_panel_says_what_the_server_refused(tmp_path: Path) -> None:
    app = Paperline(Settings(home=tmp_path / "home", max_upload_mb=1, max_files_per_upload=3))
    try:
        state = SessionState(feed=JobFeed(app), user="local")
        state.connect()
        panel = UploadPanel(state=state)
        assert panel._dropper.max_files == 3 and panel._dropper._max_bytes == 2**20
        upload(panel._dropper, "huge.pdf", b"%PDF" + b"0" * 2**20, chunk=panel._dropper.chunk_size)
        assert "huge.pdf is 1,048,580 bytes, over the 1 MB upload limit. Nothing of it was kept." in panel.rejections
        assert app.jobs() == [], "nothing reached the service"
        pdf = make_text_pdf(tmp_path / "small.pdf", 1).read_bytes()
        upload(panel._dropper, "small.pdf", pdf, chunk=panel._dropper.chunk_size)
        assert [job.filename for job in panel.acknowledgements] == ["small.pdf"]
        assert panel.arriving == {}, "a file that became a job is no longer on its way"
    finally:
        app.close()


@pytest.mark.parametrize("address", ["0.0.0.0", "10.1.2.3"])
def test_panel_command_keeps_the_address(address: str) -> None:
    command = panel_command("app.py", address=address, port=1, public_url="", panel_args=[])
    assert command[command.index("--address") + 1] == address
