from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from checkrun.kit import answers
from checkrun.kit.auth import Db
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.oauth import service
from checkrun.oauth.service import OAuthError

router = APIRouter(route_class=UnitOfWorkRoute, tags=["oauth"])

FORM = "application/x-www-form-urlencoded"
# Token answers must not be cached (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# An OAuth 2 token response (RFC 6749 §5.1), not the Tallyfy envelope.
TOKEN_ANSWER = {
    "type": "object",
    "properties": {
        "token_type": {"type": "string"},
        "expires_in": {"type": "integer"},
        "access_token": {"type": "string"},
        "refresh_token": {"type": "string"},
    },
}


@router.post("/oauth/token")
@answers.raw(TOKEN_ANSWER)
async def token(request: Request, db: Db) -> JSONResponse:
    """No Bearer token or X-Tallyfy-Client needed; the body must be form-urlencoded."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type != FORM:
            raise OAuthError(
                400,
                "invalid_request",
                "The token request must be sent as application/x-www-form-urlencoded.",
                "Send the parameters as a form, not as JSON",
            )
        form = await request.form()
        fields = service.with_basic_client(
            {k: v for k, v in form.items() if isinstance(v, str)},
            request.headers.get("authorization", ""),
        )
        answer = await service.grant(db, request.app.state.settings, fields)
    except OAuthError as err:
        return JSONResponse(err.body(), status_code=err.status, headers=NO_STORE)
    return JSONResponse(answer, headers=NO_STORE)
