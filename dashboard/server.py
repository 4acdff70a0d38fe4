"""What Paperline adds to Panel's server: the names it answers to, its cookies, security headers on the page.

``paperline serve`` loads this module with ``panel serve app.py --plugins dashboard.server`` (Panel imports it
before it builds the server and serves its ``ROUTES``). Importing it:

* makes the server refuse, before routing, any request whose ``Host`` is not one of its names (421): the page,
  static files, the websocket, the API and the operator's hooks alike, so a page that rebinds its own DNS name to
  this server cannot use it (``pipeline.server.edge.HostPolicy``);
* marks every cookie ``SameSite=Lax``, and ``Secure`` when the request came over HTTPS (``--use-xheaders`` behind a
  proxy) or every ``PAPERLINE_PUBLIC_URL`` is https: Panel's sign-in cookies included;
* swaps Panel's page handler for one that sends a Content-Security-Policy computed from the page itself: the
  page's own inline scripts and the template's own inline handlers (the sidebar and theme buttons) are allowed by
  their hashes, so anything a document or a model manages to put into the page later (an ``onerror=`` handler, a
  ``<script>``, a ``javascript:`` link) is refused by the browser even if it slipped past escaping and sanitizing.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import html
import logging
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from typing import Any

import panel as pn
from bokeh.server.tornado import BokehTornado
from bokeh.server.urls import per_app_patterns
from panel.io.server import DocHandler
from tornado.web import RequestHandler

from pipeline import Paperline
from pipeline.api import api_routes
from pipeline.api.handlers import shared_app, sign_in_required
from pipeline.core import messages
from pipeline.core.errors import TokenRefused
from pipeline.core.settings import Settings
from pipeline.server.context import warm_up
from pipeline.server.edge import policy_for

log = logging.getLogger("paperline.server")

INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL | re.IGNORECASE)
SCRIPT_TYPE = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
# Inline scripts of these types run (an empty type is JavaScript); JSON data blocks and import maps do not.
EXECUTABLE_TYPES = {"", "text/javascript", "application/javascript", "module"}
# Everything but scripts: Bokeh and Panel style elements inline and render images and fonts from data: URLs. Nothing
# from another host: the page uses the system's fonts (``dashboard.app.Fast``) and Panel's files from this server.
FIXED_DIRECTIVES = (
    "default-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self' blob:",  # the module shim fetches the modules it was handed as blob: URLs
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
)
# What BokehJS and Panel need, found by loading the page under the policy in Chromium: BokehJS compiles some code
# with ``new Function`` ('unsafe-eval'; it does not allow inline handlers or javascript: URLs), and Panel's module
# shim loads rewritten modules from blob: URLs that only running script can create.
SCRIPT_NEEDS = ("'unsafe-eval'", "blob:")
# Panel's module shim (es-module-shims, which every custom component's module goes through) probes the browser with
# an inline script in a srcdoc frame and waits for its answer before it loads any module: refused, it would wait
# forever (and log the refusal). It gives that script the nonce of the first ``script[nonce]`` of the page, so its
# own tag carries this response's nonce, which the policy allows.
MODULE_SHIM = re.compile(r"<script(?=[^>]*\bsrc=\"[^\"]*es-module-shims)", re.IGNORECASE)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


def content_security_policy(page: str, nonce: str = "") -> str:
    """The policy for one rendered page: scripts from this server, plus the page's own inline scripts and inline
    handlers by hash (``'unsafe-hashes'`` covers handlers only with a matching hash; no ``'unsafe-inline'``), and
    the script this response's ``nonce`` was given to (the module shim's probe)."""
    sources = ["'self'", *SCRIPT_NEEDS, *([f"'nonce-{nonce}'"] if nonce else [])]
    for match in INLINE_SCRIPT.finditer(page):
        attrs = match.group("attrs")
        kind = SCRIPT_TYPE.search(attrs)
        if "src=" not in attrs.lower() and (kind.group(1).lower() if kind else "") in EXECUTABLE_TYPES:
            sources.append(_hash(match.group("body")))
    handlers = {html.unescape(double or single) for double, single in INLINE_HANDLER.findall(page)}
    if handlers:
        sources.append("'unsafe-hashes'")
        sources.extend(_hash(handler) for handler in sorted(handlers))
    return "; ".join([*FIXED_DIRECTIVES, "script-src " + " ".join(dict.fromkeys(sources))])


# Patches of other libraries' internals, each checked against the versions pyproject.toml pins (Panel 1.9.4, Bokeh
# 3.9.2, Tornado 6.6.1) and fenced by tests/unit/test_patches.py, which fails the day a patched name goes or its
# signature changes. We found no upstream issue asking for these hooks; each comment says what the version lacks.


# Panel 1.9.4 swaps Bokeh's page handler for its DocHandler in bokeh.server.urls.per_app_patterns (Bokeh builds
# each app's routes from that list); we swap in this subclass the same way. Panel's DocHandler.get sends the page
# with self.write, which this overrides.
class GuardedDocHandler(DocHandler):
    """Panel's page handler, sending the page with a Content-Security-Policy and the usual hardening headers."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)

    def write(self, chunk: str | bytes | dict) -> None:
        if isinstance(chunk, (str, bytes)):
            page = chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
            if "<html" in page[:4096].lower():
                nonce = secrets.token_urlsafe(18)
                page, shims = MODULE_SHIM.subn(f'<script nonce="{nonce}"', page, count=1)
                self.set_header("Content-Security-Policy", content_security_policy(page, nonce if shims else ""))
                chunk = page
        super().write(chunk)


class MisdirectedHandler(RequestHandler):
    """The answer to a request sent under a name this server does not answer to, whatever its method or path."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS")
    logged: set[str] = set()

    def prepare(self) -> None:
        name = self.request.host_name
        if name not in self.logged and len(self.logged) < 100:  # once a name: a scan must not flood the log
            self.logged.add(name)
            log.warning(messages.host_refused_log(name, sorted(policy_for(self.application).names)))
        self.set_status(421)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(messages.misdirected(name) + "\n")


# Bokeh 3.9 checks only its websocket's Origin (hardened in 3.8.2, bokeh#14768), never a request's Host, and builds
# its Tornado application itself with no hook before routing: Tornado 6.6's Application.find_handler (which
# BokehTornado does not override) is where every request, websocket upgrades too, is routed.
_find_handler = BokehTornado.find_handler


def _local_address(request: Any) -> str | None:
    """The address of this server the request's connection arrived at (None for a Unix socket)."""
    try:
        address = request.connection.stream.socket.getsockname()
    except (AttributeError, OSError):
        return None
    return address[0] if isinstance(address, tuple) else None


@functools.wraps(_find_handler, assigned=(), updated=())  # keeps the original as __wrapped__ for the fence test
def _find_handler_for_own_names(self: BokehTornado, request: Any, **kwargs: Any) -> Any:
    """Bokeh's routing, after the Host check (Tornado asks this for every request, websocket upgrades too)."""
    if not policy_for(self).allows_host(request.host, _local_address(request)):
        return self.get_handler_delegate(request, MisdirectedHandler)
    return _find_handler(self, request, **kwargs)


def _public_urls_are_https() -> bool:
    urls = Settings.from_env().public_urls
    return bool(urls) and all(url.lower().startswith("https://") for url in urls)


# Tornado 6.6 has no application-wide cookie attributes (samesite and secure are arguments of each set_cookie call)
# and Panel 1.9.4's sign-in handlers (panel/auth.py) pass neither; set_signed_cookie goes through set_cookie.
_set_cookie = RequestHandler.set_cookie
PUBLIC_HTTPS = _public_urls_are_https()


@functools.wraps(_set_cookie, assigned=(), updated=())  # keeps the original as __wrapped__ for the fence test
def _set_cookie_guarded(self: RequestHandler, name: str, value: str | bytes, *args: Any, **kwargs: Any) -> None:
    """Every cookie of this server ``SameSite=Lax`` (not sent with another site's POST or frame), and ``Secure``
    (never sent over plain HTTP) where the server is reached over HTTPS."""
    if PUBLIC_HTTPS or self.request.protocol == "https":
        kwargs["secure"] = True
    kwargs.setdefault("samesite", "Lax")
    _set_cookie(self, name, value, *args, **kwargs)


def install() -> None:
    """Serve every app's page through ``GuardedDocHandler`` (Bokeh builds its routes from this list), check the
    Host of every request, and guard every cookie."""
    for position, route in enumerate(per_app_patterns):
        if route[1] is DocHandler:
            per_app_patterns[position] = (route[0], GuardedDocHandler, *route[2:])
    # Patching the servers' own methods is the point: Bokeh and Tornado have no hook for either.
    BokehTornado.find_handler = _find_handler_for_own_names  # type: ignore[method-assign, assignment]
    RequestHandler.set_cookie = _set_cookie_guarded  # type: ignore[method-assign]


install()
warm_up()  # the embedding model loads while the server starts, not on the first search


class OperatorHandler(RequestHandler):
    """A hook for the operator: open where no one signs in (the server is then on loopback, or its operator
    allowed anonymous use); with sign-in, only for an admin, by API token (as a Prometheus scraper sends it) or by
    the sign-in cookie."""

    WHAT = "This page"

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    async def prepare(self) -> None:
        if not sign_in_required(self.application):
            return
        header = self.request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        app = shared_app()
        loop = asyncio.get_running_loop()
        if scheme.lower() == "bearer" and secret.strip():
            user = await loop.run_in_executor(None, self._token_user, app, secret.strip())
        else:
            user = await self._signed_in_user()
        if user is None or not app.is_admin(user):
            self.set_status(401 if user is None else 403)
            if user is None:
                self.set_header("WWW-Authenticate", 'Bearer realm="paperline"')
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(messages.operator_sign_in(self.WHAT) + "\n")

    @staticmethod
    def _token_user(app: Paperline, secret: str) -> str | None:
        """The user of a live token (the API's own rules: expiry, revocation, who may sign in), or None."""
        try:
            return app.api_token(secret).user
        except TokenRefused:
            return None

    async def _signed_in_user(self) -> str | None:
        # Bokeh's BokehTornado sets it; the handler's application is typed as Tornado's plain Application
        provider = self.application.auth_provider  # type: ignore[attr-defined]
        if provider.get_user_async is not None:
            user = await provider.get_user_async(self)
        else:
            user = provider.get_user(self)
        return user.decode() if isinstance(user, bytes) else user


class MetricsHandler(OperatorHandler):
    """``GET /metrics``: Prometheus metrics of this dashboard server: the store's view (jobs by status, queue
    depth, live workers), its feed's (sessions, seconds since it last read the store, once a page started it) and
    this process's counters (store statements, the feed's refreshes and delivery lag, the API's event-stream reads,
    memory and CPU). The store is read on a thread, never on the event loop that serves every session."""

    WHAT = "Metrics"

    async def get(self) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
        from prometheus_client.core import GaugeMetricFamily, Metric

        from .feed import FEED_CACHE_KEY

        feed = pn.state.cache.get(FEED_CACHE_KEY)  # None until the first page starts it

        class FeedCollector:
            def collect(self) -> Iterator[Metric]:
                sessions = feed.subscriber_count if feed is not None else 0
                yield GaugeMetricFamily(
                    "paperline_sessions", "Dashboard sessions open in this process.", value=sessions
                )
                if feed is not None and feed.refreshed_at:
                    lag = max(0.0, time.time() - feed.refreshed_at)
                    yield GaugeMetricFamily(
                        "paperline_feed_lag_seconds", "Seconds since the feed last read the store.", value=lag
                    )

        class ProcessCollector:
            """What this process counted (``pipeline.core.metrics``, ``dashboard.feed``) and prometheus_client's
            own process and Python metrics."""

            def collect(self) -> Iterable[Metric]:
                return REGISTRY.collect()

        registry = shared_app().store_metrics()
        registry.register(FeedCollector())
        registry.register(ProcessCollector())
        body = await asyncio.get_running_loop().run_in_executor(None, generate_latest, registry)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(body)


#: extra Tornado routes Panel serves beside the dashboard: its own hooks, and the HTTP API (``pipeline.api``)
ROUTES: list[tuple] = [
    (r"/metrics", MetricsHandler, {}),
    *api_routes(),
]
