"""SCIM 2.0 provisioning with the requests Okta and Microsoft Entra ID send.

The request bodies follow the identity providers' published SCIM guides: Okta's create,
filter, PUT and PATCH {"active": false}; Entra ID's create with the enterprise extension, its
capitalised "Replace"/"Add" operations, path filters and booleans written as strings.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.auth.models import User
from linktracker.auth.services import find_user_by_email, set_password
from linktracker.employees.models import Employee
from linktracker.identity.models import ScimIdentity, ScimToken
from tests.factories import make_employee
from tests.identity.provider import callback_path, sign_in_at_provider
from tests.web.clients import PASSWORD, text

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

OKTA_CREATE = {
    "schemas": [USER],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}
OKTA_DEACTIVATE = {
    "schemas": [PATCH],
    "Operations": [{"op": "replace", "value": {"active": False}}],
}
ENTRA_CREATE = {
    "schemas": [USER, ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": True,
    "emails": [
        {
            "primary": True,
            "type": "work",
            "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com",
        }
    ],
    "meta": {"resourceType": "User"},
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName",
    },
    "roles": [],
    ENTERPRISE: {"department": "Field Sales", "employeeNumber": "701984"},
}


@pytest.fixture
def scim_token(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["create-scim-token", "--name", "idp"])
    assert result.exit_code == 0, result.output
    return str(result.output.strip().splitlines()[-1])


@pytest.fixture
def idp(client: FlaskClient, scim_token: str) -> Any:
    """``idp(method, path, body=None)``: a SCIM request as the identity provider sends it."""

    def send(method: str, path: str, body: Any = None) -> Any:
        return client.open(
            "/scim/v2" + path,
            method=method,
            json=body,
            headers={
                "Authorization": f"Bearer {scim_token}",
                "Content-Type": "application/scim+json",
                "Accept": "application/scim+json",
            },
        )

    return send


def _employee(session: Session, email: str) -> Employee:
    session.expire_all()
    found = session.scalar(select(Employee).where(func.lower(Employee.email) == email.lower()))
    assert found is not None
    return found


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _error(response: Any, status: int, detail: str, scim_type: str | None = None) -> None:
    assert response.status_code == status, text(response)
    assert response.mimetype == "application/scim+json"
    body = response.get_json(force=True)
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert detail in body["detail"]
    assert body.get("scimType") == scim_type


# --- tokens ------------------------------------------------------------------------------


def test_the_token_is_shown_once_and_kept_hashed(
    runner: FlaskCliRunner, scim_token: str, session: Session
) -> None:
    assert scim_token.startswith("scim_") and len(scim_token) > 40
    stored = session.scalars(select(ScimToken)).one()
    assert stored.token_hash != scim_token and scim_token not in stored.token_hash
    assert stored.prefix == scim_token[:12]
    listed = runner.invoke(args=["users", "scim-token", "list"])
    assert stored.prefix in listed.output and scim_token not in listed.output
    assert "idp" in listed.output


def test_requests_without_a_valid_scim_token_are_refused(
    client: FlaskClient, runner: FlaskCliRunner, scim_token: str, api_headers: Any, session: Session
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer scim_wrong"},
        api_headers("admin"),  # an API token is not a SCIM token
    ):
        response = client.get("/scim/v2/Users", headers=headers)
        _error(response, 401, "A valid SCIM bearer token is required.")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = dict(OKTA_CREATE)
    _error(client.post("/scim/v2/Users", json=body), 401, "SCIM bearer token")
    assert _count(session, Employee) == 0
    token_id = session.scalars(select(ScimToken.id)).one()
    assert runner.invoke(args=["users", "scim-token", "revoke", str(token_id)]).exit_code == 0
    revoked = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {scim_token}"})
    _error(revoked, 401, "A valid SCIM bearer token is required.")


# --- Okta --------------------------------------------------------------------------------


def test_okta_lifecycle(idp: Any, session: Session) -> None:
    # Okta first asks whether the user exists.
    probe = idp(
        "GET", "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100"
    )
    assert probe.status_code == 200
    assert probe.get_json(force=True) == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    created = idp("POST", "/Users", OKTA_CREATE)
    assert created.status_code == 201, text(created)
    assert created.mimetype == "application/scim+json"
    user = created.get_json(force=True)
    assert created.headers["Location"] == f"http://localhost/scim/v2/Users/{user['id']}"
    assert user["userName"] == "test.user@okta.local"
    assert user["externalId"] == "00ujl29u0le5T6Aj10h7"
    assert user["displayName"] == "Test User"
    assert user["emails"] == [{"value": "test.user@okta.local", "type": "work", "primary": True}]
    assert user["active"] is True
    employee = _employee(session, "test.user@okta.local")
    assert (employee.name, employee.active) == ("Test User", True)
    # Found by its filter now, and by id.
    found = idp("GET", '/Users?filter=userName eq "test.user@okta.local"').get_json(force=True)
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user["id"]
    assert idp("GET", f"/Users/{user['id']}").get_json(force=True)["id"] == user["id"]
    # Profile change: Okta PUTs the whole user back.
    put = {**user, "name": {"givenName": "Tess", "familyName": "User"}, "displayName": "Tess User"}
    put[ENTERPRISE] = {"department": "Marketing"}
    replaced = idp("PUT", f"/Users/{user['id']}", put)
    assert replaced.status_code == 200, text(replaced)
    employee = _employee(session, "test.user@okta.local")
    assert (employee.name, employee.team) == ("Tess User", "Marketing")
    # Deactivation.
    patched = idp("PATCH", f"/Users/{user['id']}", OKTA_DEACTIVATE)
    assert patched.status_code == 200, text(patched)
    assert patched.get_json(force=True)["active"] is False
    assert _employee(session, "test.user@okta.local").active is False


def test_create_refuses_a_duplicate_with_uniqueness(idp: Any, session: Session) -> None:
    assert idp("POST", "/Users", OKTA_CREATE).status_code == 201
    again = idp("POST", "/Users", OKTA_CREATE)
    _error(again, 409, "already exists", "uniqueness")
    other_email = {**OKTA_CREATE, "emails": [{"primary": True, "value": "other@okta.local"}]}
    _error(idp("POST", "/Users", other_email), 409, "userName test.user@okta.local", "uniqueness")
    assert _count(session, Employee) == 1
    assert _count(session, ScimIdentity) == 1


def test_an_employee_added_before_provisioning_is_found_by_email(
    idp: Any, session: Session
) -> None:
    employee = make_employee(session, name="Early Bird", email="early@example.com")
    found = idp("GET", '/Users?filter=userName eq "Early@Example.com"').get_json(force=True)
    assert [r["id"] for r in found["Resources"]] == [str(employee.id)]
    assert found["Resources"][0]["userName"] == "early@example.com"


# --- Entra ID ----------------------------------------------------------------------------


def test_entra_create_with_the_enterprise_department(idp: Any, session: Session) -> None:
    created = idp("POST", "/Users", ENTRA_CREATE)
    assert created.status_code == 201, text(created)
    user = created.get_json(force=True)
    assert user["userName"] == ENTRA_CREATE["userName"]
    assert user[ENTERPRISE]["department"] == "Field Sales"
    email = "test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"
    employee = _employee(session, email)
    assert (employee.name, employee.team) == ("givenName familyName", "Field Sales")
    # Entra matches by userName (not an email here) and by externalId.
    by_name = idp("GET", f'/Users?filter=userName eq "{ENTRA_CREATE["userName"]}"')
    assert by_name.get_json(force=True)["totalResults"] == 1
    by_id = idp("GET", '/Users?filter=externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')
    assert by_id.get_json(force=True)["Resources"][0]["id"] == user["id"]
    # Its connection test asks for someone who cannot exist.
    none = idp("GET", '/Users?filter=userName eq "non-existent user or group"')
    assert none.status_code == 200 and none.get_json(force=True)["totalResults"] == 0


def test_entra_patch_operations(idp: Any, session: Session) -> None:
    user = idp("POST", "/Users", ENTRA_CREATE).get_json(force=True)
    body = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "Add", "path": 'emails[type eq "work"].value', "value": "updated@testuser.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Partnerships"},
            {"op": "Replace", "path": "title", "value": "ignored, not kept"},
        ],
    }
    response = idp("PATCH", f"/Users/{user['id']}", body)
    assert response.status_code == 200, text(response)
    employee = _employee(session, "updated@testuser.com")
    assert employee.name == "givenName updatedFamilyName"
    assert employee.team == "Partnerships"
    display = {
        "schemas": [PATCH],
        "Operations": [{"op": "Replace", "path": "displayName", "value": "Given Family"}],
    }
    assert idp("PATCH", f"/Users/{user['id']}", display).status_code == 200
    assert _employee(session, "updated@testuser.com").name == "Given Family"
    remove = {
        "schemas": [PATCH],
        "Operations": [{"op": "Remove", "path": f"{ENTERPRISE}:department"}],
    }
    assert idp("PATCH", f"/Users/{user['id']}", remove).status_code == 200
    assert _employee(session, "updated@testuser.com").team is None


@pytest.mark.parametrize("value", [False, "False", "false"])
def test_entra_deactivates_with_capitalised_replace_and_string_booleans(
    idp: Any, session: Session, value: object
) -> None:
    user = idp("POST", "/Users", ENTRA_CREATE).get_json(force=True)
    body = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": value}]}
    response = idp("PATCH", f"/Users/{user['id']}", body)
    assert response.status_code == 200, text(response)
    assert response.get_json(force=True)["active"] is False
    reactivate = {
        "schemas": [PATCH],
        "Operations": [{"op": "Replace", "path": "active", "value": "True"}],
    }
    assert idp("PATCH", f"/Users/{user['id']}", reactivate).get_json(force=True)["active"] is True


def test_patch_errors_change_nothing(idp: Any, session: Session) -> None:
    user = idp("POST", "/Users", OKTA_CREATE).get_json(force=True)
    other = idp("POST", "/Users", ENTRA_CREATE).get_json(force=True)
    path = f"/Users/{user['id']}"
    ops = [
        {"op": "Replace", "path": "displayName", "value": "Changed"},
        {"op": "Replace", "path": "active", "value": "maybe"},
    ]
    _error(
        idp("PATCH", path, {"schemas": [PATCH], "Operations": ops}),
        400,
        "active must be true or false",
        "invalidValue",
    )
    _error(
        idp("PATCH", path, {"schemas": [PATCH], "Operations": [{"op": "move", "path": "active"}]}),
        400,
        "Unknown PATCH op",
        "invalidSyntax",
    )
    _error(
        idp("PATCH", path, {"schemas": [PATCH]}), 400, "needs an Operations list", "invalidSyntax"
    )
    taken = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "userName", "value": other["userName"]}],
    }
    _error(idp("PATCH", path, taken), 409, "already taken", "uniqueness")
    employee = _employee(session, "test.user@okta.local")
    assert (employee.name, employee.active) == ("Test User", True)


# --- errors, lists, discovery ------------------------------------------------------------


def test_invalid_bodies_and_unknown_users(idp: Any, session: Session) -> None:
    _error(idp("POST", "/Users", {"schemas": [USER]}), 400, "userName is required.", "invalidValue")
    no_email = {"schemas": [USER], "userName": "no-email-here"}
    _error(idp("POST", "/Users", no_email), 400, "not a valid email address", "invalidValue")
    _error(
        idp("POST", "/Users", {**OKTA_CREATE, "active": "sometimes"}),
        400,
        "active must be",
        "invalidValue",
    )
    _error(idp("POST", "/Users", ["not", "an", "object"]), 400, "JSON object", "invalidSyntax")
    assert _count(session, Employee) == 0
    for user_id in ("999999", "abc", "1" * 40):
        _error(idp("GET", f"/Users/{user_id}"), 404, f"No user with id {user_id}.")
        _error(idp("PATCH", f"/Users/{user_id}", OKTA_DEACTIVATE), 404, "No user with id")
        _error(idp("DELETE", f"/Users/{user_id}"), 404, "No user with id")
    _error(idp("GET", '/Users?filter=name.familyName co "x"'), 400, "Only filters", "invalidFilter")
    _error(
        idp("GET", "/Users?startIndex=first"),
        400,
        "startIndex must be a whole number",
        "invalidValue",
    )
    _error(idp("GET", "/Nothing"), 404, "")


def test_pagination(idp: Any, session: Session) -> None:
    for n in range(5):
        make_employee(session, name=f"Person {n}", email=f"p{n}@example.com")
    first = idp("GET", "/Users?startIndex=1&count=2").get_json(force=True)
    assert (first["totalResults"], first["startIndex"], first["itemsPerPage"]) == (5, 1, 2)
    seen = [r["userName"] for r in first["Resources"]]
    rest = idp("GET", "/Users?startIndex=3&count=10").get_json(force=True)
    seen += [r["userName"] for r in rest["Resources"]]
    assert seen == [f"p{n}@example.com" for n in range(5)]
    assert rest["itemsPerPage"] == 3
    past = idp("GET", "/Users?startIndex=9").get_json(force=True)
    assert (past["totalResults"], past["Resources"]) == (5, [])
    only_total = idp("GET", "/Users?count=0").get_json(force=True)
    assert (only_total["totalResults"], only_total["Resources"]) == (5, [])


def test_delete_erases_the_employee(idp: Any, session: Session) -> None:
    user = idp("POST", "/Users", OKTA_CREATE).get_json(force=True)
    assert idp("DELETE", f"/Users/{user['id']}").status_code == 204
    _error(idp("GET", f"/Users/{user['id']}"), 404, "No user with id")
    found = idp("GET", '/Users?filter=userName eq "test.user@okta.local"').get_json(force=True)
    assert found["totalResults"] == 0
    session.expire_all()
    employee = session.get(Employee, int(user["id"]))
    assert employee is not None and employee.erased_at is not None
    assert "okta" not in employee.email
    # The same person can be provisioned again later.
    assert idp("POST", "/Users", OKTA_CREATE).status_code == 201


def test_discovery_resources(idp: Any) -> None:
    config = idp("GET", "/ServiceProviderConfig").get_json(force=True)
    assert config["patch"]["supported"] is True
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    schemas = idp("GET", "/Schemas").get_json(force=True)
    assert [s["id"] for s in schemas["Resources"]] == [USER, ENTERPRISE]
    assert idp("GET", f"/Schemas/{USER}").get_json(force=True)["name"] == "User"
    types = idp("GET", "/ResourceTypes").get_json(force=True)
    assert types["Resources"][0]["endpoint"] == "/Users"
    assert idp("GET", "/ResourceTypes/User").status_code == 200


# --- deactivation ends sign-in -----------------------------------------------------------


def test_deactivated_by_scim_the_employee_can_no_longer_sign_in(
    idp: Any, session: Session, app: Flask, sso_app: Flask
) -> None:
    body = {
        **OKTA_CREATE,
        "userName": "provisioned@example.com",
        "emails": [{"primary": True, "value": "provisioned@example.com", "type": "work"}],
    }
    user = idp("POST", "/Users", body).get_json(force=True)
    # Signed in once through the identity provider (an account made on the way)...
    browser = sso_app.test_client()
    start = browser.get("/app/login/sso")
    assert (
        browser.get(
            callback_path(sign_in_at_provider(start.headers["Location"], "provisioned"))
        ).status_code
        == 302
    )
    assert browser.get("/app/links/").status_code == 200
    # ...and given a password too.
    account = find_user_by_email(session, "provisioned@example.com")
    assert account is not None
    set_password(session, account.id, PASSWORD)
    with_password = app.test_client()
    login = {"email": "provisioned@example.com", "password": PASSWORD}
    assert with_password.post("/app/login", data=login).status_code == 302
    assert with_password.get("/app/links/").status_code == 200

    assert idp("PATCH", f"/Users/{user['id']}", OKTA_DEACTIVATE).status_code == 200

    # Sessions already open end at once; neither a password nor the provider signs them in.
    assert browser.get("/app/links/").status_code == 302
    assert with_password.get("/app/links/").status_code == 302
    refused = app.test_client().post("/app/login", data=login)
    assert refused.status_code == 401
    again = sso_app.test_client()
    start = again.get("/app/login/sso")
    back = again.get(callback_path(sign_in_at_provider(start.headers["Location"], "provisioned")))
    assert back.status_code == 403
    assert "The employee provisioned@example.com is deactivated" in text(back)
    assert session.scalar(select(func.count()).select_from(User)) == 1
