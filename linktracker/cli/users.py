"""`linktracker users …`: people who sign in, their API tokens, and SCIM tokens."""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup

from linktracker.auth.roles import ROLES
from linktracker.auth.services import (
    create_token,
    create_user,
    list_tokens,
    list_users,
    revoke_token,
)
from linktracker.cli.common import service_session
from linktracker.identity.scim import create_scim_token, list_scim_tokens, revoke_scim_token

users_group = AppGroup("users", help="Users who sign in, and their API tokens.")
token_group = AppGroup("token", help="A user's API tokens: issue, list, revoke.")
users_group.add_command(token_group)


@users_group.command(
    "create",
    help="Create a user who can sign in (roles: admin, marketer, sales_ops, employee).",
)
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--password",
    is_flag=False,
    flag_value="",
    default=None,
    help="Set this password; give the flag alone to be prompted; omit to generate one.",
)
def create_user_command(email: str, role: str, password: str | None) -> None:
    generated = password is None
    if password == "":
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    if password is None:
        password = secrets.token_urlsafe(12)
    with service_session() as session:
        user = create_user(session, email, role, password)
    click.echo(f"Created {user.role} {user.email}.")
    if generated:
        click.echo(f"Password: {password}")


@users_group.command("list", help="List the users: email, role, active or not, last sign-in.")
def list_users_command() -> None:
    with service_session() as session:
        users = list_users(session)
    click.echo(f"{'id':>5}  {'email':<40} {'role':<10} {'status':<9} last sign-in")
    for user in users:
        signed_in = f"{user.last_login_at:%Y-%m-%d %H:%M:%S}" if user.last_login_at else "-"
        status = "active" if user.active else "inactive"
        click.echo(f"{user.id:>5}  {user.email:<40} {user.role:<10} {status:<9} {signed_in}")


@token_group.command(
    "create",
    help="Issue an API token; the token is printed alone on the last line and never shown again.",
)
@click.argument("email")
@click.option("--name", default="", help="A label to recognise the token by.")
@click.option("--role", default=None, help="Scope the token to a lesser role than the user's.")
def create_token_command(email: str, name: str, role: str | None) -> None:
    with service_session() as session:
        issued = create_token(session, email, name, role)
    click.echo(f"Token for {email} (role {issued.record.role}); store it now:")
    click.echo(issued.token)


@token_group.command("list", help="List a user's API tokens (never the tokens themselves).")
@click.argument("email")
def list_tokens_command(email: str) -> None:
    with service_session() as session:
        tokens = list_tokens(session, email)
    click.echo(f"{'id':>5}  {'prefix':<12} {'role':<10} {'created':<20} {'last used':<20} status")
    for token in tokens:
        used = f"{token.last_used_at:%Y-%m-%d %H:%M:%S}" if token.last_used_at else "-"
        status = "revoked" if token.revoked_at else "active"
        click.echo(
            f"{token.id:>5}  {token.prefix:<12} {token.role:<10} "
            f"{token.created_at:%Y-%m-%d %H:%M:%S}  {used:<20} {status}"
        )


@token_group.command("revoke", help="Revoke an API token by its id (see `users token list`).")
@click.argument("token_id", type=int)
def revoke_token_command(token_id: int) -> None:
    with service_session() as session:
        token = revoke_token(session, token_id)
    click.echo(f"Token {token.id} ({token.prefix}…) is revoked.")


scim_token_group = AppGroup(
    "scim-token", help="SCIM tokens an identity provider provisions employees with."
)
users_group.add_command(scim_token_group)


@scim_token_group.command(
    "create",
    help="Issue a SCIM bearer token; the token is printed alone on the last line and never "
    "shown again.",
)
@click.option("--name", default="", help="A label to recognise the token by, e.g. okta.")
def create_scim_token_command(name: str) -> None:
    with service_session() as session:
        issued = create_scim_token(session, name)
    click.echo(
        f"SCIM token {issued.record.id} ({issued.record.prefix}…) for the base URL /scim/v2:"
    )
    click.echo(issued.token)


@scim_token_group.command("list", help="List the SCIM tokens (never the tokens themselves).")
def list_scim_tokens_command() -> None:
    with service_session() as session:
        tokens = list_scim_tokens(session)
    click.echo(f"{'id':>5}  {'prefix':<14} {'name':<20} {'created':<20} {'last used':<20} status")
    for token in tokens:
        used = f"{token.last_used_at:%Y-%m-%d %H:%M:%S}" if token.last_used_at else "-"
        status = "revoked" if token.revoked_at else "active"
        click.echo(
            f"{token.id:>5}  {token.prefix:<14} {token.name:<20} "
            f"{token.created_at:%Y-%m-%d %H:%M:%S}  {used:<20} {status}"
        )


@scim_token_group.command("revoke", help="Revoke a SCIM token by its id (see `list`).")
@click.argument("token_id", type=int)
def revoke_scim_token_command(token_id: int) -> None:
    with service_session() as session:
        token = revoke_scim_token(session, token_id)
    click.echo(f"SCIM token {token.id} ({token.prefix}…) is revoked.")
