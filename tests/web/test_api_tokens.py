"""API tokens: stored hashed, listed and revoked from the command line, refused once revoked."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from linktracker.auth.models import ApiToken
from linktracker.auth.services import create_user
from tests.web.clients import PASSWORD


def test_tokens_are_stored_hashed_listed_and_revocable(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, session: Session
) -> None:
    create_user(session, "ops@example.com", "admin", PASSWORD)
    token = runner.invoke(args=["create-token", "ops@example.com"]).output.strip().splitlines()[-1]
    record = session.query(ApiToken).one()
    assert token not in (record.token_hash, record.prefix) and len(record.token_hash) == 64
    headers = {"Authorization": f"Bearer {token}"}
    body = {"name": "A", "email": "a@example.com"}
    assert client.post("/api/v1/employees", json=body, headers=headers).status_code == 201
    listing = runner.invoke(args=["list-tokens", "ops@example.com"])
    assert record.prefix in listing.output and "active" in listing.output
    assert token not in listing.output
    revoked = runner.invoke(args=["revoke-token", str(record.id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    response = client.post("/api/v1/employees", json=body | {"email": "b@example.com"},
                           headers=headers)  # fmt: skip
    assert response.status_code == 401
    assert "revoked" in response.json["error"]


def test_revoking_an_unknown_token_fails_clearly(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["revoke-token", "999"])
    assert result.exit_code != 0
    assert "No token with id 999" in result.output
