"""How ``paperline serve`` runs the dashboard: the ``panel serve`` command line and who may open its websocket.

A browser page on any origin can try to open the dashboard's websocket with the analyst's cookies, so the
server accepts only the origins the operator names in ``PAPERLINE_PUBLIC_URL`` (or, by default, the address
served), never a wildcard; with authentication on, Bokeh sessions are also signed with a secret key.
"""

from __future__ import annotations

import secrets
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from .exceptions import InvalidRequest

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD = ("0.0.0.0", "::", "")
# Panel imports this module before it builds the server: security headers (and later routes) live there.
SERVER_PLUGIN = "dashboard.server"
AUTH_OPTIONS = ("--basic-auth", "--oauth-provider")


def _origin(url: str) -> str:
    parts = urlsplit(url.strip() if "://" in url else f"http://{url.strip()}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(
            f"PAPERLINE_PUBLIC_URL must list http(s) URLs such as https://paperline.example.org, not {url!r}"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname.lower()}:{port}"


def websocket_origins(public_url: str, address: str, port: int) -> list[str]:
    """``host:port`` entries a page may be loaded from to open the websocket.

    ``public_url`` (comma-separated) names them when set, e.g. the reverse proxy's address. Otherwise they are
    the address served: for a wildcard address, this machine's names and addresses."""
    if public_url.strip():
        return sorted({_origin(url) for url in public_url.split(",") if url.strip()})
    if address in LOOPBACK:
        hosts = {"localhost", "127.0.0.1"}
    elif address in WILDCARD:
        name = socket.gethostname()
        hosts = {"localhost", "127.0.0.1", name.lower(), socket.getfqdn().lower()}
        try:
            hosts.update(info[4][0] for info in socket.getaddrinfo(name, None, socket.AF_INET))
        except OSError:
            pass  # a host name that does not resolve: its name is still accepted
    else:
        hosts = {address.lower()}
    return sorted(f"{host}:{port}" for host in hosts)


def uses_auth(panel_args: Sequence[str]) -> bool:
    return any(arg.split("=", 1)[0] in AUTH_OPTIONS for arg in panel_args)


def panel_command(
    app_path: Path | str, *, address: str, port: int, public_url: str, panel_args: Sequence[str]
) -> list[str]:
    """``panel serve`` for the dashboard: Paperline's server plugin, explicit websocket origins, signed sessions
    with authentication, then the operator's own options (which come last, so they win)."""
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
        "--unused-session-lifetime",
        "5000",
    ]
    for origin in websocket_origins(public_url, address, port):
        command += ["--allow-websocket-origin", origin]
    if uses_auth(panel_args):
        command += ["--session-ids", "signed"]
    return [*command, *panel_args]


def panel_environment(env: Mapping[str, str], panel_args: Sequence[str]) -> dict[str, str]:
    """The dashboard's environment: with authentication, a key to sign sessions with (the operator's
    ``BOKEH_SECRET_KEY`` if set, else a fresh one per ``paperline serve``, shared by its processes)."""
    out = dict(env)
    if uses_auth(panel_args) and not out.get("BOKEH_SECRET_KEY"):
        out["BOKEH_SECRET_KEY"] = secrets.token_urlsafe(48)
    return out
