"""The token endpoint's grants (password, refresh_token, client_credentials), close to what
Laravel Passport answers, and the operator's chores (clients, passwords) behind the CLI."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import Settings
from checkrun.kit import events
from checkrun.kit.auth import hash_token
from checkrun.kit.clock import now
from checkrun.members.models import User
from checkrun.members.repository import MembersRepository
from checkrun.members.service import issue_token
from checkrun.oauth.models import AppToken, OAuthClient, RefreshToken
from checkrun.oauth.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_secret_async,
    needs_rehash,
    verify_secret_async,
)
from checkrun.oauth.repository import OAuthRepository

APP_TOKEN_SECONDS = 604_800  # 7 days, as Tallyfy's client-credentials tokens
GRANTS = ("password", "refresh_token", "client_credentials")


class OAuthError(Exception):
    """An OAuth 2 error answer: `{"error", "error_description", "message", "hint"?}`."""

    def __init__(self, status: int, error: str, description: str, hint: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.hint = hint

    def body(self) -> dict[str, Any]:
        body = {
            "error": self.error,
            "error_description": self.description,
            "message": self.description,
        }
        if self.hint:
            body["hint"] = self.hint
        return body


def invalid_request(parameter: str) -> OAuthError:
    return OAuthError(
        400,
        "invalid_request",
        "The request is missing a required parameter, includes an invalid parameter value, "
        "includes a parameter more than once, or is otherwise malformed.",
        f"Check the `{parameter}` parameter",
    )


def unsupported_grant() -> OAuthError:
    return OAuthError(
        400,
        "unsupported_grant_type",
        "The authorization grant type is not supported by the authorization server.",
        "Check that all required parameters have been provided",
    )


def invalid_client() -> OAuthError:
    return OAuthError(401, "invalid_client", "Client authentication failed")


def invalid_credentials() -> OAuthError:
    return OAuthError(401, "invalid_grant", "The user credentials were incorrect.")


def invalid_refresh(hint: str) -> OAuthError:
    return OAuthError(401, "invalid_grant", "The refresh token is invalid.", hint)


def _required(form: Mapping[str, str], name: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise invalid_request(name)
    return value


def _check_scope(form: Mapping[str, str]) -> str:
    """There are no scopes: `*` (what the docs send) or nothing."""
    scope = (form.get("scope") or "").strip()
    if scope not in ("", "*"):
        raise OAuthError(
            400,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed",
            f"Check the `{scope}` scope",
        )
    return scope or "*"


async def _client(db: AsyncSession, form: Mapping[str, str]) -> OAuthClient:
    raw_id = _required(form, "client_id")
    if not raw_id.isdigit() or len(raw_id) > 18:
        raise invalid_client()
    client = await OAuthRepository(db).client(int(raw_id))
    secret = form.get("client_secret") or ""
    # The KDF runs even for an unknown client, so that timing tells nothing.
    ok = await verify_secret_async(secret, client.secret_hash if client else None)
    if client is None or not ok:
        raise invalid_client()
    if needs_rehash(client.secret_hash):
        client.secret_hash = await hash_secret_async(secret)
    return client


def with_basic_client(form: Mapping[str, str], authorization: str) -> dict[str, str]:
    """Client credentials may also come as HTTP Basic (RFC 6749 §2.3.1), as Passport allows;
    the form wins when it has them."""
    fields = dict(form)
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or "client_id" in fields:
        return fields
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid_client() from None
    client_id, _, secret = decoded.partition(":")
    fields.update(client_id=unquote_plus(client_id), client_secret=unquote_plus(secret))
    return fields


async def grant(db: AsyncSession, settings: Settings, form: Mapping[str, str]) -> dict[str, Any]:
    kind = (form.get("grant_type") or "").strip()
    if kind not in GRANTS:
        raise unsupported_grant()
    client = await _client(db, form)
    if kind == "password":
        return await _password(db, settings, client, form)
    if kind == "refresh_token":
        return await _refresh(db, settings, client, form)
    return await _client_credentials(db, client, form)


async def _password(
    db: AsyncSession, settings: Settings, client: OAuthClient, form: Mapping[str, str]
) -> dict[str, Any]:
    username = _required(form, "username")
    password = form.get("password") or ""
    if not password:
        raise invalid_request("password")
    _check_scope(form)
    user = await OAuthRepository(db).active_member(client.org_id, username)
    ok = await check_user_password(db, user.id if user else None, password)
    if user is None or not ok:
        raise invalid_credentials()
    return await _user_tokens(db, settings, client, user.id)


async def check_user_password(db: AsyncSession, user_id: int | None, password: str) -> bool:
    """True when `password` is the user's (the password grant, the web app's sign-in). A hash
    in an older scheme (scrypt) or with older parameters is replaced, in the caller's
    transaction, by a current one. The KDF runs without a user too, so that timing tells
    nothing."""
    repo = OAuthRepository(db)
    stored = await repo.password_of(user_id) if user_id is not None else None
    ok = await verify_secret_async(password, stored.password_hash if stored else None)
    if not ok or stored is None:
        return False
    if needs_rehash(stored.password_hash):
        stored.password_hash = await hash_secret_async(password)
        await db.flush()
    return True


async def _user_tokens(
    db: AsyncSession, settings: Settings, client: OAuthClient, user_id: int
) -> dict[str, Any]:
    user = await db.get(User, user_id)
    assert user is not None
    ttl = settings.oauth_access_token_seconds
    access = await issue_token(db, user, client.org_id, ttl)
    refresh = "ckrr_" + secrets.token_urlsafe(48)
    OAuthRepository(db).add(
        RefreshToken(
            token_hash=hash_token(refresh),
            client_id=client.id,
            user_id=user.id,
            org_id=client.org_id,
            access_token_hash=hash_token(access),
            expires_at=now() + timedelta(seconds=settings.oauth_refresh_token_seconds),
        )
    )
    await db.flush()
    return {
        "token_type": "Bearer",
        "expires_in": ttl,
        "access_token": access,
        "refresh_token": refresh,
    }


async def _refresh(
    db: AsyncSession, settings: Settings, client: OAuthClient, form: Mapping[str, str]
) -> dict[str, Any]:
    presented = _required(form, "refresh_token")
    _check_scope(form)
    repo = OAuthRepository(db)
    token = await repo.refresh_token(hash_token(presented))
    moment = now()
    if token is None or token.client_id != client.id:
        raise invalid_refresh(
            "Cannot decrypt the refresh token" if token is None else "Token is not linked to client"
        )
    if token.revoked_at is not None:
        raise invalid_refresh("Token has been revoked")
    if token.expires_at <= moment:
        raise invalid_refresh("Token has expired")
    if not await repo.is_active_member(token.org_id, token.user_id):
        raise invalid_credentials()
    # Rotation, as Passport does: the old refresh token and its access token stop working.
    token.revoked_at = moment
    await repo.revoke_access_token(token.access_token_hash, moment)
    return await _user_tokens(db, settings, client, token.user_id)


async def _client_credentials(
    db: AsyncSession, client: OAuthClient, form: Mapping[str, str]
) -> dict[str, Any]:
    scope = _check_scope(form)
    token = "ckra_" + secrets.token_urlsafe(32)
    OAuthRepository(db).add(
        AppToken(
            token_hash=hash_token(token),
            client_id=client.id,
            org_id=client.org_id,
            scope=scope,
            expires_at=now() + timedelta(seconds=APP_TOKEN_SECONDS),
        )
    )
    await db.flush()
    return {"token_type": "Bearer", "expires_in": APP_TOKEN_SECONDS, "access_token": token}


# --- operator chores (CLI) -----------------------------------------------------------------


@dataclass(frozen=True)
class NewClient:
    client_id: int
    client_secret: str
    org_id: str
    name: str


async def _org_id(db: AsyncSession, org_id: str | None, org_name: str | None) -> str:
    repo = OAuthRepository(db)
    if org_id:
        if await repo.org(org_id) is None:
            raise LookupError(f"no organization with id {org_id}")
        return org_id
    found = await repo.orgs_named(org_name or "")
    if len(found) != 1:
        raise LookupError(f"{len(found)} organizations are named {org_name!r}; use --org-id")
    return found[0].id


async def create_client(
    db: AsyncSession, org_id: str | None, org_name: str | None, name: str
) -> NewClient:
    target = await _org_id(db, org_id, org_name)
    secret = secrets.token_urlsafe(30)
    client = OAuthClient(org_id=target, name=name, secret_hash=await hash_secret_async(secret))
    OAuthRepository(db).add(client)
    await db.flush()
    await events.emit(
        db,
        events.Event(
            org_id=target,
            type="Organization",
            verb="updated",
            entity_type="organization",
            entity_id=target,
            source="System",
            description=f"OAuth client {client.id} created",
            extra={"oauth_client_id": client.id},
        ),
    )
    return NewClient(client.id, secret, target, name)


async def revoke_client(db: AsyncSession, client_id: int) -> None:
    repo = OAuthRepository(db)
    client = await repo.client(client_id)
    if client is None:
        raise LookupError(f"no active OAuth client {client_id}")
    await repo.revoke_client(client_id, now())
    await events.emit(
        db,
        events.Event(
            org_id=client.org_id,
            type="Organization",
            verb="updated",
            entity_type="organization",
            entity_id=client.org_id,
            source="System",
            description=f"OAuth client {client_id} revoked",
            extra={"oauth_client_id": client_id},
        ),
    )


async def set_password(db: AsyncSession, email: str, password: str) -> int:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    user = await MembersRepository(db).user_by_email(email)
    if user is None:
        raise LookupError(f"no user with email {email}")
    await OAuthRepository(db).set_password(user.id, await hash_secret_async(password))
    membership = await MembersRepository(db).first_membership(user.id)
    if membership is not None:
        await events.emit(
            db,
            events.Event(
                org_id=membership.org_id,
                type="User",
                verb="updated",
                entity_type="user",
                entity_id=str(user.id),
                source="System",
                description="Password set",
                field="password",
            ),
        )
    return user.id
