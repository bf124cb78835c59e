"""SMTP_URL: where the digest is sent, read into settings smtplib can use.

    smtp://host:25                      plain (a relay on the same host or network)
    smtp://user:pass@host:587?starttls=true   upgraded with STARTTLS (the usual submission port)
    smtps://user:pass@host:465          TLS from the first byte

User name and password are percent-decoded, so a password may hold any character.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from linktracker.errors import InvalidInput

Security = Literal["none", "starttls", "tls"]
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def describe(self) -> str:
        """Where mail goes, without the password."""
        who = f"{self.username}@" if self.username else ""
        return f"{who}{self.host}:{self.port} ({self.security})"


def parse_smtp_url(url: str, *, timeout: float = 30.0) -> SmtpSettings:
    """SmtpSettings from an SMTP_URL, or InvalidInput saying what is wrong with it."""
    if not url.strip():
        raise InvalidInput(
            "SMTP_URL is not set: set it to smtp://host:port, smtp://user:password@host:587"
            "?starttls=true or smtps://user:password@host:465 to send email.",
            {"SMTP_URL": "Not set."},
        )
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS:
        raise InvalidInput(
            "SMTP_URL must start with smtp:// or smtps://.", {"SMTP_URL": "Unknown scheme."}
        )
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise InvalidInput("SMTP_URL has an invalid port.", {"SMTP_URL": "Bad port."}) from None
    if not parts.hostname:
        raise InvalidInput("SMTP_URL names no host.", {"SMTP_URL": "No host."})
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["false"])[-1].strip().lower() in TRUE
    if parts.scheme == "smtps" and starttls:
        raise InvalidInput(
            "SMTP_URL: smtps:// already speaks TLS; use smtp://…?starttls=true for STARTTLS.",
            {"SMTP_URL": "smtps with starttls."},
        )
    security: Security = "tls" if parts.scheme == "smtps" else "starttls" if starttls else "none"
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, greeted (and, when configured, encrypted and logged-in) SMTP connection."""
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if settings.security == "tls":
        server = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        server.ehlo()
        if settings.security == "starttls":
            server.starttls(context=context)
            server.ehlo()
        if settings.username:
            server.login(settings.username, settings.password or "")
    except BaseException:
        server.close()
        raise
    return server
