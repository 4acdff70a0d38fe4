"""The Python client against a server that does not answer as Paperline does (a redirect put in front of it, an
error page): every answer that is not 2xx is a typed error naming its status, never a raw JSON decoding error.
A real HTTP server on 127.0.0.1 answers; the client is the package's own, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from pipeline.client import ApiError, AsyncClient, Client, NotFound, Redirected

ANSWERS = {
    "/api/v1/jobs/moved": (302, {"Location": "https://elsewhere.example/steal"}, b""),
    "/api/v1/jobs/html": (502, {"Content-Type": "text/html"}, b"<html>Bad gateway</html>"),
    "/api/v1/jobs/gone": (
        404,
        {"Content-Type": "application/problem+json"},
        b'{"type": "about:blank", "title": "Not Found", "status": 404, "detail": "No job \'gone\'"}',
    ),
    "/api/v1/health": (301, {"Location": "/elsewhere"}, b""),
}


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = ANSWERS.get(self.path.split("?")[0], (500, {}, b"?"))
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_redirect_or_an_error_page_is_a_typed_error_naming_its_status(server: str) -> None:
    with Client(server, token="pl_secret") as client:
        with pytest.raises(Redirected) as moved:
            client.get("moved")
        assert moved.value.status == 302 and moved.value.location == "https://elsewhere.example/steal"
        assert "302" in str(moved.value), "the message names the status"
        with pytest.raises(Redirected):
            client.health()
        with pytest.raises(ApiError) as page:
            client.get("html")
        assert page.value.status == 502 and "502" in str(page.value)
        with pytest.raises(NotFound, match="No job 'gone'"):
            client.get("gone")

    async def async_side() -> None:
        async with AsyncClient(server) as client:
            with pytest.raises(Redirected):
                await client.get("moved")

    asyncio.run(async_side())
