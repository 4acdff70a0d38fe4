"""Where a webhook may go: an http(s) URL whose host resolves only to public addresses.

Every resolved address is checked (a name with one public and one private address is refused), at subscribe time
and again before each delivery, since a name can be pointed elsewhere later; the delivery then connects to the
very address checked (its URL's host replaced by it, the name kept in Host and in TLS's SNI, so the certificate
is still checked against the name), so a name that resolves to a public address for the check and a private one
for the connection (DNS rebinding) reaches nothing it should not. Loopback, link-local, private,
shared (CGNAT), multicast, reserved and unspecified addresses are refused, IPv4 inside IPv6 too, unless the
operator allows them (``PAPERLINE_WEBHOOK_ALLOW_PRIVATE``).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from pipeline.core import messages
from pipeline.core.errors import WebhookRefused

MAX_URL_LENGTH = 2000


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


def check_url(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL fit for a webhook, or ``WebhookRefused`` saying what is wrong."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookRefused(messages.webhook_bad_url(url[:80] + "...", f"longer than {MAX_URL_LENGTH} characters"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookRefused(messages.webhook_bad_url(url, str(exc))) from None
    if parts.scheme not in ("http", "https"):
        raise WebhookRefused(messages.webhook_bad_url(url, "it must start with https:// or http://"))
    if not parts.hostname:
        raise WebhookRefused(messages.webhook_bad_url(url, "it names no host"))
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused(messages.webhook_bad_url(url, "credentials in a URL would be logged; use its secret"))
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_receiver(url: str, *, allow_private: bool) -> str | None:
    """Refuse a URL that is not http(s) or whose host resolves to any address that is not public (unless
    ``allow_private``); ``AddressRefused`` says which address and why. The address checked, to connect to (None
    where private addresses are allowed: the name is then resolved as usual)."""
    host, port = check_url(url)
    if allow_private:
        return None
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(messages.webhook_bad_url(url, f"its host does not resolve: {exc}")) from None
    addresses = [ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]) for *_, sockaddr in found]
    for address in addresses:
        why = why_not_public(address)
        if why:
            raise AddressRefused(messages.webhook_address_refused(host, str(address), why))
    if not addresses:
        raise AddressRefused(messages.webhook_bad_url(url, "its host does not resolve"))
    return str(addresses[0])


def pinned(url: str, address: str) -> tuple[str, str]:
    """The URL with its host replaced by the address checked, and the Host header it names: the connection goes
    where the check looked, whatever the name resolves to a moment later (DNS rebinding)."""
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host = parts.hostname or ""
    host_header = (f"[{host}]" if ":" in host else host) + ("" if parts.port is None else f":{parts.port}")
    return parts._replace(netloc=netloc).geturl(), host_header
