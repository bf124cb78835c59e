"""Erasing an employee who left: their person goes, their program figures stay.

The employee row is kept (so clicks, links and attributed records still add up in every
report) but carries nothing that identifies the person: the name becomes "Former employee",
the email a placeholder, the team is cleared. A chosen handle (it may spell a name and it sits
in every shared link's utm_content) is replaced by an opaque one everywhere it was copied;
an opaque handle stays, so links already shared keep their attribution unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from linktracker.auth.models import ApiToken, LoginAttempt, User
from linktracker.clicks.models import Click
from linktracker.crm.models import CrmRecord
from linktracker.db import utcnow
from linktracker.employees.models import Employee
from linktracker.employees.services import get_employee, new_opaque_handle
from linktracker.errors import Conflict
from linktracker.links.models import Link
from linktracker.recruiting.models import Application
from linktracker.settings.services import ErasedLinks

FORMER_EMPLOYEE = "Former employee"
OPAQUE_HANDLE_RE = re.compile(r"a-[a-z0-9]{8}")


@dataclass(frozen=True)
class ErasureResult:
    handle: str
    handle_replaced: bool
    links: int
    links_disabled: bool
    user_removed: bool
    tokens_removed: int


def erasure_placeholder_email(employee_id: int) -> str:
    """A unique address that identifies nobody (.invalid never resolves)."""
    return f"erased-{employee_id}@invalid"


def erase_employee(session: Session, handle: str, *, links: ErasedLinks) -> ErasureResult:
    """Erase the employee with this handle, in one transaction; NotFound or Conflict otherwise."""
    employee = get_employee(session, handle)
    if employee.erased_at is not None:
        raise Conflict(f"The employee with handle '{handle}' was already erased.")
    try:
        result = _erase(session, employee, links)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def _erase(session: Session, employee: Employee, links: ErasedLinks) -> ErasureResult:
    old_name, old_email, old_handle = employee.name, employee.email.lower(), employee.handle
    user_removed, tokens_removed, user_emails = _remove_accounts(session, employee.id)
    session.execute(
        delete(LoginAttempt).where(func.lower(LoginAttempt.email).in_({old_email, *user_emails}))
    )
    # A CRM record's owner may be this person by name: the record stays, the name goes.
    session.execute(
        update(CrmRecord)
        .where(func.lower(func.trim(CrmRecord.owner)) == old_name.strip().lower())
        .values(owner=FORMER_EMPLOYEE)
    )
    # An application's referrer may be this person by name or email: the credit stays.
    session.execute(
        update(Application)
        .where(
            func.lower(func.trim(Application.referrer)).in_(
                {old_name.strip().lower(), old_email.strip()}
            )
        )
        .values(referrer=FORMER_EMPLOYEE)
    )
    # A full referrer can be the person's own profile page; its host (which reports use) stays.
    session.execute(
        update(Click)
        .where(Click.employee_id == employee.id, Click.referrer.is_not(None))
        .values(referrer=None)
    )
    handle_replaced = not OPAQUE_HANDLE_RE.fullmatch(old_handle)
    if handle_replaced:
        employee.handle = _free_opaque_handle(session)
        _replace_handle(session, employee.id, old_handle, employee.handle)
    link_count = _set_links(session, employee.id, disable=links == "disable")
    employee.name = FORMER_EMPLOYEE
    employee.email = erasure_placeholder_email(employee.id)
    employee.team = None
    employee.active = False
    employee.erased_at = utcnow()
    return ErasureResult(
        employee.handle,
        handle_replaced,
        link_count,
        links == "disable",
        user_removed,
        tokens_removed,
    )


def _remove_accounts(session: Session, employee_id: int) -> tuple[bool, int, set[str]]:
    """Anonymise and disable the person's sign-in accounts and delete their API tokens.

    The user row is kept, anonymised, rather than deleted: a deleted row's id can be handed
    to the next new user, and a sign-in cookie still naming that id must never fit them.
    """
    users = list(session.scalars(select(User).where(User.employee_id == employee_id)))
    emails = {user.email.lower() for user in users}
    tokens = 0
    for user in users:
        owned = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
        for token in owned:
            session.delete(token)
        tokens += len(owned)
        user.email = f"erased-user-{user.id}@invalid"
        user.password_hash = None
        user.active = False
        user.last_login_at = None
        user.session_version += 1  # every signed-in session ends
    return bool(users), tokens, emails


def _free_opaque_handle(session: Session) -> str:
    while True:
        handle = new_opaque_handle()
        if session.scalar(select(Employee.id).where(Employee.handle == handle)) is None:
            return handle


def _replace_handle(session: Session, employee_id: int, old: str, new: str) -> None:
    """Put the new handle wherever the old one was copied: links and attributed records."""
    pattern = re.compile(r"(?<=utm_content=)" + re.escape(old) + r"(?=[&#]|$)", re.IGNORECASE)
    for link in session.scalars(select(Link).where(Link.employee_id == employee_id)):
        link.destination_url = pattern.sub(new, link.destination_url)
    records = session.scalars(
        select(CrmRecord).where(
            (CrmRecord.employee_id == employee_id)
            | (func.lower(func.trim(CrmRecord.utm_content)) == old)
        )
    )
    for record in records:
        if record.utm_content and record.utm_content.strip().lower() == old:
            record.utm_content = new
        if record.landing_url:
            record.landing_url = pattern.sub(new, record.landing_url)
    applications = session.scalars(
        select(Application).where(
            (Application.employee_id == employee_id)
            | (func.lower(func.trim(Application.utm_content)) == old)
        )
    )
    for application in applications:
        if application.utm_content and application.utm_content.strip().lower() == old:
            application.utm_content = new
        if application.landing_url:
            application.landing_url = pattern.sub(new, application.landing_url)


def _set_links(session: Session, employee_id: int, *, disable: bool) -> int:
    links = list(session.scalars(select(Link).where(Link.employee_id == employee_id)))
    if disable:
        for link in links:
            link.disabled = True
    return len(links)
