"""SCIM 2.0 endpoints for identity providers: /scim/v2/Users and the discovery resources.

Every request carries a SCIM bearer token (`linktracker users scim-token create`); API tokens
and signed-in sessions are not accepted here. Answers and errors are application/scim+json.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.errors import DomainError
from linktracker.identity.scim import (
    ENTERPRISE_SCHEMA,
    LIST_SCHEMA,
    MAX_RESULTS,
    USER_SCHEMA,
    ScimError,
    check_scim_token,
    create_user,
    delete_user,
    get_user,
    list_users,
    patch_user,
    replace_user,
    to_resource,
)
from linktracker.web.context import db, settings

scim = Blueprint("scim", __name__, url_prefix="/scim/v2")
MEDIA_TYPE = "application/scim+json"
_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
_RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
_SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def scim_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A SCIM answer: JSON with the SCIM media type."""
    return Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE, headers=headers)


def scim_error(status: int, detail: str, scim_type: str | None = None) -> Response:
    """An error in the SCIM message format (RFC 7644 §3.12)."""
    response = scim_json(ScimError(status, detail, scim_type).body(), status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
    return response


@scim.before_request
def _require_scim_token() -> Response | None:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not check_scim_token(db(), token):
        return scim_error(401, "A valid SCIM bearer token is required.")
    return None


@scim.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    if isinstance(exc, ScimError):
        return scim_json(exc.body(), exc.status)
    return scim_error(exc.status, exc.message)


def _base_url() -> str:
    return request.host_url.rstrip("/")


def _body() -> Any:
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise ScimError(400, "The request body is not JSON.", "invalidSyntax")
    return body


def _user(employee: Any, status: int = 200) -> Response:
    resource = to_resource(db(), employee, _base_url())
    headers = {"Location": resource["meta"]["location"]} if status == 201 else None
    return scim_json(resource, status, headers)


@scim.get("/Users")
def users() -> Response:
    page = list_users(
        db(),
        request.args.get("filter"),
        request.args.get("startIndex"),
        request.args.get("count"),
    )
    resources = [to_resource(db(), employee, _base_url()) for employee in page.employees]
    return scim_json(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": page.total,
            "startIndex": page.start_index,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


@scim.post("/Users")
def create() -> Response:
    return _user(create_user(db(), _body()), 201)


@scim.get("/Users/<user_id>")
def user(user_id: str) -> Response:
    return _user(get_user(db(), user_id))


@scim.put("/Users/<user_id>")
def replace(user_id: str) -> Response:
    return _user(replace_user(db(), user_id, _body()))


@scim.patch("/Users/<user_id>")
def patch(user_id: str) -> Response:
    return _user(patch_user(db(), user_id, _body()))


@scim.delete("/Users/<user_id>")
def delete(user_id: str) -> BaseResponse:
    delete_user(db(), user_id, settings().erased_links)
    return Response(status=204)


@scim.get("/ServiceProviderConfig")
def service_provider_config() -> Response:
    return scim_json(
        {
            "schemas": [_CONFIG_SCHEMA],
            "documentationUri": "",
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "A SCIM token from `linktracker users scim-token create`.",
                    "primary": True,
                }
            ],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": _base_url() + url_for("scim.service_provider_config"),
            },
        }
    )


def _attribute(
    name: str,
    description: str,
    *,
    kind: str = "string",
    required: bool = False,
    multi: bool = False,
    uniqueness: str = "none",
    sub: list[dict[str, Any]] | None = None,
    mutability: str = "readWrite",
) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "name": name,
        "type": kind,
        "multiValued": multi,
        "description": description,
        "required": required,
        "caseExact": False,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": uniqueness,
    }
    if sub:
        attribute["subAttributes"] = sub
    return attribute


def _schemas() -> list[dict[str, Any]]:
    base = _base_url()
    user_schema = {
        "schemas": [_SCHEMA_SCHEMA],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "An employee of the advocacy program.",
        "attributes": [
            _attribute(
                "userName", "Unique name; the work email.", required=True, uniqueness="server"
            ),
            _attribute(
                "name",
                "The employee's name.",
                kind="complex",
                sub=[
                    _attribute("formatted", "The full name."),
                    _attribute("givenName", "Given name."),
                    _attribute("familyName", "Family name."),
                ],
            ),
            _attribute("displayName", "The name shown in reports."),
            _attribute(
                "emails",
                "The work email; the primary one is the employee's email.",
                kind="complex",
                multi=True,
                sub=[
                    _attribute("value", "The address."),
                    _attribute("type", "work."),
                    _attribute("primary", "The employee's email.", kind="boolean"),
                ],
            ),
            _attribute("active", "Takes part and may sign in.", kind="boolean"),
            _attribute("externalId", "The identity provider's id."),
        ],
        "meta": {"resourceType": "Schema", "location": f"{base}/scim/v2/Schemas/{USER_SCHEMA}"},
    }
    enterprise = {
        "schemas": [_SCHEMA_SCHEMA],
        "id": ENTERPRISE_SCHEMA,
        "name": "EnterpriseUser",
        "description": "Enterprise extension: the department becomes the employee's team.",
        "attributes": [_attribute("department", "The employee's team.")],
        "meta": {
            "resourceType": "Schema",
            "location": f"{base}/scim/v2/Schemas/{ENTERPRISE_SCHEMA}",
        },
    }
    return [user_schema, enterprise]


def _list(resources: list[dict[str, Any]]) -> Response:
    return scim_json(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(resources),
            "startIndex": 1,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


@scim.get("/Schemas")
def schemas() -> Response:
    return _list(_schemas())


@scim.get("/Schemas/<schema_id>")
def schema(schema_id: str) -> Response:
    for found in _schemas():
        if found["id"] == schema_id:
            return scim_json(found)
    return scim_error(404, f"No schema {schema_id}.")


def _resource_types() -> list[dict[str, Any]]:
    return [
        {
            "schemas": [_RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "Employees of the advocacy program.",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": False}],
            "meta": {
                "resourceType": "ResourceType",
                "location": _base_url() + "/scim/v2/ResourceTypes/User",
            },
        }
    ]


@scim.get("/ResourceTypes")
def resource_types() -> Response:
    return _list(_resource_types())


@scim.get("/ResourceTypes/<type_id>")
def resource_type(type_id: str) -> Response:
    for found in _resource_types():
        if found["id"] == type_id:
            return scim_json(found)
    return scim_error(404, f"No resource type {type_id}.")
