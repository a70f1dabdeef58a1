"""Where an endpoint may point: ``https`` URLs whose every resolved address is public (SSRF).

A merchant's URL is fetched by our workers, inside our network: a URL that resolves to a
private, loopback, link-local (the cloud metadata service at 169.254.169.254), CGNAT,
multicast, reserved or unspecified address (or an IPv4-mapped IPv6 form of one) would let it
reach what only we should. The rule is checked when an endpoint is added or changed, and
again at every send: the sender resolves the name once, checks every address, and connects
to the checked address itself (``Target.address``, see services.events.sender), so a name
re-pointed between the check and the connection (DNS rebinding) cannot slip through.
``EVENT_ENDPOINTS_ALLOW_PRIVATE=1`` (development and tests) allows ``http`` and private
addresses.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from shopify_loyalty.errors import ValidationError

MAX_URL_LENGTH = 2048
# Not in ipaddress's is_private for every Python version: the shared address space of
# carrier-grade NAT (RFC 6598).
CGNAT = ipaddress.ip_network("100.64.0.0/10")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrlError(ValidationError):
    code = "unsafe_endpoint_url"
    message = "The endpoint URL is not allowed."


@dataclass(frozen=True)
class Target:
    """A URL checked for sending: connect to ``address``, present ``host`` (Host, SNI)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return False
    return not (address.is_private or address.is_loopback or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified
                or not address.is_global)


def parse(url: str, allow_private: bool) -> tuple[str, str, int, str]:
    """The URL's scheme, host, port and path with query; raises UnsafeUrlError."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeUrlError(f"An endpoint URL is 1 to {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"Not a valid URL: {exc}.") from exc
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeUrlError("An endpoint URL must use https.")
    if not parts.hostname:
        raise UnsafeUrlError("An endpoint URL must name a host.")
    if parts.username or parts.password:
        raise UnsafeUrlError("An endpoint URL may not carry a user name or password.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(host: str, port: int, allow_private: bool) -> list[str]:
    """Every address ``host`` resolves to, all of them public (unless allowed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrlError(f"The endpoint's host {host!r} does not resolve.") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeUrlError(f"The endpoint's host {host!r} does not resolve.")
    if not allow_private:
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not is_public(address):
                raise UnsafeUrlError(
                    f"The endpoint's host {host!r} resolves to {text}, which is not a public "
                    "address.")
    return addresses


def check(url: str, allow_private: bool) -> Target:
    """The URL's target, resolved and checked now; raises UnsafeUrlError."""
    scheme, host, port, path = parse(url, allow_private)
    addresses = resolve(host, port, allow_private)
    return Target(scheme, host, port, path, addresses[0])
