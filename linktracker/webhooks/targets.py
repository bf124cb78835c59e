"""Where a webhook may send: public addresses only, checked at creation and again at send.

A name is resolved at send time and the connection goes to the address that was checked,
so a name that later resolves to a private address (DNS rebinding) cannot reach it.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from linktracker.errors import InvalidInput

MAX_URL_LENGTH = 2000
_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(InvalidInput):
    """A webhook URL that is malformed or leads to an address deliveries may not reach."""

    def __init__(self, message: str) -> None:
        super().__init__(message, {"url": message})


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (the address checked) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def _parts(url: str) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"The webhook URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"The webhook URL is not a valid URL: {exc}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("The webhook URL must be an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise UnsafeTarget("The webhook URL must not carry a user name or password.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default, path


def refusal(address: str) -> str | None:
    """Why deliveries may not go to this address (None: a public address)."""
    ip: _IP = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a reserved address"
    return None


def _addresses(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTarget(f"The webhook host {host} does not resolve: {exc}.") from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def check_target(url: str, *, allow_private: bool) -> Target:
    """Resolve a webhook URL and pick the address to connect to; UnsafeTarget if refused."""
    scheme, host, port, path = _parts(url)
    addresses = _addresses(host, port)
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                shown = host if host == address else f"{host} ({address})"
                raise UnsafeTarget(
                    f"The webhook URL points to {shown}, {reason}: deliveries to loopback, "
                    "private, link-local and reserved addresses are refused "
                    "(WEBHOOK_ALLOW_PRIVATE=true allows them)."
                )
    return Target(scheme, host, port, path, addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        # The certificate is checked against the host name, the connection is to the address.
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST the body to the checked address; the response's status code (redirects not followed)."""
    connection = (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        return response.status
    finally:
        connection.close()
