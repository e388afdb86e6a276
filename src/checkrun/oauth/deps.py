"""Who may call `/applications/{org_id}/users...`: an application token (client_credentials) of
that organization, or a member's own token (the service then requires an admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from checkrun.kit.auth import (
    EXPIRED,
    Actor,
    Db,
    bearer_token,
    current_actor,
    current_principal,
    hash_token,
    require_client_header,
)
from checkrun.kit.clock import now
from checkrun.kit.errors import forbidden, unauthenticated
from checkrun.kit.ratelimit import remember_token_owner
from checkrun.oauth.repository import OAuthRepository

APP_WRONG_ORG = "You don't have application's permissions for this organization!"


async def application_actor(request: Request, db: Db, org_id: Annotated[str, Path()]) -> Actor:
    digest = hash_token(bearer_token(request))
    repo = OAuthRepository(db)
    app = await repo.app_token(digest)
    if app is None:
        principal = await current_principal(request, db)
        return await current_actor(db, principal, org_id)
    if app.expires_at <= now():
        raise unauthenticated(EXPIRED)
    require_client_header(request)
    remember_token_owner(digest, f"app:{app.client_id}")
    if app.org_id != org_id:
        raise forbidden(APP_WRONG_ORG)
    # The application acts with an administrator's rights; records it creates name the
    # organization's default admin (else its longest-standing admin) as their author.
    admin = await repo.org_admin(org_id)
    if admin is None:
        raise forbidden("This organization has no active administrator to act for the application.")
    user, _ = admin
    return Actor.of(user, org_id, "admin")


ApplicationActor = Annotated[Actor, Depends(application_actor)]
