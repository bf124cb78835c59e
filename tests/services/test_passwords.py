"""The password policy, wherever a password is set: user creation and password changes."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from linktracker.auth.models import User
from linktracker.auth.passwords import check_password
from linktracker.auth.services import create_user, find_user_by_email, set_password
from linktracker.errors import InvalidInput
from tests.support import PASSWORD

REFUSED = [
    ("", "Set a password: an account without one cannot sign in."),
    (" " * 10, "Set a password: an account without one cannot sign in."),
    ("short", "Passwords need at least 10 characters."),
    ("aaaaaaaaaa", "too easy to guess. Repeats like"),
    ("password12", "too easy to guess. This is a very common password."),
    ("1234567890", "too easy to guess. This is a top-100 common password."),
    ("qwertyuiop", "too easy to guess."),
    ("abcdefghij", "too easy to guess. Sequences like"),
    ("ana@example.com", "too easy to guess."),  # the account's own email
    ("x" * 201, "at most 200 characters"),
]


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_creating_a_user_refuses_empty_short_and_guessable_passwords(
    session: Session, password: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        create_user(session, "ana@example.com", "marketer", password)
    assert message in caught.value.message
    assert "password" in caught.value.fields
    session.rollback()
    assert session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize(("password", "message"), REFUSED[1:])
def test_changing_a_password_refuses_guessable_ones_and_keeps_the_old(
    session: Session, password: str, message: str
) -> None:
    user = create_user(session, "ana@example.com", "marketer", PASSWORD)
    with pytest.raises(InvalidInput) as caught:
        set_password(session, user.id, password)
    assert message in caught.value.message
    session.rollback()
    stored = find_user_by_email(session, "ana@example.com")
    assert stored is not None and stored.password_hash is not None
    assert check_password_hash(stored.password_hash, PASSWORD)


@pytest.mark.parametrize(
    "password",
    [PASSWORD, "a long enough password", "nine quiet lanterns", secrets.token_urlsafe(9)],
)
def test_passphrases_and_generated_passwords_pass(password: str) -> None:
    check_password(password, ["ana@example.com"])


def test_generated_demo_passwords_always_pass() -> None:
    # The demo data and `create-user` without --password use token_urlsafe(9) or longer.
    for _ in range(200):
        check_password(secrets.token_urlsafe(9), ["admin@example.com"])
