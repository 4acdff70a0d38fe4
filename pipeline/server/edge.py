"""How ``paperline serve`` runs the dashboard: the ``panel serve`` command line, and who may reach it.

A browser page on any origin can try to open the dashboard's websocket with the analyst's cookies, so the
server accepts only the origins the operator names in ``PAPERLINE_PUBLIC_URL`` (or, by default, the address
served), never a wildcard; with authentication on, Bokeh sessions are also signed with a secret key.

A page can also rebind its own name to this server's address (DNS rebinding): the browser then sends the
attacker's name as ``Host`` and treats the server as the attacker's own site. So the server answers only to the
names of those same origins, plus the loopback names (a browser sends those only for a page opened on this
machine); any other ``Host`` is refused before routing (``HostPolicy``).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.core.errors import InvalidRequest

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD = ("0.0.0.0", "::", "")
# Panel imports this module before it builds the server: security headers (and later routes) live there.
SERVER_PLUGIN = "dashboard.server"
AUTH_OPTIONS = ("--basic-auth", "--oauth-provider")
# Panel also reads its sign-in from these variables.
AUTH_VARIABLES = ("PANEL_BASIC_AUTH", "PANEL_OAUTH_PROVIDER")
# What the page's upload channel may carry in one websocket message: one FileDropper chunk (the page sends files in
# chunks of UPLOAD_CHUNK_BYTES, as binary frames) and room for the message around it. Bokeh's default is 20 MB.
UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024
WEBSOCKET_MAX_MESSAGE_BYTES = UPLOAD_CHUNK_BYTES + 1024 * 1024


def _origin(url: str) -> str:
    parts = urlsplit(url.strip() if "://" in url else f"http://{url.strip()}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(
            f"PAPERLINE_PUBLIC_URL must list http(s) URLs such as https://paperline.example.org, not {url!r}"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname.lower()}:{port}"


def _interface_addresses() -> set[str]:
    """This machine's IPv4 addresses, as an analyst may type them: each interface's (Linux), and the one its
    default route leaves from (any system; a UDP "connect" sends nothing)."""
    found: set[str] = set()
    try:
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            for _index, interface in socket.if_nameindex():
                request = struct.pack("256s", interface.encode()[:15])
                try:  # SIOCGIFADDR: the interface's IPv4 address
                    found.add(socket.inet_ntoa(fcntl.ioctl(probe.fileno(), 0x8915, request)[20:24]))
                except OSError:
                    continue  # no IPv4 address on this one
    except (ImportError, OSError, AttributeError):
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 9))
            found.add(probe.getsockname()[0])
    except OSError:
        pass  # no route off this machine
    return {address for address in found if address != "0.0.0.0"}


def websocket_origins(public_url: str, address: str, port: int) -> list[str]:
    """``host:port`` entries a page may be loaded from to open the websocket.

    ``public_url`` (comma-separated) names them when set, e.g. the reverse proxy's address. Otherwise they are
    the address served: for a wildcard address, this machine's names and addresses (loopback, its host names,
    its interfaces' IPv4 addresses)."""
    if public_url.strip():
        return sorted({_origin(url) for url in public_url.split(",") if url.strip()})
    if address in LOOPBACK:
        hosts = {"localhost", "127.0.0.1"}
    elif address in WILDCARD:
        name = socket.gethostname()
        hosts = {"localhost", "127.0.0.1", name.lower(), socket.getfqdn().lower()}
        try:
            hosts.update(str(info[4][0]) for info in socket.getaddrinfo(name, None, socket.AF_INET))
        except OSError:
            pass  # a host name that does not resolve: its name is still accepted
        hosts.update(_interface_addresses())
    else:
        hosts = {address.lower()}
    return sorted(f"{host}:{port}" for host in hosts)


def uses_auth(panel_args: Sequence[str]) -> bool:
    return any(arg.split("=", 1)[0] in AUTH_OPTIONS for arg in panel_args)


def signs_in(panel_args: Sequence[str], env: Mapping[str, str] | None = None) -> bool:
    """Whether the dashboard asks users to sign in: Panel's options or its environment variables."""
    env = os.environ if env is None else env
    return uses_auth(panel_args) or any(env.get(name, "").strip() for name in AUTH_VARIABLES)


def served_address(address: str, panel_args: Sequence[str]) -> str:
    """The address the dashboard listens on: ``--address``, unless Panel's own options (last, so they win) say
    otherwise."""
    for position, arg in enumerate(panel_args):
        if arg.startswith("--address="):
            address = arg.split("=", 1)[1]
        elif arg == "--address" and position + 1 < len(panel_args):
            address = panel_args[position + 1]
    return address


def is_loopback(address: str) -> bool:
    """Whether only this machine can reach ``address`` (``localhost``, 127.0.0.0/8, ``::1``)."""
    name = address.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(netloc: str) -> tuple[str, int | None]:
    """``Example.org:80`` -> (``example.org``, 80); ``[::1]:5006`` -> (``::1``, 5006); no port: None."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        name, _, rest = netloc[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif netloc.count(":") == 1:
        name, _, port = netloc.partition(":")
    else:  # a bare name, or a bare IPv6 address
        name, port = netloc, ""
    return name.rstrip("."), int(port) if port.isdigit() else None


@dataclass(frozen=True)
class HostPolicy:
    """The names this server answers to and the origins whose pages may change things through it.

    ``origins`` are ``host:port`` entries (the websocket's, from ``websocket_origins``). A ``Host`` is accepted
    when its name (any port) is one of theirs, a loopback name or the address the connection arrived at; an
    ``Origin`` when it is one of them, or the accepted ``Host`` of the request itself (the page came from this
    very server)."""

    origins: frozenset[str]

    @classmethod
    def from_origins(cls, origins: Iterable[str]) -> HostPolicy:
        return cls(frozenset(origin.strip().lower() for origin in origins if origin.strip()))

    @property
    def names(self) -> frozenset[str]:
        return frozenset(_host_name(origin)[0] for origin in self.origins)

    def allows_host(self, host: str, local_address: str | None = None) -> bool:
        """``local_address``: the address the request's connection arrived at; as a ``Host`` it is this server
        under its own address (a load balancer's health check), which no page can rebind."""
        name, _ = _host_name(host)
        if local_address and name == local_address.lower():
            return True
        # Entries may be Bokeh patterns (``*.example.org``) if the operator passed them to Panel.
        return is_loopback(name) or any(fnmatchcase(name, pattern) for pattern in self.names)

    def allows_origin(self, origin: str, host: str, scheme: str = "http") -> bool:
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (a sandboxed frame, a file: page) or nonsense
        port = parts.port or (443 if parts.scheme == "https" else 80)
        seen = f"{parts.hostname.lower()}:{port}"
        own_name, own_port = _host_name(host)
        own = f"{own_name}:{own_port or (443 if scheme == 'https' else 80)}"
        return seen in self.origins or (seen == own and self.allows_host(host))


def policy_for(application: object) -> HostPolicy:
    """The policy of a running server, from the origins its websocket accepts (Bokeh's ``websocket_origins``,
    set by ``--allow-websocket-origin`` or ``BOKEH_ALLOW_WS_ORIGIN``); made once per server."""
    policy = getattr(application, "paperline_host_policy", None)
    if policy is None:
        origins = set(getattr(application, "websocket_origins", None) or ())
        origins.update(o for o in os.environ.get("BOKEH_ALLOW_WS_ORIGIN", "").split(",") if o.strip())
        policy = HostPolicy.from_origins(origins)
        try:
            # a cache on whichever server object is passed (Bokeh's or the API's Tornado application), hence `object`
            application.paperline_host_policy = policy  # type: ignore[attr-defined]
        except AttributeError:
            pass  # an object without attributes of its own: computed each time
    return policy


#: how long a session built for a page's GET waits for the page's websocket (Bokeh's own default)
UNUSED_SESSION_LIFETIME_MS = 15_000


def panel_command(
    app_path: Path | str,
    *,
    address: str,
    port: int,
    public_url: str,
    panel_args: Sequence[str],
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """``panel serve`` for the dashboard: Paperline's server plugin, explicit websocket origins, signed sessions
    with authentication (Panel's options or its variables in ``env``), then the operator's own options (which come
    last, so they win)."""
    command = [
        sys.executable,
        "-m",
        "panel",
        "serve",
        str(app_path),
        "--port",
        str(port),
        "--address",
        address,
        "--plugins",
        SERVER_PLUGIN,
        "--check-unused-sessions",
        "2000",
        # A session is built for the page's GET and taken up when the page opens its websocket, after loading its
        # scripts: seconds on a busy machine. Discarded sooner, the server builds the whole page a second time.
        "--unused-session-lifetime",
        str(UNUSED_SESSION_LIFETIME_MS),
        # Any message on the websocket beyond one upload chunk is refused by Tornado before it is buffered.
        "--websocket-max-message-size",
        str(WEBSOCKET_MAX_MESSAGE_BYTES),
    ]
    for origin in websocket_origins(public_url, address, port):
        command += ["--allow-websocket-origin", origin]
    if signs_in(panel_args, env):
        command += ["--session-ids", "signed"]
    return [*command, *panel_args]


def panel_environment(env: Mapping[str, str], panel_args: Sequence[str]) -> dict[str, str]:
    """The dashboard's environment: with authentication, a key to sign sessions with (the operator's
    ``BOKEH_SECRET_KEY`` if set, else a fresh one per ``paperline serve``, shared by its processes)."""
    out = dict(env)
    if signs_in(panel_args, env) and not out.get("BOKEH_SECRET_KEY"):
        out["BOKEH_SECRET_KEY"] = secrets.token_urlsafe(48)
    return out
