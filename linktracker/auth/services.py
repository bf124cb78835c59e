"""Users, passwords and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from linktracker.auth.models import ApiToken, User
from linktracker.auth.passwords import check_password
from linktracker.auth.roles import ROLES
from linktracker.auth.throttle import LoginLimits, finish_attempt, start_attempt
from linktracker.db import get_or_not_found, utcnow
from linktracker.employees.models import Employee
from linktracker.errors import Conflict, InvalidInput, NotFound
from linktracker.limits import NUL, text_errors

TOKEN_PREFIX = "lt_"
# Checked against when the email is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


def hash_password(password: str) -> str:
    """A scrypt hash of the password (werkzeug's default KDF)."""
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, email: str, role: str, password: str) -> User:
    """Create a user who can sign in; employees are linked to their Employee by email.

    A password is required: an account without one could never sign in.
    """
    email = email.strip().lower()
    if role not in ROLES:
        raise InvalidInput(f"Role must be one of {', '.join(ROLES)}.", {"role": "Unknown role."})
    errors = text_errors(User, {"email": email})
    if errors:
        raise InvalidInput("The user could not be saved.", errors)
    if "@" not in email:
        raise InvalidInput(f"'{email}' is not an email address.", {"email": "Invalid email."})
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"A user with email {email} already exists.", {"email": "Taken."})
    check_password(password, [email])
    employee_id = session.scalar(select(Employee.id).where(func.lower(Employee.email) == email))
    user = User(
        email=email,
        role=role,
        password_hash=hash_password(password),
        employee_id=employee_id,
        active=True,
    )
    session.add(user)
    session.commit()
    return user


def set_password(session: Session, user_id: int, password: str) -> User:
    """Set a new password and end every existing session of that user."""
    user = get_user(session, user_id)
    check_password(password, [user.email])
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.commit()
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Sign the user out everywhere: every session cookie issued so far stops working."""
    get_user(session, user_id).session_version += 1
    session.commit()


def set_user_active(session: Session, user_id: int, active: bool) -> User:
    """Deactivate (or reactivate) a user; deactivating ends their sessions at once."""
    user = get_user(session, user_id)
    if user.active != active:
        user.active = active
        user.session_version += 1
    session.commit()
    return user


def get_user(session: Session, user_id: int) -> User:
    """The user with this id, or NotFound."""
    return get_or_not_found(session, User, user_id, "user")


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this email, if any."""
    if NUL in email:
        return None  # no stored email holds one, and the database refuses to compare it
    return session.scalar(select(User).where(User.email == email.strip().lower()))


class LoginFailed(Exception):
    """Wrong email or password; the message never says which."""


class PasswordSignInOff(LoginFailed):
    """The password is right, but this account must sign in through single sign-on."""


# Whether a user, their password checked, may sign in with it (single sign-on may be required).
PasswordPolicy = Callable[[User], bool]


def authenticate(
    session: Session,
    email: str,
    password: str,
    now: datetime | None = None,
    policy: PasswordPolicy | None = None,
) -> User:
    """The user whose credentials these are; LoginFailed with a neutral message otherwise.

    PasswordSignInOff when the credentials are right but ``policy`` refuses a password
    sign-in for this user (nothing about the user is changed then).
    """
    now = now or utcnow()
    user = find_user_by_email(session, email)
    if user is None or not user.password_hash or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        raise LoginFailed("Wrong email or password.")
    if not check_password_hash(user.password_hash, password):
        raise LoginFailed("Wrong email or password.")
    if policy is not None and not policy(user):
        raise PasswordSignInOff("Password sign-in is turned off for this account.")
    user.last_login_at = now
    if user.employee_id is not None:
        employee = session.get(Employee, user.employee_id)
        if employee is not None and employee.joined_at is None:
            employee.joined_at = now
    session.commit()
    return user


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    address: str,
    limits: LoginLimits | None,
    now: datetime | None = None,
    policy: PasswordPolicy | None = None,
) -> User:
    """Authenticate within the sign-in limits (None: unthrottled).

    LoginThrottled when this address, or this account from this address, tried too often;
    LoginFailed for wrong credentials (PasswordSignInOff, counted as a failure, when the
    policy refuses passwords for this user). Accounts are never locked for everyone.
    """
    if limits is None:
        return authenticate(session, email, password, now, policy)
    attempt = start_attempt(session, email, address, limits, now)
    try:
        user = authenticate(session, email, password, now, policy)
    except LoginFailed:
        finish_attempt(session, attempt, succeeded=False)
        raise
    finish_attempt(session, attempt, succeeded=True)
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, email: str, name: str = "", role: str | None = None
) -> IssuedToken:
    """Issue an API token for a user; only its hash is stored, the token is shown once."""
    errors = text_errors(ApiToken, {"name": name})
    if errors:
        raise InvalidInput("The token could not be issued.", errors)
    user = find_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No user with email {email}.", {"email": "Unknown user."})
    scope = role or user.role
    if scope not in ROLES or ROLES.index(scope) < ROLES.index(user.role):
        raise InvalidInput(
            f"A token can carry the user's role ({user.role}) or a lesser one.",
            {"role": "Not allowed."},
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id, name=name, prefix=token[:10], token_hash=_digest(token), role=scope
    )
    session.add(record)
    session.commit()
    return IssuedToken(token, record)


@dataclass(frozen=True)
class TokenIdentity:
    user_id: int
    role: str
    employee_id: int | None
    token_id: int


def identify_token(session: Session, token: str) -> TokenIdentity | None:
    """Who a bearer token belongs to, or None when unknown, revoked or its user inactive."""
    digest = _digest(token)
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if record is None or record.revoked_at is not None:
        return None
    # The lookup is by hash already; compare again in constant time as defence in depth.
    if not hmac.compare_digest(record.token_hash, digest):
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    record.last_used_at = utcnow()
    session.commit()
    return TokenIdentity(user.id, record.role, user.employee_id, record.id)


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token; it stops working at once."""
    record = get_or_not_found(session, ApiToken, token_id, "token")
    record.revoked_at = record.revoked_at or utcnow()
    session.commit()
    return record


def list_tokens(session: Session, email: str) -> list[ApiToken]:
    """A user's tokens, newest first (hashes and prefixes only; tokens are never stored)."""
    user = find_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No user with email {email}.", {"email": "Unknown user."})
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    return list(session.scalars(query.order_by(ApiToken.id.desc())))


def list_users(session: Session) -> list[User]:
    """All users by email."""
    return list(session.scalars(select(User).order_by(User.email)))
