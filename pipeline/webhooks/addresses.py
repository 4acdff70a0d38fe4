"""Where a webhook may go: an http(s) URL, parsed strictly, whose host resolves only to public addresses.

A URL is taken only as httpx will send it: no control, format (bidi, zero-width) or space characters anywhere,
no user name or password, a host, and a port among 80, 443 and 1024-65535 (others only where the operator lists
them, ``PAPERLINE_WEBHOOK_ALLOW_PORTS``), so no receiver URL fails at every attempt and none points deliveries at
a mail or database port. The same check runs at subscribe, at submit (``callback_url``) and before each delivery.

Every resolved address is checked (a name with one public and one private address is refused), at subscribe time
and again before each delivery, since a name can be pointed elsewhere later; the delivery then connects to the
very address checked (its URL's host replaced by it, the name kept in Host and in TLS's SNI, so the certificate
is still checked against the name), so a name that resolves to a public address for the check and a private one
for the connection (DNS rebinding) reaches nothing it should not. Loopback, link-local, private,
shared (CGNAT), multicast, reserved and unspecified addresses are refused, IPv4 inside IPv6 too, unless the
operator allows them (``PAPERLINE_WEBHOOK_ALLOW_PRIVATE``). A refusal says what was refused, never what a name
resolves to (that would answer questions about names inside the operator's network); the operator's log has it.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from pipeline.core import messages
from pipeline.core.errors import WebhookRefused

MAX_URL_LENGTH = 2000
#: ports a receiver may listen on without the operator's say: the web's own, and every unprivileged one
STANDARD_PORTS = frozenset({80, 443})
FIRST_UNPRIVILEGED_PORT = 1024

log = logging.getLogger("paperline.webhooks")


class AddressRefused(WebhookRefused, code="webhook_address_refused"):
    """A webhook URL that names no public receiver."""


def why_not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why an address is not a public receiver ("" when it is one)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("shared (carrier-grade NAT)", address in ipaddress.ip_network("100.64.0.0/10")),
        ("non-global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), "")


def without_query(url: str) -> str:
    """The URL as the operator's log shows it: no query or fragment (receivers put tokens there)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a URL that does not parse)"
    return parts._replace(query="", fragment="").geturl()


def _invisible(url: str) -> str:
    """The first character of ``url`` that a URL must not hold (control, format, surrogate, unassigned, private
    use, or any space), described, or ""."""
    for char in url:
        category = unicodedata.category(char)
        if category[0] in "CZ":
            return f"U+{ord(char):04X}"
    return ""


def check_url(url: str, ports: Iterable[int] = ()) -> tuple[str, int]:
    """The host and port of an http(s) URL fit for a webhook, or ``WebhookRefused`` saying what is wrong.
    ``ports``: ports allowed besides 80, 443 and 1024-65535."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookRefused(messages.webhook_bad_url(url[:80] + "...", f"longer than {MAX_URL_LENGTH} characters"))
    if found := _invisible(url):  # shown by its repr, which escapes what cannot be seen
        raise WebhookRefused(messages.webhook_bad_url(url, messages.webhook_url_character(found)))
    import httpx  # here: an address is checked rarely, and importing httpx costs every command a third of a second

    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)  # what the sender will send: a URL it cannot take would fail every attempt
    except (ValueError, httpx.InvalidURL) as exc:
        raise WebhookRefused(messages.webhook_bad_url(url, str(exc))) from None
    if parts.scheme not in ("http", "https"):
        raise WebhookRefused(messages.webhook_bad_url(url, "it must start with https:// or http://"))
    if not parts.hostname:
        raise WebhookRefused(messages.webhook_bad_url(url, "it names no host"))
    if "@" in parts.netloc:
        raise WebhookRefused(messages.webhook_bad_url(url, "credentials in a URL would be logged; use its secret"))
    port = (443 if parts.scheme == "https" else 80) if port is None else port
    if port not in STANDARD_PORTS and port < FIRST_UNPRIVILEGED_PORT and port not in set(ports):
        raise WebhookRefused(messages.webhook_port_refused(url, port))
    return parts.hostname, port


def check_receiver(url: str, *, allow_private: bool, ports: Iterable[int] = ()) -> str | None:
    """Refuse a URL that ``check_url`` refuses, or whose host resolves to any address that is not public (unless
    ``allow_private``): ``AddressRefused`` says so without naming what the host resolves to. The address
    checked, to connect to (None where private addresses are allowed: the name is then resolved as usual)."""
    host, port = check_url(url, ports)
    if allow_private:
        return None
    literal = _literal(host)
    if literal is not None:
        why = why_not_public(literal)
        if why:
            raise AddressRefused(messages.webhook_address_refused(host, why))
        return str(literal)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        log.info("webhook receiver %s refused: %s does not resolve (%s)", without_query(url), host, exc)
        raise AddressRefused(messages.webhook_name_refused(host)) from None
    addresses = [ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]) for *_, sockaddr in found]
    for address in addresses:
        why = why_not_public(address)
        if why:
            log.info("webhook receiver %s refused: %s is at %s, a %s address", without_query(url), host, address, why)
            raise AddressRefused(messages.webhook_name_refused(host))
    if not addresses:
        raise AddressRefused(messages.webhook_name_refused(host))
    return str(addresses[0])


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a URL's host is written as, or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def pinned(url: str, address: str) -> tuple[str, str]:
    """The URL with its host replaced by the address checked, and the Host header it names: the connection goes
    where the check looked, whatever the name resolves to a moment later (DNS rebinding)."""
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host = parts.hostname or ""
    host_header = (f"[{host}]" if ":" in host else host) + ("" if parts.port is None else f":{parts.port}")
    return parts._replace(netloc=netloc).geturl(), host_header
