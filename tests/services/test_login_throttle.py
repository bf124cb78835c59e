"""Sign-in throttling over time: windows expire, refused attempts leave nothing behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.auth.models import LoginAttempt
from linktracker.auth.services import LoginFailed, create_user, sign_in
from linktracker.auth.throttle import LoginLimits, LoginThrottled
from linktracker.db import utcnow
from tests.support import PASSWORD

LIMITS = LoginLimits.parse("10 per minute", "5 per 15 minutes")
HERE, THERE = "198.51.100.7", "203.0.113.9"


def test_failures_at_an_account_from_an_address_expire_after_the_window(session: Session) -> None:
    create_user(session, "ana@example.com", "marketer", PASSWORD)
    start = utcnow()
    for n in range(5):
        with pytest.raises(LoginFailed):
            sign_in(session, "ana@example.com", "wrong", address=THERE, limits=LIMITS,
                    now=start + timedelta(minutes=2 * n))  # fmt: skip
    later = start + timedelta(minutes=8, seconds=30)
    with pytest.raises(LoginThrottled) as caught:
        sign_in(session, "ana@example.com", PASSWORD, address=THERE, limits=LIMITS, now=later)
    # The oldest failure leaves the window at start + 15 minutes.
    assert caught.value.retry_after == 390
    assert caught.value.message == "Too many sign-in attempts. Try again in 7 minutes."
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 5
    # Meanwhile the owner signs in from their own address.
    assert sign_in(session, "ana@example.com", PASSWORD, address=HERE, limits=LIMITS, now=later)
    after = start + timedelta(minutes=15, seconds=1)
    user = sign_in(session, "ana@example.com", PASSWORD, address=THERE, limits=LIMITS, now=after)
    assert user.email == "ana@example.com"


def test_old_attempts_are_deleted(session: Session) -> None:
    start = utcnow()
    for n in range(3):
        with pytest.raises(LoginFailed):
            sign_in(session, f"x{n}@example.com", "wrong", address=THERE, limits=LIMITS, now=start)
    with pytest.raises(LoginFailed):
        sign_in(session, "y@example.com", "wrong", address=THERE, limits=LIMITS,
                now=start + timedelta(minutes=16))  # fmt: skip
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1


def test_limits_are_read_from_their_settings() -> None:
    limits = LoginLimits.parse("10/minute", "3 per 2 hours")
    assert (limits.per_address.count, limits.per_address.window) == (10, timedelta(minutes=1))
    assert limits.failures_per_account.window == timedelta(hours=2)


@pytest.mark.parametrize("setting", ["LOGIN_RATE_LIMIT", "LOGIN_FAILURE_LIMIT"])
def test_a_mistyped_limit_stops_the_app_from_starting(
    config: dict[str, object], setting: str
) -> None:
    with pytest.raises(ValueError) as caught:
        create_app(config | {setting: "often"})
    assert str(caught.value) == (
        f"{setting}: 'often' is not a limit like '10 per minute' or '5 per 15 minutes'."
    )
