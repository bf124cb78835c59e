"""OpenID Connect sign-in as a relying party: the authorization code flow with PKCE.

Authlib's OAuth2 client builds the authorization request (state, nonce, S256 code challenge)
and exchanges the code; joserfc checks the ID token's signature against the provider's keys
and its issuer, audience, expiry and nonce. The provider's discovery document is cached.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

SCOPE = "openid email profile"
_TIMEOUT = 10.0
_DISCOVERY_SECONDS = 3600.0
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


class OidcError(Exception):
    """The provider could not be reached, or its answer did not verify; the message says which."""


@dataclass(frozen=True)
class OidcClient:
    issuer: str
    client_id: str
    client_secret: str
    provider_name: str


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser's session keeps between the redirect to the provider and the return."""

    state: str
    nonce: str
    code_verifier: str

    def to_dict(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "code_verifier": self.code_verifier}

    @classmethod
    def from_dict(cls, data: Any) -> PendingSignIn | None:
        if not isinstance(data, dict):
            return None
        values = [data.get(key) for key in ("state", "nonce", "code_verifier")]
        texts = [value for value in values if isinstance(value, str) and value]
        if len(texts) != len(values):
            return None
        return cls(*texts)


_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OidcError(f"The identity provider's {what} could not be read ({exc}).") from exc
    if not isinstance(data, dict):
        raise OidcError(f"The identity provider's {what} is not a JSON object.")
    return data


def discover(issuer: str) -> dict[str, Any]:
    """The provider's metadata from /.well-known/openid-configuration, cached for an hour."""
    issuer = issuer.rstrip("/")
    with _lock:
        cached = _discovered.get(issuer)
    if cached and time.monotonic() - cached[0] < _DISCOVERY_SECONDS:
        return cached[1]
    metadata = _get_json(issuer + "/.well-known/openid-configuration", "discovery document")
    if str(metadata.get("issuer", "")).rstrip("/") != issuer:
        raise OidcError(
            f"The discovery document names the issuer {metadata.get('issuer')!r}, not {issuer!r}."
        )
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise OidcError(f"The discovery document has no {key}.")
    with _lock:
        _discovered[issuer] = (time.monotonic(), metadata)
    return metadata


def _session(client: OidcClient, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client.client_id,
        client.client_secret,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


def start_sign_in(client: OidcClient, redirect_uri: str) -> tuple[str, PendingSignIn]:
    """Where to send the browser at the provider, and what to keep until it comes back."""
    metadata = discover(client.issuer)
    pending = PendingSignIn(generate_token(32), generate_token(32), generate_token(64))
    with _session(client, redirect_uri) as oauth:
        url, _state = oauth.create_authorization_url(
            metadata["authorization_endpoint"],
            state=pending.state,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
        )
    return url, pending


def finish_sign_in(
    client: OidcClient, redirect_uri: str, pending: PendingSignIn, params: dict[str, str]
) -> dict[str, Any]:
    """The verified claims of the person the provider sent back; OidcError otherwise."""
    if params.get("error"):
        detail = params.get("error_description") or params["error"]
        raise OidcError(f"The identity provider did not sign you in: {detail}")
    if params.get("state") != pending.state:
        raise OidcError("The sign-in answer does not belong to this browser's sign-in.")
    code = params.get("code")
    if not code:
        raise OidcError("The identity provider sent no authorization code.")
    metadata = discover(client.issuer)
    if "iss" in params and params["iss"].rstrip("/") != client.issuer.rstrip("/"):
        raise OidcError("The sign-in answer came from another identity provider.")
    try:
        with _session(client, redirect_uri) as oauth:
            token = oauth.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=pending.code_verifier
            )
    except (AuthlibBaseError, requests.RequestException, ValueError) as exc:
        raise OidcError(f"The authorization code could not be exchanged ({exc}).") from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise OidcError("The identity provider sent no ID token.")
    claims = verify_id_token(client, metadata, id_token, pending.nonce)
    if "email" not in claims and isinstance(metadata.get("userinfo_endpoint"), str):
        claims = {**_userinfo(metadata["userinfo_endpoint"], token, claims["sub"]), **claims}
    return claims


def verify_id_token(
    client: OidcClient, metadata: dict[str, Any], id_token: str, nonce: str
) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, expiry and nonce check out."""
    keys = KeySet.import_key_set(_get_json(metadata["jwks_uri"], "signing keys"))  # type: ignore[arg-type]
    try:
        decoded = jwt.decode(id_token, keys, algorithms=_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": client.client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise OidcError(f"The ID token did not verify ({exc}).") from exc
    claims = dict(decoded.claims)
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client.client_id:
        raise OidcError("The ID token was issued to another client.")
    return claims


def _userinfo(endpoint: str, token: dict[str, Any], subject: str) -> dict[str, Any]:
    try:
        response = requests.get(
            endpoint,
            timeout=_TIMEOUT,
            headers={"Authorization": f"Bearer {token.get('access_token', '')}"},
        )
        response.raise_for_status()
        info = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OidcError(f"The identity provider's user info could not be read ({exc}).") from exc
    if not isinstance(info, dict) or info.get("sub") != subject:
        raise OidcError("The user info belongs to someone other than the ID token's subject.")
    return info
