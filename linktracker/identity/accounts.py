"""Who an identity provider's answer signs in, and who may still sign in with a password."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linktracker.auth.models import User
from linktracker.auth.services import find_user_by_email
from linktracker.db import utcnow
from linktracker.employees.models import Employee
from linktracker.errors import DomainError


class SignInRefused(DomainError):
    """The provider vouched for someone who may not sign in here; the message says why."""

    status = 403


def _verified(claims: dict[str, Any]) -> bool:
    # Standard claim; Microsoft Entra ID says the same with xms_edov (the domain owner verified).
    return any(
        claims.get(name) in (True, "true", "True") for name in ("email_verified", "xms_edov")
    )


def sign_in_verified(session: Session, claims: dict[str, Any], now: datetime | None = None) -> User:
    """The user these verified ID token claims sign in; created for an active employee at first.

    Refused (SignInRefused) when the email is missing or unverified, belongs to a deactivated
    employee or user, or to nobody here.
    """
    now = now or utcnow()
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused("Your identity provider did not share your email address.")
    email = email.strip().lower()
    if not _verified(claims):
        raise SignInRefused(
            f"Your identity provider has not verified the email address {email}; "
            "ask your IT team to verify it, then sign in again."
        )
    employee = session.scalar(select(Employee).where(func.lower(Employee.email) == email))
    if employee is not None and (not employee.active or employee.erased_at is not None):
        raise SignInRefused(
            f"The employee {email} is deactivated; ask an admin to reactivate them."
        )
    user = find_user_by_email(session, email)
    if user is not None and not user.active:
        raise SignInRefused(f"The account {email} is deactivated; ask an admin to reactivate it.")
    if user is None:
        if employee is None:
            raise SignInRefused(
                f"No employee has the email {email}; ask an admin to add you to the program."
            )
        user = User(email=email, role="employee", password_hash=None, employee_id=employee.id)
        session.add(user)
    user.last_login_at = now
    if employee is not None and user.employee_id == employee.id and employee.joined_at is None:
        employee.joined_at = now
    try:
        session.commit()
    except IntegrityError:
        # The same person's first sign-in in another tab made the account a moment earlier.
        session.rollback()
        user = find_user_by_email(session, email)
        if user is None or not user.active:
            raise SignInRefused("Your sign-in could not be completed; try again.") from None
    return user


def password_sign_in_allowed(user: User, sso_required: bool, break_glass_admin: str) -> bool:
    """Whether this user may sign in with a password: always, unless single sign-on is required,
    when only the named break-glass admin still may."""
    if not sso_required:
        return True
    return user.role == "admin" and user.email == break_glass_admin.strip().lower()
