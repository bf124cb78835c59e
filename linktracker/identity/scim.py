"""SCIM 2.0 provisioning of employees (RFC 7643 resources, RFC 7644 protocol).

A SCIM User is an employee: userName and the primary work email find them, displayName (or
name) is their name, the enterprise extension's department is their team, and active is
whether they take part. Deactivating an employee also deactivates the accounts linked to
them, so they can no longer sign in with a password or through single sign-on. Deleting
erases the employee (their program figures stay, the person goes).

Okta and Microsoft Entra ID are both served as they send: Entra writes PATCH operations
capitalised ("Replace") and booleans as strings ("False").
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from linktracker.auth.models import User
from linktracker.db import utcnow
from linktracker.employees.models import Employee
from linktracker.employees.services import (
    EMAIL_RE,
    create_employee,
    validate_employee_fields,
)
from linktracker.errors import Conflict, DomainError, InvalidInput, NotFound
from linktracker.identity.models import ScimIdentity, ScimToken
from linktracker.limits import NUL, text_errors
from linktracker.offboarding.services import erase_employee
from linktracker.settings.services import ErasedLinks

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
TOKEN_PREFIX = "scim_"
MAX_RESULTS = 200


class ScimError(DomainError):
    """A SCIM error: its HTTP status and, where the protocol names one, its scimType."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.scim_type = scim_type

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schemas": [ERROR_SCHEMA],
            "status": str(self.status),
            "detail": self.message,
        }
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


# --- tokens ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedScimToken:
    token: str
    record: ScimToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_scim_token(session: Session, name: str = "") -> IssuedScimToken:
    """Issue a SCIM bearer token; only its hash is stored, the token is shown once."""
    errors = text_errors(ScimToken, {"name": name})
    if errors:
        raise InvalidInput("The SCIM token could not be issued.", errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ScimToken(name=name, prefix=token[:12], token_hash=_digest(token))
    session.add(record)
    session.commit()
    return IssuedScimToken(token, record)


def list_scim_tokens(session: Session) -> list[ScimToken]:
    """Every SCIM token, newest first (prefixes only)."""
    return list(session.scalars(select(ScimToken).order_by(ScimToken.id.desc())))


def revoke_scim_token(session: Session, token_id: int) -> ScimToken:
    """Revoke a SCIM token; it stops working at once."""
    record = session.get(ScimToken, token_id)
    if record is None:
        raise NotFound(f"No SCIM token with id {token_id}.")
    record.revoked_at = record.revoked_at or utcnow()
    session.commit()
    return record


def check_scim_token(session: Session, token: str) -> bool:
    """Whether this bearer token is a SCIM token in force (and note its use)."""
    if not token or NUL in token:
        return False
    digest = _digest(token)
    record = session.scalar(select(ScimToken).where(ScimToken.token_hash == digest))
    if record is None or record.revoked_at is not None:
        return False
    if not hmac.compare_digest(record.token_hash, digest):
        return False
    record.last_used_at = utcnow()
    session.commit()
    return True


# --- resources ---------------------------------------------------------------------------


@dataclass
class ScimUser:
    """The attributes of a SCIM User this app keeps."""

    user_name: str
    email: str
    name: str
    team: str | None = None
    active: bool = True
    external_id: str | None = None
    given_name: str = ""
    family_name: str = ""


def _identity(session: Session, employee: Employee) -> ScimIdentity | None:
    return session.get(ScimIdentity, employee.id)


def to_resource(session: Session, employee: Employee, base_url: str) -> dict[str, Any]:
    """The employee as a SCIM User resource."""
    identity = _identity(session, employee)
    given, _, family = employee.name.partition(" ")
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "id": str(employee.id),
        "userName": identity.user_name if identity else employee.email,
        "name": {"formatted": employee.name, "givenName": given, "familyName": family},
        "displayName": employee.name,
        "emails": [{"value": employee.email, "type": "work", "primary": True}],
        "active": employee.active,
        ENTERPRISE_SCHEMA: {"department": employee.team or ""},
        "meta": {
            "resourceType": "User",
            "created": employee.invited_at.isoformat(),
            "lastModified": employee.invited_at.isoformat(),
            "location": f"{base_url}/scim/v2/Users/{employee.id}",
        },
    }
    if identity and identity.external_id:
        resource["externalId"] = identity.external_id
    return resource


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ScimError(400, f"{what} must be a string.", "invalidValue")
    return str(value).strip()


def _boolean(value: Any) -> bool:
    # Entra ID has sent booleans as the strings "True" and "False".
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ScimError(400, f"active must be true or false, not {value!r}.", "invalidValue")


def _primary_email(emails: Any) -> str:
    if not isinstance(emails, list):
        return ""
    found = [e for e in emails if isinstance(e, dict) and isinstance(e.get("value"), str)]
    for pick in (
        lambda e: e.get("primary") in (True, "true", "True"),
        lambda e: e.get("type") == "work",
        lambda e: True,
    ):
        for email in found:
            if pick(email):
                return str(email["value"]).strip()
    return ""


def _display_name(body: dict[str, Any]) -> tuple[str, str, str]:
    """(name, givenName, familyName) from displayName, name.formatted or the two parts."""
    found = body.get("name")
    name: dict[str, Any] = found if isinstance(found, dict) else {}
    given = _text(name.get("givenName"), "name.givenName")
    family = _text(name.get("familyName"), "name.familyName")
    for candidate in (
        _text(body.get("displayName"), "displayName"),
        _text(name.get("formatted"), "name.formatted"),
        f"{given} {family}".strip(),
    ):
        if candidate:
            return candidate, given, family
    return "", given, family


def parse_user(body: Any) -> ScimUser:
    """The attributes of a User resource as a POST or PUT sends it; ScimError if unusable."""
    if not isinstance(body, dict):
        raise ScimError(400, "The request body must be a JSON object.", "invalidSyntax")
    user_name = _text(body.get("userName"), "userName")
    if not user_name:
        raise ScimError(400, "userName is required.", "invalidValue")
    email = _primary_email(body.get("emails")) or user_name
    name, given, family = _display_name(body)
    enterprise = body.get(ENTERPRISE_SCHEMA)
    team = None
    if isinstance(enterprise, dict):
        team = _text(enterprise.get("department"), "department") or None
    active = _boolean(body["active"]) if "active" in body else True
    external = _text(body.get("externalId"), "externalId") or None
    return ScimUser(
        user_name=user_name,
        email=email.lower(),
        name=name or user_name.split("@")[0],
        team=team,
        active=active,
        external_id=external,
        given_name=given,
        family_name=family,
    )


def _check(session: Session, user: ScimUser, employee_id: int | None) -> None:
    errors = validate_employee_fields(user.name, user.email, None, None, user.team)
    errors |= text_errors(ScimIdentity, {"user_name": user.user_name})
    errors |= text_errors(ScimIdentity, {"external_id": user.external_id})
    if errors:
        detail = " ".join(f"{key}: {message}" for key, message in errors.items())
        raise ScimError(400, detail, "invalidValue")
    if not EMAIL_RE.fullmatch(user.email):
        raise ScimError(400, f"'{user.email}' is not an email address.", "invalidValue")
    taken = session.scalar(
        select(Employee.id).where(
            func.lower(Employee.email) == user.email, Employee.id != employee_id
        )
    )
    if taken is not None:
        raise ScimError(
            409, f"An employee with the email {user.email} already exists.", "uniqueness"
        )
    same_name = session.scalar(
        select(ScimIdentity.employee_id).where(
            func.lower(ScimIdentity.user_name) == user.user_name.lower(),
            ScimIdentity.employee_id != employee_id,
        )
    )
    if same_name is not None:
        raise ScimError(409, f"The userName {user.user_name} is already taken.", "uniqueness")


def create_user(session: Session, body: Any) -> Employee:
    """POST /Users: a new employee; 409 uniqueness when the email or userName is taken."""
    user = parse_user(body)
    _check(session, user, None)
    try:
        employee = create_employee(session, name=user.name, email=user.email, team=user.team)
    except Conflict as exc:
        raise ScimError(409, exc.message, "uniqueness") from exc
    except InvalidInput as exc:
        raise ScimError(400, exc.message, "invalidValue") from exc
    session.add(
        ScimIdentity(
            employee_id=employee.id, user_name=user.user_name, external_id=user.external_id
        )
    )
    _set_active(session, employee, user.active)
    session.commit()
    return employee


def get_user(session: Session, user_id: str) -> Employee:
    """The employee with this SCIM id (erased ones are gone); ScimError 404 otherwise."""
    text = user_id.strip()
    number = text.isascii() and text.isdigit() and len(text) <= 9
    employee = session.get(Employee, int(text)) if number else None
    if employee is None or employee.erased_at is not None:
        raise ScimError(404, f"No user with id {user_id}.")
    return employee


def replace_user(session: Session, user_id: str, body: Any) -> Employee:
    """PUT /Users/<id>: the resource as sent replaces the one kept."""
    employee = get_user(session, user_id)
    return _save(session, employee, parse_user(body))


def _current(session: Session, employee: Employee) -> ScimUser:
    identity = _identity(session, employee)
    given, _, family = employee.name.partition(" ")
    return ScimUser(
        user_name=identity.user_name if identity else employee.email,
        email=employee.email,
        name=employee.name,
        team=employee.team,
        active=employee.active,
        external_id=identity.external_id if identity else None,
        given_name=given,
        family_name=family,
    )


def _save(session: Session, employee: Employee, user: ScimUser) -> Employee:
    _check(session, user, employee.id)
    old_email = employee.email
    employee.name = user.name.strip()
    employee.email = user.email
    employee.team = (user.team or "").strip() or None
    if old_email != user.email:
        # The employee's own accounts follow, so single sign-on still finds them.
        for account in session.scalars(select(User).where(User.employee_id == employee.id)):
            if account.email == old_email and not session.scalar(
                select(User.id).where(User.email == user.email)
            ):
                account.email = user.email
    identity = _identity(session, employee)
    if identity is None:
        identity = ScimIdentity(employee_id=employee.id, user_name=user.user_name)
        session.add(identity)
    identity.user_name = user.user_name
    identity.external_id = user.external_id
    _set_active(session, employee, user.active)
    session.commit()
    return employee


def _set_active(session: Session, employee: Employee, active: bool) -> None:
    """The employee and the accounts linked to them: deactivated, they cannot sign in."""
    if active and employee.erased_at is not None:
        raise ScimError(400, "An erased employee cannot be reactivated.", "mutability")
    employee.active = active
    for account in session.scalars(select(User).where(User.employee_id == employee.id)):
        if account.active != active:
            account.active = active
            account.session_version += 1  # every session of theirs ends now


# --- PATCH -------------------------------------------------------------------------------

_EMAIL_PATH = re.compile(r'emails(\[type eq "(?P<type>[a-z]+)"\])?(\.value)?', re.IGNORECASE)
_DEPARTMENT = ENTERPRISE_SCHEMA.lower() + ":department"


def patch_user(session: Session, user_id: str, body: Any) -> Employee:
    """PATCH /Users/<id>: add, replace and remove operations, all or nothing."""
    employee = get_user(session, user_id)
    if not isinstance(body, dict) or not isinstance(body.get("Operations"), list):
        raise ScimError(400, "A PATCH request needs an Operations list.", "invalidSyntax")
    user = _current(session, employee)
    name_source = ""
    for operation in body["Operations"]:
        if not isinstance(operation, dict):
            raise ScimError(400, "Each operation must be a JSON object.", "invalidSyntax")
        op = str(operation.get("op", "")).strip().lower()
        if op not in ("add", "replace", "remove"):
            raise ScimError(400, f"Unknown PATCH op {operation.get('op')!r}.", "invalidSyntax")
        path = operation.get("path")
        value = operation.get("value")
        if path is None:
            if op == "remove":
                raise ScimError(400, "A remove operation needs a path.", "noTarget")
            if not isinstance(value, dict):
                raise ScimError(
                    400, "An operation without a path needs an object value.", "invalidValue"
                )
            for key, item in _flatten(value):
                user, name_source = _apply(user, key, item, op, name_source)
        else:
            if not isinstance(path, str):
                raise ScimError(400, "path must be a string.", "invalidPath")
            user, name_source = _apply(user, path, value, op, name_source)
    if name_source == "parts":
        user = replace(user, name=f"{user.given_name} {user.family_name}".strip() or user.name)
    return _save(session, employee, user)


def _flatten(value: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """{"name": {"givenName": "A"}} -> [("name.givenName", "A")]; extension URNs kept whole."""
    items: list[tuple[str, Any]] = []
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, dict) and (key == "name" or key.lower() == ENTERPRISE_SCHEMA.lower()):
            separator = "." if key == "name" else ":"
            items.extend(_flatten(item, path + separator))
        else:
            items.append((path, item))
    return items


def _apply(
    user: ScimUser, path: str, value: Any, op: str, name_source: str
) -> tuple[ScimUser, str]:
    key = path.strip()
    lower = key.lower()
    if lower == "active":
        if op == "remove":
            raise ScimError(400, "active cannot be removed.", "mutability")
        return replace(user, active=_boolean(value)), name_source
    if lower == "username":
        user_name = _text(value, "userName")
        if op == "remove" or not user_name:
            raise ScimError(400, "userName cannot be removed.", "mutability")
        return replace(user, user_name=user_name), name_source
    if lower == "externalid":
        return replace(
            user, external_id=None if op == "remove" else _text(value, "externalId") or None
        ), name_source
    if lower in ("displayname", "name.formatted"):
        text = _text(value, key)
        if op == "remove" or not text:
            return user, name_source
        return replace(user, name=text), "whole"
    if lower in ("name.givenname", "name.familyname"):
        text = "" if op == "remove" else _text(value, key)
        if lower == "name.givenname":
            return replace(user, given_name=text), name_source or "parts"
        return replace(user, family_name=text), name_source or "parts"
    if lower == "name" and isinstance(value, dict):
        for sub, item in _flatten(value, "name."):
            user, name_source = _apply(user, sub, item, op, name_source)
        return user, name_source
    if lower in (_DEPARTMENT, "department"):
        team = None if op == "remove" else (_text(value, "department") or None)
        return replace(user, team=team), name_source
    email = _EMAIL_PATH.fullmatch(key)
    if email:
        if op == "remove":
            raise ScimError(400, "The work email cannot be removed.", "mutability")
        address = _primary_email(value) if isinstance(value, list) else _text(value, "email")
        if address:
            user = replace(user, email=address.lower())
        return user, name_source
    # Attributes this app does not keep (title, phoneNumbers, locale, manager…) are ignored.
    return user, name_source


# --- DELETE, lists -----------------------------------------------------------------------


def delete_user(session: Session, user_id: str, links: ErasedLinks) -> None:
    """DELETE /Users/<id>: erase the employee (their figures stay, the person goes)."""
    employee = get_user(session, user_id)
    # Committed with the erasure, or rolled back with it.
    session.execute(delete(ScimIdentity).where(ScimIdentity.employee_id == employee.id))
    erase_employee(session, employee.handle, links=links)


_FILTER = re.compile(
    r'^\s*(userName|externalId|emails(?:\.value)?)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE
)


@dataclass(frozen=True)
class Page:
    total: int
    start_index: int
    employees: list[Employee]


def list_users(
    session: Session, filter_text: str | None, start_index: str | None, count: str | None
) -> Page:
    """GET /Users: the employees matching a filter, one page of them (1-based startIndex)."""
    start = _whole(start_index, 1, "startIndex")
    size = min(_whole(count, MAX_RESULTS, "count"), MAX_RESULTS)
    start = max(start, 1)
    query = select(Employee).where(Employee.erased_at.is_(None))
    if filter_text:
        match = _FILTER.match(filter_text)
        if match is None:
            raise ScimError(
                400,
                'Only filters of the form userName eq "…", externalId eq "…" or '
                'emails.value eq "…" are supported.',
                "invalidFilter",
            )
        attribute = match.group(1).lower()
        wanted = re.sub(r"\\(.)", r"\1", match.group(2)).strip().lower()
        if NUL in wanted:
            return Page(0, start, [])
        identities = select(ScimIdentity.employee_id)
        if attribute == "username":
            ids = identities.where(func.lower(ScimIdentity.user_name) == wanted)
            # An employee added before provisioning is found by the email as userName.
            query = query.where(or_(Employee.id.in_(ids), func.lower(Employee.email) == wanted))
        elif attribute == "externalid":
            query = query.where(
                Employee.id.in_(identities.where(func.lower(ScimIdentity.external_id) == wanted))
            )
        else:
            query = query.where(func.lower(Employee.email) == wanted)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    employees = list(session.scalars(query.order_by(Employee.id).offset(start - 1).limit(size)))
    return Page(total, start, employees)


def _whole(value: str | None, default: int, what: str) -> int:
    if value is None or value == "":
        return default
    text = value.strip()
    if not (text.lstrip("-").isascii() and text.lstrip("-").isdigit()) or len(text) > 9:
        raise ScimError(400, f"{what} must be a whole number.", "invalidValue")
    return max(int(text), 0)
