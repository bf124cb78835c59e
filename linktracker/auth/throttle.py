"""Sign-in throttling, kept in the database so every worker and process shares the count.

Two limits, neither of which lets a stranger lock an owner out:

* per address: every attempt from one address counts (LOGIN_RATE_LIMIT);
* per account and address: failed attempts at one account from one address count
  (LOGIN_FAILURE_LIMIT). Failures from elsewhere never block the owner's own address.

An attempt is written (and committed) before it is counted, and the count includes attempts
other workers have not finished yet: two workers can both refuse, never both let through
more than the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import parse
from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from linktracker.auth.models import LoginAttempt
from linktracker.db import utcnow
from linktracker.errors import DomainError

_COUNTED_FAILURES = ("pending", "failed")


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta

    @classmethod
    def parse(cls, text: str) -> Limit:
        """A limit written as "10 per minute" or "5 per 15 minutes"; ValueError otherwise."""
        try:
            item = parse(text)
        except ValueError:
            item = None
        if item is None or item.amount < 1:
            raise ValueError(f"{text!r} is not a limit like '10 per minute' or '5 per 15 minutes'.")
        return cls(int(item.amount), timedelta(seconds=item.get_expiry()))


@dataclass(frozen=True)
class LoginLimits:
    per_address: Limit
    failures_per_account: Limit

    @classmethod
    def parse(cls, per_address: str, failures_per_account: str) -> LoginLimits:
        """Both limits from their settings (LOGIN_RATE_LIMIT, LOGIN_FAILURE_LIMIT)."""
        limits = []
        for setting, text in (
            ("LOGIN_RATE_LIMIT", per_address),
            ("LOGIN_FAILURE_LIMIT", failures_per_account),
        ):
            try:
                limits.append(Limit.parse(text))
            except ValueError as exc:
                raise ValueError(f"{setting}: {exc}") from exc
        return cls(*limits)


class LoginThrottled(DomainError):
    """Too many attempts; `retry_after` says in how many seconds to try again."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def address_key(secret: bytes, address: str) -> str:
    """What an attempt keeps of the client's address: a keyed hash, never the address itself."""
    return hmac.new(secret, b"sign-in:" + address.encode(), hashlib.sha256).hexdigest()


def start_attempt(
    session: Session, email: str, address: str, limits: LoginLimits, now: datetime | None = None
) -> int:
    """Record an attempt and return its id; LoginThrottled (and nothing kept) when over a limit."""
    now = now or utcnow()
    email = email.strip().lower()[:320]
    address = address[:64]
    longest = max(limits.per_address.window, limits.failures_per_account.window)
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - longest))
    attempt = LoginAttempt(email=email, address=address, outcome="pending", attempted_at=now)
    session.add(attempt)
    session.commit()
    by_address = _times(address, attempt.id, now - limits.per_address.window)
    by_account = _times(address, attempt.id, now - limits.failures_per_account.window).where(
        LoginAttempt.email == email, LoginAttempt.outcome.in_(_COUNTED_FAILURES)
    )
    waits = [
        _wait(session, by_address, limits.per_address, now),
        _wait(session, by_account, limits.failures_per_account, now),
    ]
    if waits[0] or waits[1]:
        session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
        session.commit()
        raise LoginThrottled(_message(max(waits)), max(waits))
    return attempt.id


def finish_attempt(session: Session, attempt_id: int, succeeded: bool) -> None:
    """Mark the attempt; a success clears that account's failures from that address."""
    attempt = session.get(LoginAttempt, attempt_id)
    if attempt is None:
        return
    attempt.outcome = "succeeded" if succeeded else "failed"
    if succeeded:
        session.execute(
            update(LoginAttempt)
            .where(
                LoginAttempt.email == attempt.email,
                LoginAttempt.address == attempt.address,
                LoginAttempt.outcome == "failed",
            )
            .values(outcome="cleared")
        )
    session.commit()


def _times(address: str, own_id: int, since: datetime) -> Select[datetime]:
    return select(LoginAttempt.attempted_at).where(
        LoginAttempt.address == address,
        LoginAttempt.attempted_at > since,
        LoginAttempt.id != own_id,
    )


def _wait(session: Session, query: Select[datetime], limit: Limit, now: datetime) -> int:
    """Seconds until fewer than `limit.count` earlier attempts remain in the window; 0 if so now."""
    # The limit-th newest earlier attempt: once it leaves the window, one more is allowed.
    newest = query.order_by(LoginAttempt.attempted_at.desc()).offset(limit.count - 1).limit(1)
    edge = session.scalar(newest)
    if edge is None:
        return 0
    return max(1, math.ceil((edge + limit.window - now).total_seconds()))


def _message(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    when = f"{seconds} seconds" if seconds < 60 else f"{minutes} minute{'s' * (minutes > 1)}"
    return f"Too many sign-in attempts. Try again in {when}."
