"""A real SMTP server on loopback for the tests (aiosmtpd), keeping what it receives.

With ``tls`` it speaks STARTTLS (required before mail or login) or implicit TLS (``smtps://``),
with a certificate for 127.0.0.1 issued by a throwaway certificate authority (trustme): a client
trusts it only when told to, through ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    """What the server accepted: one entry per message, and the recipients it refused."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[str] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages whose envelope named this recipient."""
        return [message for rcpts, message in self.messages if address in rcpts]

    @property
    def recipients(self) -> list[str]:
        return sorted(r for rcpts, _ in self.messages for r in rcpts)


class _Handler:
    def __init__(self, received: Received) -> None:
        self.received = received

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.received.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


Tls = Literal["starttls", "tls"]


def certificate_authority() -> trustme.CA:
    """A throwaway certificate authority for a test's TLS servers."""
    return trustme.CA()


@contextmanager
def smtp_server(
    *, password: str | None = None, tls: Tls | None = None, ca: trustme.CA | None = None
) -> Iterator[tuple[str, Received]]:
    """A running server: (its smtp:// URL, what it received). With ``password`` it offers
    AUTH (over the plain connection unless ``tls``) and keeps the user names that logged in.
    With ``tls`` its certificate comes from ``ca`` (a new one if not given)."""
    received = Received()
    port = free_port()
    options: dict[str, Any] = {}
    scheme = "smtp"
    if tls is not None:
        context = (ca or certificate_authority()).issue_cert("127.0.0.1").configure_cert
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context(server_context)
        if tls == "starttls":
            options = {"tls_context": server_context, "require_starttls": True}
        else:
            options = {"ssl_context": server_context}
            scheme = "smtps"
    if password is not None:

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                         auth_data: Any) -> AuthResult:  # fmt: skip
            ok = isinstance(auth_data, LoginPassword) and auth_data.password == password.encode()
            if ok:
                received.logins.append(auth_data.login.decode())
            return AuthResult(success=ok)

        # Without TLS, AUTH is offered over the plain connection: requiring TLS there makes
        # aiosmtpd warn on every connection, and the client logs in anyway when the URL has a
        # user. With TLS, a login before encryption is refused, as by a real submission server.
        # Implicit TLS wraps the socket below aiosmtpd, which then cannot tell it is encrypted.
        options |= {"authenticator": authenticate, "auth_require_tls": tls == "starttls"}
    controller = Controller(_Handler(received), hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield f"{scheme}://127.0.0.1:{port}", received
    finally:
        controller.stop()
